/**
 * sqliteStore (offthread/sqlite) on Deno and Bun, whose built-in SQLite it uses;
 * each case runs both runtimes at once (child processes of the devDependencies
 * `deno` and `bun`, against dist/):
 * - the Store contract of test/node/store.test.ts (Bun's test runner takes its
 *   Vitest imports as they are; Deno runs it through test/sqlite/vitest-shim.js);
 * - the conformance suite (test/conformance/suite.js) on a sqlite file;
 * - its lease and its errors (test/sqlite/lease-and-errors.js);
 * - a process killed (SIGKILL) mid-job and started again;
 * - two processes on one file: one runner, a follower that takes over when it is killed.
 * Node 20 (CI's) has no node:sqlite: the last case says so and checks the error it gives.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { conformanceCases } from '../conformance/suite.js'
import { ensureDist, repoRoot } from './helpers/ensure-dist.js'
import { hasSqlite } from './helpers/stores.js'

const CASES = conformanceCases({ lib: {}, makeQueue: () => undefined, assert: {} }).length
/** Deno's permissions for these scripts: files, env; run and sys let the lease see that a holder's pid is gone. */
const DENO = ['run', '--allow-read', '--allow-write', '--allow-env', '--allow-run', '--allow-sys']
const RUNTIMES = ['deno', 'bun'] as const
type Runtime = (typeof RUNTIMES)[number]
/** The lease's ttl in the process scripts (their `runnerTimeout`), and how often a follower tries to take it. */
const TTL = 1500
const POLL = Math.min(TTL / 4, 1000)

const children = new Set<ChildProcess>()
let dir = ''

beforeAll(async () => {
  await ensureDist()
  dir = mkdtempSync(join(tmpdir(), 'offthread-sqlite-runtimes-'))
}, 120_000)

afterAll(() => {
  for (const child of children) child.kill('SIGKILL')
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** A runtime's own binary (not an npx wrapper: a SIGKILL must reach the runtime). */
const bin = (runtime: Runtime): string => join(repoRoot, 'node_modules/.bin', runtime)
const script = (runtime: Runtime, file: string, ...args: string[]): string[] => (runtime === 'deno' ? [...DENO, file, ...args] : [file, ...args])

/** A started process whose output lines can be awaited. */
function start(
  runtime: Runtime,
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; output: () => string; line: (prefix: string, timeout?: number) => Promise<string>; exited: Promise<number | null> } {
  const child = spawn(bin(runtime), args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let text = ''
  const waiters = new Set<() => void>()
  const onData = (chunk: Buffer): void => {
    text += chunk.toString()
    for (const waiter of waiters) waiter()
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      children.delete(child)
      for (const waiter of waiters) waiter()
      resolve(code)
    }),
  )
  const line = (prefix: string, timeout = 20_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`${runtime}: no line "${prefix}…" in ${timeout} ms; output:\n${text}`)), timeout)
      const check = (): void => {
        const found = text.split('\n').find((l) => l.startsWith(prefix))
        if (found !== undefined) done(undefined, found)
        else if (child.exitCode !== null || child.signalCode !== null) done(new Error(`${runtime} exited before "${prefix}…"; output:\n${text}`))
      }
      const done = (error?: Error, found?: string): void => {
        clearTimeout(timer)
        waiters.delete(check)
        if (error) reject(error)
        else resolve(found as string)
      }
      waiters.add(check)
      check()
    })
  return { child, output: () => text, line, exited }
}

/** Runs a script to its end; resolves with its exit code and output. */
async function run(runtime: Runtime, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const started = start(runtime, args, env)
  const timer = setTimeout(() => started.child.kill('SIGKILL'), 60_000)
  const code = await started.exited
  clearTimeout(timer)
  return { code, output: started.output() }
}

/** Both runtimes at once. */
const both = <T>(body: (runtime: Runtime) => Promise<T>): Promise<T[]> => Promise.all(RUNTIMES.map(body))

