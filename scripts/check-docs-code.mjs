// Type-checks the code blocks of the docs site against the package, as `npm run docs:build` and CI do.
//
// Every ```ts, ```tsx and ```js block of every page under docs/ (not the generated docs/api/) is written
// to a file of its own and type-checked with tsc (the TypeScript API), `offthread` and its subpaths
// resolved to src/ (so no build is needed, and the docs follow the sources). ```svelte blocks are
// checked whole, markup included, as svelte-check does (svelte2tsx); ```vue blocks (none yet: the Vue
// examples are `h()` in ts blocks) only by their <script lang="ts">.
//
// Per block:
// - a first line `// name.ts: …` (or .tsx, .js; the colon counts) names its file, so the blocks of a page can import
//   each other (`import type { Tasks } from './tasks.worker'`); else the file is `block-<line>.<ext>`.
// - `docs/.checks/<page>/prelude.ts`, if it exists, is put before every ts/tsx block of the page: what
//   the fragments use but do not declare (a `queue`, the `Tasks` type, helper functions). The block's
//   own lines keep their numbers in error messages.
// - `docs/.checks/_shared/` (the example app's tasks.worker.ts, helpers) and the other files of
//   `docs/.checks/<page>/` are copied beside the blocks; a block named like one of them replaces it.
// - an HTML comment right before the fence changes that: `<!-- check: no-prelude -->` (a block that
//   declares what the prelude would), `<!-- check: prelude=NAME -->` (docs/.checks/<page>/NAME.ts
//   instead), `<!-- check: skip REASON -->` (not checked; listed on every run).
//
// noUnusedLocals/noUnusedParameters are off (an example may declare what it only shows); every other
// option is the repository's tsconfig.json. Exits 1 on any error, printed as docs/<page>.md:<line>.
// It also fails on a relative link of README.md to a file that does not exist, and with --anchors on
// a link of the built site to an anchor its page lacks.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { svelte2tsx } from 'svelte2tsx'
import ts from 'typescript'

const root = fileURLToPath(new URL('..', import.meta.url))
const docs = join(root, 'docs')
const checks = join(docs, '.checks')
const shared = join(checks, '_shared')
const out = join(root, 'node_modules/.cache/offthread-docs-check')
const CHECKED = new Set(['ts', 'tsx', 'js', 'vue', 'svelte'])
const ENTRIES = ['index', 'worker', 'store', 'testing', 'node', 'react', 'vue', 'inspector', 'sqlite']

/** @param {string} dir @returns {string[]} */
function pages(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (name.startsWith('.') || name === 'api' || name === 'node_modules') return []
    if (statSync(path).isDirectory()) return pages(path)
    return name.endsWith('.md') ? [path] : []
  })
}

/**
 * The checkable blocks of a page.
 * @param {string} text
 * @returns {{ lang: string, line: number, code: string, directive: string }[]}
 */
function blocks(text) {
  const lines = text.split('\n')
  const found = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})(\w*)/.exec(lines[i] ?? '')
    if (!open) continue
    const [, indent = '', fence = '```', lang = ''] = open
    let end = i + 1
    while (end < lines.length && !(lines[end] ?? '').startsWith(`${indent}${fence}`)) end++
    let before = i - 1
    while (before >= 0 && (lines[before] ?? '').trim() === '') before--
    const directive = /^\s*<!--\s*check:\s*(.*?)\s*-->\s*$/.exec(lines[before] ?? '')?.[1] ?? ''
    const code = lines.slice(i + 1, end).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
    if (CHECKED.has(lang)) found.push({ lang, line: i + 2, code: code.join('\n'), directive })
    i = end
  }
  return found
}

/**
 * The <script lang="ts"> of a .vue or .svelte block, and the line it starts on within the block.
 * @param {string} code
 */
function scriptOf(code) {
  const match = /<script[^>]*lang="ts"[^>]*>\n([\s\S]*?)<\/script>/.exec(code)
  if (!match) return undefined
  return { code: match[1] ?? '', offset: code.slice(0, match.index).split('\n').length }
}

rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
/** generated file → { page, first line of the block's code in the page, lines put before it } */
const origin = new Map()
const skipped = []
let count = 0
for (const page of pages(docs)) {
  const rel = relative(docs, page).replace(/\.md$/, '')
  const dir = join(out, rel)
  mkdirSync(dir, { recursive: true })
  const extras = join(checks, rel)
  /** @param {string} name */
  const prelude = (name) => {
    const file = join(extras, `${name}.ts`)
    if (existsSync(file)) return readFileSync(file, 'utf8').trimEnd() + '\n'
    if (name === 'prelude') return ''
    throw new Error(`check-docs-code: docs/${rel}.md asks for docs/.checks/${rel}/${name}.ts, which does not exist`)
  }
  cpSync(shared, dir, { recursive: true })
  if (existsSync(extras)) cpSync(extras, dir, { recursive: true, filter: (src) => !/prelude[\w-]*\.ts$/.test(src) })
  for (const block of blocks(readFileSync(page, 'utf8'))) {
    const where = `docs/${rel}.md:${block.line}`
    if (block.directive.startsWith('skip')) {
      skipped.push(`${where} (${block.lang}): ${block.directive.replace(/^skip\s*/, '') || 'no reason given'}`)
      continue
    }
    let code = block.code
    let line = block.line
    let ext = block.lang
    let head = ''
    if (block.lang === 'svelte') {
      // svelte2tsx (what svelte-check runs) turns the component, markup included, into TypeScript.
      const file = join(dir, `block-${block.line}.svelte.ts`)
      const component = svelte2tsx(block.code, { filename: `block-${block.line}.svelte`, isTsFile: true, mode: 'ts' })
      writeFileSync(file, component.code)
      origin.set(file, { page: `docs/${rel}.md`, line: block.line, before: 0, generated: true })
      count++
      continue
    }
    if (block.lang === 'vue') {
      const script = scriptOf(block.code)
      if (!script) {
        skipped.push(`${where} (${block.lang}): no <script lang="ts"> to check`)
        continue
      }
      code = script.code
      line += script.offset
      ext = 'ts'
    }
    const preludeName = /^prelude=([\w-]+)$/.exec(block.directive)?.[1] ?? 'prelude'
    if (ext !== 'js' && block.directive !== 'no-prelude') head = prelude(preludeName) + head
    const named = /^\/\/ ([\w.-]+\.(?:ts|tsx|js)):/.exec(code)?.[1]
    const file = join(dir, named ?? `block-${block.line}.${ext}`)
    writeFileSync(file, head + code + '\n')
    origin.set(file, { page: `docs/${rel}.md`, line, before: head ? head.split('\n').length - 1 : 0 })
    count++
  }
}

