#!/usr/bin/env node
// The layer rule of src/ (CONTRIBUTING.md): imports point down, and no file imports itself back.
//   ui/ → queue/ → tabs/ → runner/ → store/, pool/ → shared/;   worker/ → shared/;   src/*.ts (entries) → any
// Reads every import and export-from (type-only ones too) of src/**/*.ts; exits 1 on a violation.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const src = fileURLToPath(new URL('../src/', import.meta.url))
/** What each layer may import besides itself. @type {Record<string, string[]>} */
const ALLOWED = {
  shared: [],
  store: ['shared'],
  pool: ['shared'],
  runner: ['store', 'pool', 'shared'],
  tabs: ['runner', 'store', 'pool', 'shared'],
  queue: ['tabs', 'runner', 'store', 'pool', 'shared'],
  worker: ['shared'],
  // UI bindings (offthread/react, offthread/inspector): the public queue, nothing below it.
  ui: ['queue', 'shared'],
}

/** @type {string[]} */
const files = []
/** @param {string} dir */
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path)
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) files.push(relative(src, path))
  }
}
walk(src)

/** @param {string} file */
const layerOf = (file) => (file.includes('/') ? (file.split('/')[0] ?? 'entry') : 'entry')
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g

/** @type {Map<string, string[]>} */
const graph = new Map()
/** @type {string[]} */
const problems = []
for (const file of files) {
  const text = readFileSync(join(src, file), 'utf8')
  const targets = []
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[1] ?? match[2] ?? ''
    const target = normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts')
    if (target.startsWith('..')) continue
    targets.push(target)
    const from = layerOf(file)
    const to = layerOf(target)
    if (from === 'entry' || from === to) continue
    if (to === 'entry') problems.push(`${file} imports the entry ${target}: entries are for users, not layers`)
    else if (!ALLOWED[from]?.includes(to))
      problems.push(
        `${file} (${from}/) imports ${target} (${to}/): ${from}/ may import ${ALLOWED[from]?.length ? `${ALLOWED[from]?.join(', ')} only` : 'nothing from another layer'}`,
      )
  }
  graph.set(file, targets)
}

// Cycles: depth-first search, reporting each cycle once.
/** @type {Map<string, 'open' | 'done'>} */
const state = new Map()
/** @type {string[]} */
const stack = []
const seen = new Set()
/** @param {string} file */
const visit = (file) => {
  state.set(file, 'open')
  stack.push(file)
  for (const next of graph.get(file) ?? []) {
    if (!graph.has(next)) continue
    if (state.get(next) === 'open') {
      const cycle = stack.slice(stack.indexOf(next)).concat(next)
      const key = [...cycle].sort().join()
      if (!seen.has(key)) {
        seen.add(key)
        problems.push(`import cycle: ${cycle.join(' → ')}`)
      }
    } else if (!state.has(next)) visit(next)
  }
  stack.pop()
  state.set(file, 'done')
}
for (const file of files) if (!state.has(file)) visit(file)

if (problems.length > 0) {
  console.error(`check-layers: ${problems.length} problem(s) in src/ (the rule: CONTRIBUTING.md, "Layers")`)
  for (const problem of problems) console.error(`  ${problem}`)
  process.exit(1)
}
console.log(`check-layers: ${files.length} files, imports point down, no cycles`)
