/**
 * Durability in a real browser: reloads in the middle of a run, two tabs,
 * a runner tab closing, crashed and hung workers, in Chromium, Firefox and WebKit
 * (one scenario, driven through test/e2e/tabs.ts); a full disk, in the engines
 * that have a tool to make one (a CDP quota override, a Firefox pref).
 */
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFixture, launchChromium, launchFirefox, serveStatic } from './harness.js'
import { ALL_ENGINES, ENGINE_NAMES, launchEngine, type EngineBrowser, type Tab } from './tabs.js'

type Harness = {
  ready: Promise<boolean>
  role(): string
  roleChanges(): Array<{ role: string; at: number }>
  errors(): string[]
  counts(): Promise<Record<string, number>>
  addWork(count: number, ms: number): Promise<string[]>
  add(name: string, data: unknown): Promise<string>
  addError(name: string, data: unknown): Promise<string>
  results(ids: string[]): Promise<unknown[]>
  statuses(ids: string[]): Array<string | undefined>
  progressSeen(ids: string[]): number[]
  cancel(id: string): Promise<boolean>
  signal(id: string, name: string, payload: unknown): Promise<boolean>
  chain(id: string): Promise<{ jobs: readonly string[] }>
  flowResult(id: string): Promise<unknown>
  jobStatus(id: string): Promise<string | undefined>
  addBig(bytes: number, asText?: boolean): Promise<string>
  runs(): Promise<{ runs: Array<{ jobId: string; attempt: number; start: number; end?: number }>; loads: number[] }>
  burst(small: number, bigBytes: number): Promise<Settled[]>
  addNoops(count: number): Promise<Settled[]>
}
/** How an add settled in the page: the job's id, or its error. */
type Settled = { id?: string; name?: string; message?: string }
declare const harness: Harness

const outDir = fileURLToPath(new URL('../../test-results/e2e-fixture/', import.meta.url))
let url: string
let stopServer: () => Promise<void>
let queueNo = 0

beforeAll(async () => {
  await buildFixture(outDir)
  const server = await serveStatic(outDir)
  url = server.url
  stopServer = server.close
})

afterAll(async () => {
  await stopServer?.()
})

/** Opens the fixture page at `?query` in `tab`, once its queue answers. */
async function open(tab: Tab, query: string): Promise<void> {
  await tab.goto(`${url}?${query}`)
  await loaded(tab)
}

/** Waits for the fixture page of `tab` (after a goto or a reload) to have a queue that answers. */
async function loaded(tab: Tab): Promise<void> {
  await tab.waitFor(() => (window as unknown as { harness?: Harness }).harness !== undefined)
  await tab.evaluate(() => harness.ready)
}