describe('sqliteStore on Deno and Bun', () => {
  it('passes the Store contract of test/node/store.test.ts', async () => {
    const env = (runtime: Runtime): Record<string, string> => ({
      OFFTHREAD_STORES: 'sqliteStore',
      OFFTHREAD_SQLITE_DIR: mkdtempSync(join(dir, `contract-${runtime}-`)),
    })
    const [deno, bun] = await Promise.all([
      run(
        'deno',
        [
          ...DENO,
          '--sloppy-imports',
          '--import-map=test/sqlite/deno-import-map.json',
          'test/sqlite/run-vitest-file.js',
          'test/node/store.test.ts',
          'sqliteStore',
        ],
        env('deno'),
      ),
      run('bun', ['test', './test/node/store.test.ts', '-t', 'sqliteStore'], env('bun')),
    ])
    const denoLast = deno?.output.trim().split('\n').at(-1) ?? ''
    expect(denoLast, deno?.output).toMatch(/^\d+ passed, 0 failed$/)
    expect(Number(denoLast.split(' ')[0]), deno?.output).toBeGreaterThanOrEqual(60)
    expect(deno?.code, deno?.output).toBe(0)
    // Bun's runner: " N pass", " 0 fail".
    const passed = Number(/^\s*(\d+) pass$/m.exec(bun?.output ?? '')?.[1])
    expect(passed, bun?.output).toBeGreaterThanOrEqual(60)
    expect(bun?.output).toMatch(/^\s*0 fail$/m)
    expect(bun?.code, bun?.output).toBe(0)
  }, 60_000)

  it('runs the conformance suite, and its lease and errors cases', async () => {
    const results = await both(async (runtime) => [
      await run(runtime, script(runtime, 'test/sqlite/run-conformance.js')),
      await run(runtime, script(runtime, 'test/sqlite/lease-and-errors.js')),
    ])
    for (const [conformance, lease] of results) {
      expect(conformance?.output.trim().split('\n').at(-1), conformance?.output).toBe(`${CASES} passed, 0 failed`)
      expect(conformance?.code, conformance?.output).toBe(0)
      expect(lease?.output.trim().split('\n').at(-1), lease?.output).toMatch(/^[1-9]\d* passed, 0 failed$/)
      expect(lease?.code, lease?.output).toBe(0)
    }
  }, 60_000)

  it('a process killed mid-job (SIGKILL) and started again resumes: the job interrupted once completes, a delayed job keeps its runAt', async () => {
    await both(async (runtime) => {
      const file = join(dir, `restart-${runtime}.db`)
      const first = start(runtime, script(runtime, 'test/sqlite/restart.js', file, 'first'))
      await first.line('RUNNING')
      first.child.kill('SIGKILL')
      await first.exited
      const second = await run(runtime, script(runtime, 'test/sqlite/restart.js', file, 'second'))
      const line = second.output.split('\n').find((l) => l.startsWith('RESULT ')) ?? ''
      expect(line, `${runtime}: ${second.output}`).not.toBe('')
      const { quick, long, later, errors } = JSON.parse(line.slice('RESULT '.length)) as Record<string, Record<string, unknown>> & {
        errors: string[]
      }
      expect(quick, runtime).toMatchObject({ status: 'completed', rev: 3 })
      expect(long, runtime).toMatchObject({ status: 'completed', interruptions: 1, attempt: 1 })
      expect(errors, runtime).toEqual(['InterruptedError'])
      expect(later, runtime).toMatchObject({ status: 'delayed', rev: 1 })
      expect(later?.['runAt'], runtime).toBe((later?.['createdAt'] as number) + 60_000)
      expect(second.code, second.output).toBe(0)
    })
  }, 60_000)

  it('a signal sent from another process wakes a job waiting for it (ctx.waitFor) in the runner process', async () => {
    await both(async (runtime) => {
      const file = join(dir, `signals-${runtime}.db`)
      const a = start(runtime, script(runtime, 'test/sqlite/signal-process.js', file, 'A'))
      expect(await a.line('WAITING '), `${runtime}: ${a.output()}`).toBe('WAITING runner delayed signal')
      const b = await run(runtime, script(runtime, 'test/sqlite/signal-process.js', file, 'B'))
      expect(b.output, runtime).toContain('SENT follower true')
      const line = await a.line('RESULT ', 20_000)
      expect(JSON.parse(line.slice('RESULT '.length)), `${runtime}: ${a.output()}`).toEqual({
        status: 'completed',
        result: { from: 'B' },
        attempt: 1,
      })
    })
  }, 60_000)

  it(`two processes on one file: one runs, the other follows (adds, cancels) and takes over within ttl + poll (${TTL} + ${POLL} ms) of a SIGKILL; no attempt runs in both`, async () => {
    await both(async (runtime) => {
      const file = join(dir, `pair-${runtime}.db`)
      const log = join(dir, `pair-${runtime}.log`)
      const a = start(runtime, script(runtime, 'test/sqlite/two-process.js', file, 'A', log))
      await a.line('RUNNER')
      const b = start(runtime, script(runtime, 'test/sqlite/two-process.js', file, 'B', log))
      expect(await b.line('ROLE '), runtime).toBe('ROLE follower')
      await b.line('ADDED')
      // Kill A mid-run: once it has finished one of B's jobs and is running another.
      const pidA = a.child.pid as number
      const entries = (): Array<{ pid: number; id: string; ev: 'start' | 'end'; t: number }> => {
        try {
          return readFileSync(log, 'utf8')
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as { pid: number; id: string; ev: 'start' | 'end'; t: number })
        } catch {
          return []
        }
      }
      const deadline = Date.now() + 8000
      for (;;) {
        const seen = entries().filter((e) => e.pid === pidA)
        const ended = new Set(seen.filter((e) => e.ev === 'end').map((e) => e.id))
        if (ended.size >= 1 && seen.some((e) => e.ev === 'start' && !ended.has(e.id))) break
        if (Date.now() > deadline)
          throw new Error(`${runtime}: A ran none of B's jobs in 8 s; log: ${JSON.stringify(seen)}\nA: ${a.output()}\nB: ${b.output()}`)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      a.child.kill('SIGKILL')
      const killedAt = Date.now()
      await a.exited
      const line = await b.line('RESULT ', 25_000)
      const result = JSON.parse(line.slice('RESULT '.length)) as { first: string; runnerAt: number; counts: Record<string, number>; x: string }
      expect(result.counts, `${runtime}: ${b.output()}`).toMatchObject({ completed: 6, running: 0, waiting: 0, cancelled: 1 })
      expect(result.x, runtime).toBe('cancelled')
      const takeover = result.runnerAt - killedAt
      console.info(`${runtime}: the follower took over ${takeover} ms after the runner's SIGKILL (lease ttl ${TTL} ms, poll ${POLL} ms)`)
      expect(takeover, runtime).toBeLessThanOrEqual(TTL + POLL + 500)
      // No attempt in two processes at once: B starts nothing before A died, and every job ends once.
      const all = entries()
      const pidB = b.child.pid as number
      expect(
        all.some((e) => e.pid === pidA && e.ev === 'end'),
        runtime,
      ).toBe(true)
      for (const e of all.filter((e) => e.pid === pidB && e.ev === 'start'))
        expect(e.t, `${runtime}: B started ${e.id} before A was killed`).toBeGreaterThanOrEqual(killedAt - 5)
      expect(
        all.every((e) => e.pid === pidA || e.pid === pidB),
        runtime,
      ).toBe(true)
      // Every job ran to its end, at most once in each process. (At least once: a job whose handler
      // ended in A just before the kill, its completion not yet committed, runs again in B; after A died.)
      for (const id of ['j0', 'j1', 'j2', 'j3', 'j4', 'j5']) {
        const ends = all.filter((e) => e.id === id && e.ev === 'end')
        expect(ends.length, `${runtime}: ${id} ended`).toBeGreaterThanOrEqual(1)
        for (const pid of [pidA, pidB])
          expect(ends.filter((e) => e.pid === pid).length, `${runtime}: ${id} ended at most once in ${pid}`).toBeLessThanOrEqual(1)
      }
      await b.exited
    })
  }, 60_000)
})

