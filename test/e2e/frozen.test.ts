/**
 * A frozen runner tab: its renderer process stopped with SIGSTOP, as a browser
 * freezes a background tab (page and workers stop, its Web Lock stays held).
 * Another tab must take over within `runnerTimeout` + 1 s and finish every job;
 * the frozen tab, resumed (SIGCONT), must run nothing more and commit nothing.
 * Then a runner stopped at 20 moments of a busy run, some after the `freeze` or
 * `pagehide` event a browser fires first. Both in Chromium and in Firefox.
 *
 * Chromium: its tabs get a renderer process each (with the spare renderer off),
 * found as the new `--type=renderer` process under this browser's process. Firefox:
 * two tabs of one site share a content process by default (a stop of one stops
 * both); with `dom.ipc.processCount.webIsolated` raised each gets its own, found as
 * the new `-contentproc -isForBrowser` process of this browser. Linux only (signals
 * and `ps`). Not WebKit yet: WebKitGTK starts a spare web process ahead of the next
 * page, so the process that appears with a new tab is not that tab's (stopping it left
 * the tab running); WebKitWebDriver itself kept answering with a tab's process stopped.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM_ARGS, findChromium, HOW_TO_GET } from '../../scripts/browsers.mjs'
import { buildFixture, launchFirefox, serveStatic } from './harness.js'

type Harness = {
  ready: Promise<boolean>
  addWork(count: number, ms: number): Promise<string[]>
  bulkNoops(count: number): Promise<number>
  naps(count: number, ms: number): Promise<number>
  countsWithin(ms: number): Promise<Record<string, number> | null>
  failedJobs(): Promise<Array<{ name: string; error?: string; attempt: number }>>
  lifecycle(event: 'freeze' | 'resume' | 'pagehide' | 'pageshow'): void
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

/** Chromium with every tab in a renderer process of its own, marked so that its processes can be told from others'. */
async function launchMarkedChromium(): Promise<Browser> {
  const found = await findChromium()
  if (!found) throw new Error(HOW_TO_GET.chromium)
  return chromium.launch({
    executablePath: found.path,
    headless: true,
    args: [...CHROMIUM_ARGS, '--disable-features=SpareRendererForSitePerProcess', MARK],
  })
}

/** The main process of the Firefox this file launched (its content processes name it as their parent). */
let firefoxMain: number | undefined

/**
 * Firefox with a content process per tab: by default two tabs of one site share one
 * (a stop of one would stop both); `dom.ipc.processCount.webIsolated` raised, each gets
 * its own. No process is launched ahead (its first tab would take it).
 */
async function launchOwnFirefox(): Promise<Browser> {
  const mains = (): number[] => [...processes()].filter(([, [, args]]) => /firefox/.test(args) && !args.includes('-contentproc')).map(([pid]) => pid)
  const before = new Set(mains())
  const launched = await launchFirefox({
    'dom.ipc.processCount.webIsolated': 16,
    'dom.ipc.processPrelaunch.enabled': false,
  })
  const mine = mains().filter((pid) => !before.has(pid))
  // The browser itself: the new process whose parent is not another new one.
  firefoxMain = mine.find((pid) => !mine.includes(processes().get(pid)?.[0] ?? 0))
  return launched
}

/** The content processes (those that run pages) of that Firefox. */
function firefoxTabProcesses(): Set<number> {
  const main = firefoxMain
  return new Set(
    [...processes()]
      .filter(([, [, args]]) => args.includes('-contentproc') && args.includes('-isForBrowser') && args.includes(`-parentPid ${main}`))
      .map(([pid]) => pid),
  )
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
})

afterAll(async () => {
  await stopServer?.()
})

