/**
 * The Node, Deno and Bun conformance runs test the BUILT package (dist/).
 * `npm test` on a fresh clone must pass too, so build it here when dist/ is
 * missing or older than src/. A lock directory keeps two test files (which
 * Vitest runs in parallel) from building at once.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sleep } from '../../helpers/sleep.js'

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const dist = join(repoRoot, 'dist')
const lock = join(repoRoot, 'node_modules', '.offthread-build.lock')
const NEEDED = ['index.js', 'worker.js', 'store.js', 'node.js', 'node-bootstrap.js', 'sqlite.js', 'react.js', 'vue.js']

function newestSource(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs)
  }
  return newest
}

function stale(): boolean {
  if (NEEDED.some((file) => !existsSync(join(dist, file)))) return true
  const built = Math.min(...NEEDED.map((file) => statSync(join(dist, file)).mtimeMs))
  return newestSource(join(repoRoot, 'src')) > built
}

/** Builds dist/ with `tsc -p tsconfig.build.json` unless it is up to date. */
export async function ensureDist(): Promise<void> {
  if (!stale()) return
  const deadline = Date.now() + 120_000
  for (;;) {
    try {
      mkdirSync(lock)
      break
    } catch {
      // Another test file is building: wait for it, then look again.
      if (Date.now() > deadline) throw new Error(`ensureDist: ${lock} held for 2 minutes; remove it if no build runs`)
      await sleep(100)
    }
  }
  try {
    if (stale()) {
      execFileSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
        cwd: repoRoot,
        stdio: 'pipe',
      })
    }
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}