const paths = Object.fromEntries(ENTRIES.map((entry) => [entry === 'index' ? 'offthread' : `offthread/${entry}`, [join(root, `src/${entry}.ts`)]]))
writeFileSync(
  join(out, 'tsconfig.json'),
  JSON.stringify({
    extends: join(root, 'tsconfig.json'),
    compilerOptions: { noUnusedLocals: false, noUnusedParameters: false, paths },
    include: [
      './**/*',
      join(root, 'src/**/*.d.ts'),
      join(root, 'node_modules/svelte2tsx/svelte-shims-v4.d.ts'),
      join(root, 'node_modules/svelte2tsx/svelte-jsx-v4.d.ts'),
    ],
  }),
)
const config = ts.getParsedCommandLineOfConfigFile(join(out, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })
if (!config) throw new Error('check-docs-code: cannot read the generated tsconfig.json')
const program = ts.createProgram({ rootNames: config.fileNames, options: config.options })
const diagnostics = ts.getPreEmitDiagnostics(program)

for (const diagnostic of diagnostics) {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n  ')
  if (!diagnostic.file || diagnostic.start === undefined) {
    console.error(`error TS${diagnostic.code}: ${message}`)
    continue
  }
  const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
  const from = origin.get(diagnostic.file.fileName)
  const where = from
    ? line < from.before
      ? `docs/.checks/${relative(out, dirname(diagnostic.file.fileName))}/prelude (for ${from.page}), line ${line + 1}`
      : from.generated
        ? `${from.page}:${from.line} (the svelte block: line ${line + 1} of what svelte2tsx made of it)`
        : `${from.page}:${from.line + line - from.before}`
    : relative(root, diagnostic.file.fileName) + `:${line + 1}`
  console.error(`${where}: error TS${diagnostic.code}: ${message}`)
}
// The README is read on GitHub and npm, outside the site: its relative links (into docs/, to repository
// files) are checked here, as VitePress checks the site's own.
const readme = readFileSync(join(root, 'README.md'), 'utf8')
let deadLinks = 0
for (const [, target = ''] of readme.matchAll(/\]\(([^)\s]+)\)/g)) {
  if (/^[a-z]+:|^#/.test(target)) continue
  if (!existsSync(join(root, target.split('#')[0] ?? ''))) {
    console.error(`README.md: dead link ${target}`)
    deadLinks++
  }
}
// With --anchors (npm run docs:build, after `vitepress build`): every link of the built site to an
// anchor (`/guide/tabs#where-web-locks-are-missing`, `#cause` in an API page) must find that id on its
// page. VitePress fails on a link to a missing page, not on a missing heading.
let deadAnchors = 0
if (process.argv.includes('--anchors')) {
  const dist = join(docs, '.vitepress/dist')
  /** @param {string} dir @returns {string[]} */
  const html = (dir) =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name)
      return statSync(path).isDirectory() ? html(path) : path.endsWith('.html') ? [path] : []
    })
  /** @param {string} file */
  const pathOf = (file) =>
    '/' +
    relative(dist, file)
      .replace(/\.html$/, '')
      .replace(/(^|\/)index$/, '$1')
  const files = html(dist)
  const ids = new Map(files.map((file) => [pathOf(file), new Set([...readFileSync(file, 'utf8').matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]))]))
  let links = 0
  for (const file of files) {
    for (const [, href = ''] of readFileSync(file, 'utf8').matchAll(/href="([^"]*#[^"]+)"/g)) {
      if (/^[a-z]+:/.test(href)) continue
      const url = new URL(href.replaceAll('&amp;', '&'), `http://site${pathOf(file)}`)
      const path = url.pathname.replace(/\.html$/, '')
      const found = ids.get(path) ?? ids.get(path.replace(/\/$/, '')) ?? ids.get(`${path}/`)
      links++
      if (found?.has(decodeURIComponent(url.hash.slice(1)))) continue
      console.error(`docs/.vitepress/dist/${relative(dist, file)}: dead anchor ${href}${found ? '' : ' (no such page)'}`)
      deadAnchors++
    }
  }
  console.log(`check-docs-code: ${links} anchor links of the built site checked`)
}
for (const skip of skipped) console.log(`skipped ${skip}`)
const errors = diagnostics.length + deadLinks + deadAnchors
console.log(`check-docs-code: ${count} blocks type-checked, ${skipped.length} skipped, ${errors} error${errors === 1 ? '' : 's'}`)
process.exitCode = errors > 0 ? 1 : 0