/** A frozen runner, in the browser of the describe it is in; `tabProcesses` lists the processes its pages run in (a new page: the new ones). */
function frozenRunner(tabProcesses: () => Set<number>): void {
  it('another tab takes over within runnerTimeout + 1 s and finishes every job; the thawed tab runs and commits nothing', async () => {
    const context = await browser.newContext()
    const queue = `frozen-${Date.now()}`
    const before = tabProcesses()
    const a = await context.newPage()
    await open(a, `queue=${queue}&tab=A&concurrency=2&runnerTimeout=${RUNNER_TIMEOUT}`)
    // Tab A's processes (its first about:blank may have had one of its own): all are stopped.
    const pidsOfA = [...tabProcesses()].filter((pid) => !before.has(pid))
    expect(pidsOfA.length, 'new processes for tab A').toBeGreaterThanOrEqual(1)
    expect(await a.evaluate(() => harness.role())).toBe('runner')
    const b = await context.newPage()
    await open(b, `queue=${queue}&tab=B&concurrency=2&runnerTimeout=${RUNNER_TIMEOUT}`)
    // B's process is not one of A's.
    expect([...tabProcesses()].filter((pid) => !before.has(pid) && !pidsOfA.includes(pid)).length).toBeGreaterThanOrEqual(1)
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
}

/** The stop loop, in the browser of the describe it is in (of `engine`); `tabProcesses` as for {@link frozenRunner}. */
function stopLoop(engine: string, tabProcesses: () => Set<number>): void {
  it('20 stops (during an addBulk of 5,000, amid bursts of outcomes, at random; some after a freeze or pagehide event): the other tab takes over within runnerTimeout + 1 s and gets work done while the first is stopped, always after an event; a stop with no event that lands inside a transaction is told (StorageBlockedError); every job completes', async () => {
    const RUNNER = 1_500
    const context = await browser.newContext()
    const queue = `stops-${engine}-${Date.now()}`
    const pids = new Map<Page, number[]>()
    const tabs: Page[] = []
    for (const name of ['A', 'B']) {
      const before = tabProcesses()
      const page = await context.newPage()
      await open(page, `queue=${queue}&tab=${name}&concurrency=2&runnerTimeout=${RUNNER}&blockedAfter=1000`)
      pids.set(
        page,
        [...tabProcesses()].filter((pid) => !before.has(pid) && ![...pids.values()].flat().includes(pid)),
      )
      expect(pids.get(page)?.length, `renderer processes of tab ${name}`).toBeGreaterThanOrEqual(1)
      tabs.push(page)
    }
    const [a, b] = tabs as [Page, Page]
    // Jobs that write nothing outside the queue: a stopped tab's other databases cannot hold the test up.
    let added = await a.evaluate(() => harness.naps(200, 25))
    const tookOver: number[] = []
    const stalled: string[] = []
    for (let stop = 0; stop < 20; stop++) {
      const runner = (await a.evaluate(() => harness.role())) === 'runner' ? a : b
      const other = runner === a ? b : a
      // The moment: mid-addBulk of 5,000 (stops 0, 7, 14), else amid bursts of outcomes or at random.
      const bulk = stop % 7 === 0
      // What the page is told first: as Chrome fires `freeze` before it freezes a tab, or `pagehide` entering the cache.
      const event: 'freeze' | 'pagehide' | undefined = stop % 3 === 1 ? 'freeze' : stop % 3 === 2 && stop % 2 === 1 ? 'pagehide' : undefined
      if (bulk) {
        void runner.evaluate(() => harness.bulkNoops(5000)).catch(() => undefined)
        added += 5000
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 60))
      } else {
        added += await runner.evaluate(() => harness.naps(60, 30))
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 300))
      }
      const done = (await other.evaluate(() => harness.countsWithin(10_000)))?.['completed'] ?? 0
      const errorsBefore = (await other.evaluate(() => harness.errors())).length
      const target = pids.get(runner) as number[]
      if (event) {
        await runner.evaluate((event) => harness.lifecycle(event), event)
        // A frozen page runs no code, but its process does (SIGSTOP stops that too): what the
        // page sent on the way out (an abort, a lock released) gets a moment to leave it.
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      const stoppedAt = Date.now()
      try {
        for (const pid of target) process.kill(pid, 'SIGSTOP')
        const ranOn = await expect
          .poll(() => other.evaluate(() => harness.role()), { timeout: RUNNER + 1_000, interval: 20 })
          .toBe('runner')
          .then(() => true)
          .catch(() => false)
        if (ranOn) {
          tookOver.push(Date.now() - stoppedAt)
          // Work gets done while the first is still stopped: its reads answer, its jobs complete. Unless
          // the stop landed inside a transaction (the other tab took the runner's place when its
          // heartbeat stopped, and then waits on the database): then it says so.
          const progress = async (): Promise<'done' | 'blocked' | 'waiting'> => {
            if (((await other.evaluate(() => harness.countsWithin(1_000)))?.['completed'] ?? -1) > done) return 'done'
            return (await other.evaluate(() => harness.errors())).slice(errorsBefore).join(' ').includes('StorageBlockedError')
              ? 'blocked'
              : 'waiting'
          }
          const outcome = await expect.poll(progress, { timeout: 8_000, interval: 50 }).not.toBe('waiting').then(progress)
          if (outcome === 'blocked') stalled.push(`stop ${stop}${bulk ? ' (bulk)' : ''}${event ? ` after ${event}` : ''} (taken over)`)
        } else {
          // Stopped inside a transaction, with no event before: the other tab waits on the database, and says so.
          stalled.push(`stop ${stop}${bulk ? ' (bulk)' : ''}${event ? ` after ${event}` : ''}`)
          await expect
            .poll(async () => (await other.evaluate(() => harness.errors())).slice(errorsBefore).join(' '), { timeout: 5_000, interval: 50 })
            .toMatch(/StorageBlockedError/)
        }
      } finally {
        for (const pid of target) process.kill(pid, 'SIGCONT')
      }
      if (event) await runner.evaluate((event) => harness.lifecycle(event === 'freeze' ? 'resume' : 'pageshow'), event)
      await expect.poll(() => runner.evaluate(() => harness.role()), { timeout: 5_000, interval: 20 }).toBe('follower')
    }
    console.log(
      `[stops] takeovers in ${tookOver.sort((x, y) => x - y).join(', ')} ms; stalled (no event, inside a transaction): ${stalled.length} of 20: ${stalled.join('; ')}`,
    )
    // After an event the page gave everything up first: never a stall.
    expect(stalled.filter((s) => s.includes(' after '))).toEqual([])
    // Every job added completes (the bulk adds that a stop interrupted resolved once the page ran again; retention
    // keeps the newest 1,000 completed, so what is checked is that nothing is left to run and nothing failed).
    const pending = async (): Promise<number> => {
      const counts = await a.evaluate(() => harness.countsWithin(5_000))
      return counts ? (counts['waiting'] ?? 0) + (counts['running'] ?? 0) + (counts['delayed'] ?? 0) + (counts['blocked'] ?? 0) : -1
    }
    await expect.poll(pending, { timeout: 90_000, interval: 500 }).toBe(0)
    // A job the runner had committed to start (running it, or queued behind others in a worker: up to 256
    // ahead) at three stops ends failed with InterruptedError, as a job that keeps taking its runner down
    // must (README "Guarantees"). 20 stops of a deep queue fail some that way (the same oldest jobs are
    // taken first after each takeover); nothing else may fail.
    const failed = await a.evaluate(() => harness.failedJobs())
    console.log(`[stops] ${engine}: ${failed.length} jobs failed, ${new Set(failed.map((job) => job.error?.split(':')[0])).size} kinds of error`)
    expect(failed.filter((job) => !job.error?.startsWith('InterruptedError'))).toEqual([])
    expect(await a.evaluate(() => harness.countsWithin(5_000))).toMatchObject({ cancelled: 0 })
    expect(added).toBeGreaterThan(15_000)
    await context.close()
  }, 300_000)
}

for (const { engine, name, launch, tabProcesses } of [
  { engine: 'chromium', name: 'Chromium (SIGSTOP of its renderer process)', launch: launchMarkedChromium, tabProcesses: renderers },
  {
    engine: 'firefox',
    name: 'Firefox (SIGSTOP of its content process; one per tab with dom.ipc.processCount.webIsolated raised)',
    launch: launchOwnFirefox,
    tabProcesses: firefoxTabProcesses,
  },
]) {
  describe(`Chromium and Firefox only (a tab's own process to SIGSTOP; WebKitGTK's cannot be told from its spare): frozen runner tabs in ${name}`, () => {
    beforeAll(async () => {
      browser = await launch()
    })
    afterAll(async () => {
      await browser?.close()
    })
    frozenRunner(tabProcesses)
    stopLoop(engine, tabProcesses)
  })
}
