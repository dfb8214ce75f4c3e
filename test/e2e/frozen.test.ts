/**
 * A frozen runner tab: its renderer process stopped with SIGSTOP, as a browser
 * freezes a background tab (page and workers stop, its Web Lock stays held).
 * Another tab must take over within `runnerTimeout` + 1 s and finish every job;
 * the frozen tab, resumed (SIGCONT), must run nothing more and commit nothing.
 *
 * Chromium only: its tabs get a renderer process each (with the spare renderer
 * off), found as the new `--type=renderer` process under this browser's process.
 * Linux only (signals and `ps`).
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM_ARGS, findChromium, HOW_TO_GET } from '../../scripts/browsers.mjs'
import { buildFixture, serveStatic } from './harness.js'

type Harness = {
  ready: Promise<boolean>
  role(): string
  block(ms: number): number
  roleChanges(): Array<{ role: string; at: number }>
  errors(): string[]
  add(name: string, data: unknown): Promise<string>
  results(ids: string[]): Promise<unknown[]>
  jobStatus(id: string): Promise<string | undefined>
  runs(): Promise<{ runs: Array<{ jobId: string; attempt: number; start: number; end?: number; tab?: string }>; loads: number[] }>
}
declare const harness: Harness

const RUNNER_TIMEOUT = 2_000
const outDir = fileURLToPath(new URL('../../test-results/e2e-frozen-fixture/', import.meta.url))
const MARK = `--offthread-e2e-frozen=${process.pid}`
let browser: Browser
let url: string
let stopServer: () => Promise<void>

/** Every process as pid → [parent pid, command line]. */
function processes(): Map<number, [number, string]> {
  const out = new Map<number, [number, string]>()
  for (const line of execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line)
    if (match) out.set(Number(match[1]), [Number(match[2]), match[3] as string])
  }
  return out
}

/** The renderer processes of this test's browser (the process whose command line has {@link MARK}). */
function renderers(): Set<number> {
  const all = processes()
  const roots = [...all].filter(([, [, args]]) => args.includes(MARK) && !args.includes('--type=')).map(([pid]) => pid)
  const under = (pid: number): boolean => {
    for (let at = pid, hops = 0; at > 1 && hops < 10; hops++) {
      if (roots.includes(at)) return true
      at = all.get(at)?.[0] ?? 0
    }
    return false
  }
  return new Set([...all].filter(([pid, [, args]]) => args.includes('--type=renderer') && under(pid)).map(([pid]) => pid))
}

async function open(page: Page, query: string): Promise<void> {
  await page.goto(`${url}?${query}`)
  await page.waitForFunction(() => (window as unknown as { harness?: Harness }).harness !== undefined)
  await page.evaluate(() => harness.ready)
}

beforeAll(async () => {
  await buildFixture(outDir)
  const server = await serveStatic(outDir)
  url = server.url
  stopServer = server.close
  const found = await findChromium()
  if (!found) throw new Error(HOW_TO_GET.chromium)
  browser = await chromium.launch({
    executablePath: found.path,
    headless: true,
    args: [...CHROMIUM_ARGS, '--disable-features=SpareRendererForSitePerProcess', MARK],
  })
})

afterAll(async () => {
  await browser?.close()
  await stopServer?.()
})