/** {@link open} for the tests that drive Playwright directly (an engine's own tool). */
async function openPage(page: Page, query: string): Promise<void> {
  await page.goto(`${url}?${query}`)
  await page.waitForFunction(() => (window as unknown as { harness?: Harness }).harness !== undefined)
  await page.evaluate(() => harness.ready)
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

for (const engine of ALL_ENGINES) {
  describe(`durability in ${ENGINE_NAMES[engine]}`, () => {
    let browser: EngineBrowser
    beforeAll(async () => {
      browser = await launchEngine(engine)
    })
    afterAll(async () => {
      await browser?.close()
    })

    it('a reload in the middle of a five-step job: steps 1 to 3, stored, do not run again; the job completes', async () => {
      const tabs = await browser.group()
      const page = await tabs.open()
      await open(page, `queue=steps-${++queueNo}&concurrency=1`)
      const id = await page.evaluate(() => harness.add('fiveSteps', 300))
      const stepRuns = async (): Promise<Record<string, number>> => {
        const { runs } = await page.evaluate(() => harness.runs())
        const counts: Record<string, number> = {}
        for (const run of runs)
          if (run.jobId.startsWith(`${id}:`)) counts[run.jobId.slice(id.length + 1)] = (counts[run.jobId.slice(id.length + 1)] ?? 0) + 1
        return counts
      }
      // Step 4 starts only once step 3's result is stored: reload then, in the middle of step 4.
      await expect.poll(async () => (await stepRuns()).s4 ?? 0, { timeout: 20_000, interval: 25 }).toBe(1)
      await page.reload()
      await loaded(page)
      await expect.poll(() => page.evaluate((jobId) => harness.jobStatus(jobId), id), { timeout: 20_000, interval: 100 }).toBe('completed')
      expect(await page.evaluate((jobId) => harness.results([jobId]), id)).toEqual([['step 1', 'step 2', 'step 3', 'step 4', 'step 5']])
      const counts = await stepRuns()
      expect({ s1: counts.s1, s2: counts.s2, s3: counts.s3, s5: counts.s5 }).toEqual({ s1: 1, s2: 1, s3: 1, s5: 1 })
      // Step 4 was cut short by the reload: it ran again, from its start.
      expect(counts.s4).toBe(2)
      await tabs.close()
    })

    it('jobs asleep (ctx.sleep) over a reload, then over a closed tab and a new one: the step before the sleep runs once; each completes', async () => {
      const tabs = await browser.group()
      const page = await tabs.open()
      const query = `queue=sleepy-${++queueNo}&concurrency=1`
      await open(page, query)
      const [a, b] = await page.evaluate(() => Promise.all([harness.add('sleepy', 2500), harness.add('sleepy', 8000)]))
      const status = (tab: Tab, id: string): Promise<string | undefined> => tab.evaluate((jobId) => harness.jobStatus(jobId), id)
      await expect.poll(async () => [await status(page, a), await status(page, b)], { timeout: 20_000, interval: 50 }).toEqual(['delayed', 'delayed'])
      await page.reload()
      await loaded(page)
      await expect.poll(() => status(page, a), { timeout: 20_000, interval: 100 }).toBe('completed')
      // The other still sleeps: its tab closes, and another opens.
      expect(await status(page, b)).toBe('delayed')
      const next = await tabs.open()
      await page.close()
      await open(next, query)
      await expect.poll(() => status(next, b), { timeout: 20_000, interval: 100 }).toBe('completed')
      expect(await next.evaluate((ids) => harness.results(ids), [a, b] as string[])).toEqual([
        ['step 1', 'step 2'],
        ['step 1', 'step 2'],
      ])
      const { runs } = await next.evaluate(() => harness.runs())
      const count = (jobId: string): number => runs.filter((run) => run.jobId === jobId).length
      expect([a, b].flatMap((id) => [count(`${id}:s1`), count(`${id}:s2`)])).toEqual([1, 1, 1, 1])
      await tabs.close()
    })

    it('a job waiting for a signal (ctx.waitFor) over a reload; a signal from another tab wakes it, its step before the wait run once', async () => {
      const tabs = await browser.group()
      const page = await tabs.open()
      const query = `queue=waiter-${++queueNo}&concurrency=1`
      await open(page, query)
      const id = await page.evaluate(() => harness.add('waiter', 'approved'))
      const status = (tab: Tab): Promise<string | undefined> => tab.evaluate((jobId) => harness.jobStatus(jobId), id)
      await expect.poll(() => status(page), { timeout: 20_000, interval: 50 }).toBe('delayed')
      await page.reload()
      await loaded(page)
      expect(await status(page)).toBe('delayed')
      // A second tab, a follower, sends the signal.
      const other = await tabs.open()
      await open(other, query)
      expect(await other.evaluate(() => harness.role())).toBe('follower')
      expect(await other.evaluate((jobId) => harness.signal(jobId, 'approved', { ok: 1 }), id)).toBe(true)
      await expect.poll(() => status(page), { timeout: 20_000, interval: 100 }).toBe('completed')
      expect(await page.evaluate((jobIds) => harness.results(jobIds), [id])).toEqual([['step 1', { ok: 1 }]])
      const { runs } = await page.evaluate(() => harness.runs())
      expect(runs.filter((run) => run.jobId === `${id}:s1`)).toHaveLength(1)
      await tabs.close()
    })

    it('100 jobs of 50 ms survive three reloads mid-run: all complete, none lost, none run twice at once', async () => {
      const tabs = await browser.group()
      const page = await tabs.open()
      const query = `queue=reloads-${++queueNo}&concurrency=2`
      await open(page, query)
      const ids = await page.evaluate(() => harness.addWork(100, 50))
      expect(ids).toHaveLength(100)
      for (let i = 0; i < 3; i++) {
        await sleep(500)
        const before = await page.evaluate(() => harness.counts())
        // Each reload lands mid-run: jobs are still waiting.
        expect((before.waiting ?? 0) + (before.delayed ?? 0)).toBeGreaterThan(0)
        await page.reload()
        await loaded(page)
      }
      await expect.poll(() => page.evaluate(() => harness.counts().then((c) => c.completed)), { timeout: 60_000, interval: 100 }).toBe(100)
      const counts = await page.evaluate(() => harness.counts())
      expect(counts).toMatchObject({ completed: 100, waiting: 0, running: 0, failed: 0, delayed: 0 })
      const results = await page.evaluate((jobIds) => harness.results(jobIds), ids)
      expect(results).toEqual(ids.map(() => 50))

      const { runs, loads } = await page.evaluate(() => harness.runs())
      expect(loads).toHaveLength(4)
      // Every job's side effect is recorded at least once.
      const finished = new Set(runs.filter((r) => r.end !== undefined).map((r) => r.jobId))
      expect(ids.filter((id) => !finished.has(id))).toEqual([])
      // No job ran in two places at once: each run of a job starts after the one before
      // it ended, or (if a reload cut that one short) after the next page load.
      const byJob = new Map<string, typeof runs>()
      for (const run of runs) byJob.set(run.jobId, [...(byJob.get(run.jobId) ?? []), run])
      let rerun = 0
      for (const jobRuns of byJob.values()) {
        jobRuns.sort((a, b) => a.start - b.start)
        for (let i = 1; i < jobRuns.length; i++) {
          const prev = jobRuns[i - 1]!
          const next = jobRuns[i]!
          const free = prev.end ?? loads.find((at) => at > prev.start) ?? Infinity
          expect(next.start).toBeGreaterThanOrEqual(free)
          rerun++
        }
      }
      // Interrupted runs were re-run (at most the pool size per reload).
      expect(rerun).toBeGreaterThan(0)
      expect(rerun).toBeLessThanOrEqual(3 * 2)
      await tabs.close()
    })

    it('two tabs: jobs added in B run in A; B sees progress and results; when A closes, B takes over within 1 s and finishes', async () => {
      const tabs = await browser.group()
      const a = await tabs.open()
      const b = await tabs.open()
      const query = `queue=tabs-${++queueNo}&concurrency=2`
      await open(a, query)
      await open(b, query)
      expect(await a.evaluate(() => harness.role())).toBe('runner')
      expect(await b.evaluate(() => harness.role())).toBe('follower')
      const ids = await b.evaluate(() => harness.addWork(20, 100))
      await b.waitFor((jobIds) => harness.statuses(jobIds).filter((s) => s === 'completed').length >= 4, ids)
      const { runs: ranInA } = await a.evaluate(() => harness.runs())
      expect(ranInA.length).toBeGreaterThan(0)
      expect(await b.evaluate(() => harness.role())).toBe('follower')
      const closedAt = Date.now()
      await a.close()
      await b.waitFor(() => harness.role() === 'runner', undefined, { timeout: 5000 })
      const [change] = await b.evaluate(() => harness.roleChanges())
      expect(change?.role).toBe('runner')
      expect((change?.at ?? Infinity) - closedAt).toBeLessThan(1000)
      const results = await b.evaluate((jobIds) => harness.results(jobIds), ids)
      expect(results).toEqual(ids.map(() => 100))
      const seen = await b.evaluate((jobIds) => harness.progressSeen(jobIds), ids)
      expect(seen.every((n) => n > 0)).toBe(true)
      expect(await b.evaluate(() => harness.counts())).toMatchObject({ completed: 20, running: 0, waiting: 0 })
      await tabs.close()
    })

    it('a tab without a worker factory never runs jobs, and hands them to a tab that has one', async () => {
      const tabs = await browser.group()
      const adder = await tabs.open()
      const name = `noworker-${++queueNo}`
      await open(adder, `queue=${name}&noworker`)
      const ids = await adder.evaluate(() => harness.addWork(3, 20))
      await sleep(200)
      expect(await adder.evaluate((jobIds) => harness.statuses(jobIds), ids)).toEqual(['waiting', 'waiting', 'waiting'])
      expect(await adder.evaluate(() => harness.role())).toBe('follower')
      const runner = await tabs.open()
      await open(runner, `queue=${name}`)
      expect(await adder.evaluate((jobIds) => harness.results(jobIds), ids)).toEqual([20, 20, 20])
      await tabs.close()
    })

    it('crashed and hung workers: self.close() and while(true) do not stop later jobs', async () => {
      const tabs = await browser.group()
      const page = await tabs.open()
      await open(page, `queue=crash-${++queueNo}&concurrency=1`)
      const closed = await page.evaluate(() => harness.add('selfClose', null))
      const [closedResult] = await page.evaluate((id) => harness.results([id]), closed)
      expect(closedResult).toMatch(/^JobFailedError: .*self\.close/)
      const hung = await page.evaluate(() => harness.add('hang', null))
      await page.waitFor((id) => harness.statuses([id])[0] === 'running', hung)
      const later = await page.evaluate(() => harness.addWork(2, 10))
      // The hung job holds the only worker; cancelling it terminates that worker after abortGrace.
      expect(await page.evaluate((id) => harness.cancel(id), hung)).toBe(true)
      expect(await page.evaluate((ids) => harness.results(ids), later)).toEqual([10, 10])
      expect(await page.evaluate((id) => harness.statuses([id]), hung)).toEqual(['cancelled'])
      await tabs.close()
    })

    it('a chain of three steps interrupted by a reload in the middle resumes at its step and ends with the right result', async () => {
      const tabs = await browser.group()
      const page = await tabs.open()
      await open(page, `queue=chain-${++queueNo}&concurrency=1`)
      const { jobs } = await page.evaluate(() => harness.chain('three-steps'))
      const [first, second, third] = jobs as [string, string, string]
      // Reload while the second step runs.
      await expect.poll(() => page.evaluate((id) => harness.jobStatus(id), second), { timeout: 5000, interval: 20 }).toBe('running')
      await page.reload()
      await loaded(page)
      expect(await page.evaluate(() => harness.flowResult('three-steps'))).toBe(4)
      const { runs } = await page.evaluate(() => harness.runs())
      const count = (id: string): number => runs.filter((r) => r.jobId === id).length
      // The first step ran once; the second was cut short and ran again; the third ran once.
      expect(count(first)).toBe(1)
      expect(count(second)).toBe(2)
      expect(count(third)).toBe(1)
      await tabs.close()
    })
  })
}

/** The browser of the tests that need an engine's own tool. */
let browser: Browser

/** Fills a 2 MB quota: the add that does not fit is refused whole, reported, and the queue goes on. */
async function fullDisk(page: Page): Promise<void> {
  await openPage(page, `queue=quota-${++queueNo}&concurrency=1`)
  const warmup = await page.evaluate(() => harness.addWork(1, 5))
  expect(await page.evaluate((jobIds) => harness.results(jobIds), warmup)).toEqual([5])
  // Binary data is checked against the quota before it is written; text data is refused by IndexedDB itself.
  for (const asText of [false, true]) {
    const before = await page.evaluate(() => harness.counts())
    expect(await page.evaluate((text) => harness.addBig(8 * 1024 * 1024, text), asText)).toBe('QuotaExceededError')
    await page.waitForFunction(() => harness.errors().some((e) => e.includes('QuotaExceededError')))
    expect(await page.evaluate(() => harness.counts())).toEqual(before)
    // What fits still goes in: the queue goes on.
    const ids = await page.evaluate(() => harness.addWork(1, 5))
    expect(await page.evaluate((jobIds) => harness.results(jobIds), ids)).toEqual([5])
  }
}

const FULL_DISK = 'a full disk: add rejects QuotaExceededError, a queue error event fires, and nothing is half-written'

describe('Chromium only (CDP Storage.overrideQuotaForOrigin): a full disk of 2 MB', () => {
  beforeAll(async () => {
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
  })

  it(FULL_DISK, async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    // Chromium reads the quota when a database opens: set it first.
    const cdp = await context.newCDPSession(page)
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(url).origin, quotaSize: 2 * 1024 * 1024 })
    await fullDisk(page)
    await context.close()
  })
})

