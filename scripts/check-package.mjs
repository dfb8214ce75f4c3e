// The package as npm would publish it, checked (in .ci/run, after the build):
// 1. `npm pack`: the tarball holds package.json, README.md, LICENSE and dist/, nothing else
//    (no sources, tests, maps of files not shipped, or stray build output);
// 2. publint --strict: package.json's fields and exports point at files that exist, in the
//    formats they claim (its warnings fail too);
// 3. arethetypeswrong (attw) on the tarball, profile esm-only: every entry resolves to
//    types and JavaScript under `node16` (ESM) and `bundler` resolution. The package is
//    ESM only (no `require`), so the two resolutions of CommonJS callers are not checked:
//    `node10` (which knows no `exports`, so no subpath resolves) and `node16` from CJS
//    (a `require` of an ES module: Node needs a dynamic `import()` there).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** @param {string} command @param {string[]} args @returns {string} */
const run = (command, args) => execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
const dir = mkdtempSync(join(tmpdir(), 'offthread-pack-'))
let failed = false
/** @param {string} message */
const fail = (message) => {
  console.error(`check-package: ${message}`)
  failed = true
}

try {
  /** @type {Array<{ filename: string; size: number; files: Array<{ path: string }> }>} */
  const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir]))
  if (!packed) throw new Error('npm pack packed nothing')
  const files = packed.files.map((f) => f.path).sort()
  /** @param {string} path */
  const allowed = (path) => path === 'package.json' || path === 'README.md' || path === 'LICENSE' || path.startsWith('dist/')
  const stray = files.filter((path) => !allowed(path))
  if (stray.length > 0) fail(`the tarball holds files it should not: ${stray.join(', ')}`)
  for (const must of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'dist/worker.js']) {
    if (!files.includes(must)) fail(`the tarball lacks ${must}`)
  }
  const maps = files.filter((path) => path.endsWith('.map'))
  if (maps.length > 0) fail(`the tarball holds source maps of sources it does not ship: ${maps.slice(0, 3).join(', ')}…`)
  if (stray.length === 0)
    console.log(
      `check-package: ${files.length} files in ${packed.filename} (${(packed.size / 1024).toFixed(1)} kB packed): package.json, README.md, LICENSE and dist/ only`,
    )

  try {
    console.log(run('npx', ['--no-install', 'publint', '--strict']).trim())
  } catch (error) {
    fail(`publint found problems:\n${/** @type {{ stdout?: string; message: string }} */ (error).stdout ?? String(error)}`)
  }
  try {
    const out = run('npx', ['--no-install', 'attw', join(dir, packed.filename), '--profile', 'esm-only', '--format', 'table-flipped'])
    console.log(out.trim().split('\n').slice(-20).join('\n'))
  } catch (error) {
    fail(`arethetypeswrong found problems:\n${/** @type {{ stdout?: string; message: string }} */ (error).stdout ?? String(error)}`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
if (failed) process.exit(1)
console.log('check-package: the package checks clean (npm pack list, publint --strict, attw esm-only)')
