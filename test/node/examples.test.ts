/**
 * examples/sqlite-server on Bun and Deno (devDependencies `bun` and `deno`), run as its
 * comment says: a job added over HTTP runs in the server's worker and its result is read
 * back over HTTP; the jobs are in one SQLite file.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ensureDist, repoRoot } from './helpers/ensure-dist.js'
import { until } from '../helpers/until.js'

const running: ChildProcess[] = []
afterEach(() => {
  for (const child of running.splice(0)) child.kill('SIGKILL')
})

let ports = 0
describe('examples/sqlite-server', () => {
  it.each([
    ['bun', ['examples/sqlite-server/server.ts']],
    [
      'deno',
      ['run', '--allow-read', '--allow-write', '--allow-env', '--allow-net', '--allow-run', '--allow-sys', 'examples/sqlite-server/server.ts'],
    ],
  ] as const)(
    '%s: POST /jobs adds a report job, GET /jobs/:id gives its result',
    async (bin, args) => {
      await ensureDist()
      const dir = mkdtempSync(join(tmpdir(), 'offthread-example-'))
      const port = 18_700 + (process.pid % 200) + ++ports
      const child = spawn(join(repoRoot, 'node_modules/.bin', bin), [...args], {
        cwd: repoRoot,
        env: { ...process.env, PORT: String(port), DB: join(dir, 'reports.db') },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      running.push(child)
      let output = ''
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
      try {
        await until(() => output.includes('listening on'), `the server to listen (${output})`, 30_000)
        const base = `http://127.0.0.1:${port}`
        const added = (await (await fetch(`${base}/jobs`, { method: 'POST', body: 'To be, or not to be: that is the question. To be!' })).json()) as {
          id: string
        }
        expect(added.id).toMatch(/^[\w-]+$/)
        let job: { status?: string; result?: unknown } = {}
        await until(
          async () => {
            job = (await (await fetch(`${base}/jobs/${added.id}`)).json()) as typeof job
            return job.status === 'completed'
          },
          'the job to complete',
          30_000,
        )
        expect(job.result).toEqual({
          words: 12,
          top: [
            ['be', 3],
            ['to', 3],
            ['is', 1],
          ],
        })
        expect((await fetch(`${base}/jobs/nope`)).status).toBe(404)
        expect((await fetch(`${base}/jobs`, { method: 'POST', body: '' })).status).toBe(400)
      } finally {
        child.kill('SIGTERM')
        rmSync(dir, { recursive: true, force: true })
      }
    },
    70_000,
  )
})