describe('Chromium only (CDP Storage.overrideQuotaForOrigin): a full origin', () => {
  beforeAll(async () => {
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
  })

  it('a 5 MB add refused in the same turn as 20 small ones does not wedge the queue: what fits goes in and runs; with the quota raised back, every stored job completes and adds go in', async () => {
    const origin = new URL(url).origin
    const MB = 1024 * 1024
    // Chromium takes a quota override set before the origin's storage opens (one lowered
    // later was not applied): the usage of the page with one job stored is measured first,
    // in a context of its own (its storage is its own).
    const probe = await browser.newContext()
    const probePage = await probe.newPage()
    await openPage(probePage, `queue=full-origin-probe-${++queueNo}&concurrency=2`)
    const [probed] = await probePage.evaluate(() => harness.addNoops(1))
    expect(await probePage.evaluate((id) => harness.results([id]), probed?.id as string)).toEqual([0])
    const usage = await probePage.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0)
    await probe.close()
    expect(usage).toBeGreaterThan(0)

    const context = await browser.newContext()
    const page = await context.newPage()
    const cdp = await context.newCDPSession(page)
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + 3 * MB })
    await openPage(page, `queue=full-origin-${++queueNo}&concurrency=2`)
    const [first] = await page.evaluate(() => harness.addNoops(1))
    expect(await page.evaluate((id) => harness.results([id]), first?.id as string)).toEqual([0])

    // One turn: 20 no-op adds, then one whose data is { buf } with 5 MB of random bytes.
    const burst = await page.evaluate((bytes) => harness.burst(20, bytes), 5 * MB)
    const big = burst[20] as Settled
    expect(big.name).toBe('QuotaExceededError')
    // Chromium's own message is empty: the queue's names the cause.
    expect(big.message).toMatch(/quota is used up/)
    const small = burst.slice(0, 20)
    expect(small.filter((added) => added.id === undefined)).toEqual([])
    const stored = small.map((added) => added.id as string)

    // With the quota as low as before, the stored jobs run (their `running` and outcome writes go in)...
    await expect
      .poll(() => page.evaluate((ids) => harness.statuses(ids), stored), { timeout: 10_000, interval: 50 })
      .toEqual(stored.map(() => 'completed'))
    // ...and later small adds, which fit, go in and run.
    const later = await page.evaluate(() => harness.addNoops(80))
    expect(later.filter((added) => added.id === undefined)).toEqual([])
    const laterIds = later.map((added) => added.id as string)
    expect(await page.evaluate((ids) => harness.results(ids), laterIds)).toEqual(laterIds.map(() => 0))
    // Every quota error the queue reported says what happened.
    const quotaErrors = (await page.evaluate(() => harness.errors())).filter((e) => e.startsWith('QuotaExceededError'))
    expect(quotaErrors.length).toBeGreaterThan(0)
    expect(quotaErrors.filter((e) => !/quota is used up/.test(e))).toEqual([])

    // The quota raised back: everything stored is completed, nothing is lost, and adds go in and complete.
    await cdp.send('Storage.overrideQuotaForOrigin', { origin })
    const after = await page.evaluate(() => harness.addNoops(5))
    expect(after.filter((added) => added.id === undefined)).toEqual([])
    const afterIds = after.map((added) => added.id as string)
    expect(await page.evaluate((ids) => harness.results(ids), afterIds)).toEqual(afterIds.map(() => 0))
    expect(await page.evaluate(() => harness.counts())).toMatchObject({ completed: 1 + 20 + 80 + 5, waiting: 0, running: 0, failed: 0 })
    await context.close()
  })
})

describe('Firefox only (the dom.quotaManager.temporaryStorage.fixedLimit pref): a full disk of 2 MB', () => {
  beforeAll(async () => {
    browser = await launchFirefox({ 'dom.quotaManager.temporaryStorage.fixedLimit': 2048 })
  })
  afterAll(async () => {
    await browser?.close()
  })

  it(FULL_DISK, async () => {
    const context = await browser.newContext()
    await fullDisk(await context.newPage())
    await context.close()
  })
})
