/**
 * The conformance suite on Deno and Bun (devDependencies `deno` and `bun`):
 * each runs test/conformance/run-<runtime>.js against dist/ with its own
 * module Web Workers and prints `N passed, M failed` last.
 */
import { execFile } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { conformanceCases } from '../conformance/suite.js'
import { ensureDist, repoRoot } from './helpers/ensure-dist.js'

const CASES = conformanceCases({ lib: {}, makeQueue: () => undefined, assert: {} }).length

function run(bin: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(
      bin.startsWith('/') ? bin : join(repoRoot, 'node_modules/.bin', bin),
      args,
      { cwd: repoRoot, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? ((error as { code?: number }).code ?? null) : 0
        resolve({ code: typeof code === 'number' ? code : null, output: `${stdout}${stderr}` })
      },
    )
  })
}

beforeAll(ensureDist, 120_000)

describe('conformance on other runtimes', () => {
  it.each([
    ['deno', ['run', '--allow-read', '--allow-env', 'test/conformance/run-deno.js']],
    ['bun', ['test/conformance/run-bun.js']],
  ] as const)(
    '%s runs every case',
    async (bin, args) => {
      const { code, output } = await run(bin, [...args])
      const last = output.trim().split('\n').at(-1)
      expect(last, output).toBe(`${CASES} passed, 0 failed`)
      expect(code, output).toBe(0)
    },
    70_000,
  )
})

describe("the README's runtime examples, run as written", () => {
  it.each([
    ['node', ['test/runtimes/node.js']],
    ['deno', ['run', '--allow-read', '--allow-env', 'test/runtimes/deno-bun.js']],
    ['bun', ['test/runtimes/deno-bun.js']],
    // sqliteStore('./jobs.db'): a file in the working directory (the repo), removed before and after.
    ['deno', ['run', '--allow-read', '--allow-write', '--allow-env', '--allow-run', '--allow-sys', 'test/runtimes/sqlite.js']],
    ['bun', ['test/runtimes/sqlite.js']],
  ] as const)(
    '%s prints the result: %j',
    async (bin, args) => {
      const removeDb = (): void => {
        for (const file of ['jobs.db', 'jobs.db-wal', 'jobs.db-shm']) rmSync(join(repoRoot, file), { force: true })
      }
      removeDb()
      try {
        const { code, output } = await run(bin === 'node' ? process.execPath : bin, [...args])
        expect(output).toContain('result 42')
        expect(code, output).toBe(0)
      } finally {
        removeDb()
      }
    },
    70_000,
  )
})