describe('a frozen runner tab: Chromium only (SIGSTOP of its renderer process)', () => {
  it('another tab takes over within runnerTimeout + 1 s and finishes every job; the thawed tab runs and commits nothing', async () => {
    const context = await browser.newContext()
    const queue = `frozen-${Date.now()}`
    const before = renderers()
    const a = await context.newPage()
    await open(a, `queue=${queue}&tab=A&concurrency=2&runnerTimeout=${RUNNER_TIMEOUT}`)
    // Tab A's renderers (its first about:blank may have had one of its own): all are stopped.
    const pidsOfA = [...renderers()].filter((pid) => !before.has(pid))
    expect(pidsOfA.length, 'new renderer processes for tab A').toBeGreaterThanOrEqual(1)
    expect(await a.evaluate(() => harness.role())).toBe('runner')
    const b = await context.newPage()
    await open(b, `queue=${queue}&tab=B&concurrency=2&runnerTimeout=${RUNNER_TIMEOUT}`)
    // B's renderer is not one of A's.
    expect([...renderers()].filter((pid) => !before.has(pid) && !pidsOfA.includes(pid)).length).toBeGreaterThanOrEqual(1)
    expect(await b.evaluate(() => harness.role())).toBe('follower')

    // A runner that is only busy (a long task shorter than runnerTimeout) keeps its place.
    await a.evaluate((ms) => harness.block(ms), RUNNER_TIMEOUT * 0.75)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(await b.evaluate(() => harness.roleChanges())).toEqual([])
    expect(await a.evaluate(() => harness.role())).toBe('runner')

    // Two jobs A is in the middle of when it freezes: one ends while A is stopped (its
    // outcome reaches A's page only when it wakes), one long. Two more wait.
    const ids: string[] = []
    for (const ms of [1_200, 3_500, 300, 300]) ids.push(await b.evaluate((ms) => harness.add('tagged', { ms }), ms))
    const startedInA = async (): Promise<number> =>
      (await b.evaluate(() => harness.runs())).runs.filter((run) => run.tab === 'A' && ids.includes(run.jobId)).length
    await expect.poll(startedInA, { timeout: 10_000, interval: 20 }).toBe(2)

    let frozenAt = 0
    let thawedAt = 0
    try {
      for (const pid of pidsOfA) process.kill(pid, 'SIGSTOP')
      frozenAt = Date.now()
      // B hears nothing from A for runnerTimeout, steals the lock and runs A's jobs.
      await expect.poll(() => b.evaluate(() => harness.role()), { timeout: RUNNER_TIMEOUT + 5_000, interval: 20 }).toBe('runner')
      const tookOver = (await b.evaluate(() => harness.roleChanges())).find((change) => change.role === 'runner')?.at ?? 0
      console.log(`[frozen runner] B took over ${tookOver - frozenAt} ms after A froze (runnerTimeout ${RUNNER_TIMEOUT} ms)`)
      expect(tookOver - frozenAt).toBeLessThanOrEqual(RUNNER_TIMEOUT + 1_000)
      // Thaw A once the job that ended while it was stopped has been run again by B (but not finished).
      await expect
        .poll(async () => (await b.evaluate(() => harness.runs())).runs.filter((run) => run.tab === 'B' && run.jobId === ids[0]).length, {
          timeout: 5_000,
          interval: 20,
        })
        .toBe(1)
    } finally {
      for (const pid of pidsOfA) process.kill(pid, 'SIGCONT')
      thawedAt = Date.now()
    }

    // A, awake: it learns it lost the lock, stops and becomes a follower at once.
    await expect.poll(() => a.evaluate(() => harness.role()), { timeout: 5_000, interval: 20 }).toBe('follower')
    // Every job completes, each run by B (a result of A's would have been an overwrite).
    expect(await b.evaluate((ids) => harness.results(ids), ids)).toEqual(['B', 'B', 'B', 'B'])
    expect(await a.evaluate((ids) => harness.results(ids), ids)).toEqual(['B', 'B', 'B', 'B'])
    const { runs } = await b.evaluate(() => harness.runs())
    const mine = runs.filter((run) => ids.includes(run.jobId))
    // A started nothing after it froze; what it ran at the freeze ran on (if at all) only until its workers were terminated.
    expect(mine.filter((run) => run.tab === 'A' && run.start >= frozenAt)).toEqual([])
    for (const run of mine.filter((run) => run.tab === 'A' && run.end !== undefined && run.end > frozenAt)) {
      expect(run.end as number, `A's run of ${run.jobId} went on after the thaw`).toBeLessThan(thawedAt + 1_000)
    }
    // B ran each job once; no job ran twice at once in B, and every run of B ended.
    for (const id of ids) {
      const ofB = mine.filter((run) => run.tab === 'B' && run.jobId === id)
      expect(ofB, id).toHaveLength(1)
      expect(ofB[0]?.end, id).toBeDefined()
    }
    const errors = await a.evaluate(() => harness.errors())
    expect(errors).toEqual([])
    await context.close()
  }, 40_000)
})