describe('job groups on sqliteStore across processes', () => {
  it("a pause and a resume made in a follower process reach the runner process (its poll): the group's jobs wait, then run", async () => {
    await both(async (runtime) => {
      const file = join(dir, `groups-${runtime}.db`)
      const a = start(runtime, script(runtime, 'test/sqlite/groups-process.js', file, 'A'))
      await a.line('RUNNER')
      const b = start(runtime, script(runtime, 'test/sqlite/groups-process.js', file, 'B'))
      const line = await b.line('RESULT ', 30_000)
      const result = JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>
      expect(result, `${runtime}: ${b.output()}\nA: ${a.output()}`).toEqual({
        first: 'follower',
        freeResult: 42,
        told: true,
        whileHeld: ['waiting', 'waiting'],
        paused: { waiting: 2, delayed: 0, blocked: 0, running: 0, paused: true, limits: {} },
        results: [2, 4],
      })
      a.child.kill('SIGKILL')
      await Promise.all([a.exited, b.exited])
    })
  }, 60_000)
})

describe('sqliteStore on this Node', () => {
  // One case whichever Node runs it: Node 20 (CI's) has no node:sqlite, Node ≥ 22.5 has.
  it(`Node ${process.versions.node}: sqliteStore opens where node:sqlite exists, else its open names the runtime and what it needs`, async () => {
    const { sqliteStore } = await import('../../src/store/sqlite-store.js')
    const store = sqliteStore(join(dir, 'node.db'))
    if (hasSqlite()) {
      // test/node/store.test.ts then runs the Store contract on sqliteStore here too.
      await store.open('q')
      expect(await store.counts()).toMatchObject({ waiting: 0 })
      await store.close()
    } else {
      await expect(store.open('q')).rejects.toThrow(
        new RegExp(`Node ${process.versions.node.replaceAll('.', '\\.')} has no built-in SQLite.*Bun.*Deno.*Node ≥ 22\\.5`),
      )
    }
  })
})
