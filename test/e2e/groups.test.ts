/**
 * Job groups in a real browser, in Chromium, Firefox and WebKit (one scenario, driven
 * through test/e2e/tabs.ts): a group's concurrency is never exceeded across a reload in
 * the middle of its jobs, nor with two tabs (jobs added in one, run in the other, then
 * taken over by it when the runner tab closes); a pause made in one tab holds in the
 * runner tab, and after a reload. Runs are read from the fixture's execution log (each
 * `work` run's start and end, recorded by the worker): two completed runs of one group
 * must never overlap.
 */
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFixture, serveStatic } from './harness.js'
import { ALL_ENGINES, ENGINE_NAMES, launchEngine, type EngineBrowser, type Tab } from './tabs.js'

type Run = { jobId: string; attempt: number; start: number; end?: number }
type Harness = {
  ready: Promise<boolean>
  role(): string
  addGrouped(count: number, ms: number, group: string): Promise<string[]>
  group(action: 'pause' | 'resume', id: string): Promise<void>
  groupCounts(id: string): Promise<{ waiting: number; running: number; paused: boolean; limits: { concurrency?: number } }>
  results(ids: string[]): Promise<unknown[]>
  snapshot(id: string): Promise<{ status: string; waitingFor?: string } | undefined>
  runs(): Promise<{ runs: Run[]; loads: number[] }>
}
declare const harness: Harness

const outDir = fileURLToPath(new URL('../../test-results/e2e-groups-fixture/', import.meta.url))
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

async function open(tab: Tab, query: string): Promise<void> {
  await tab.goto(`${url}?${query}`)
  await loaded(tab)
}

async function loaded(tab: Tab): Promise<void> {
  await tab.waitFor(() => (window as unknown as { harness?: Harness }).harness !== undefined)
  await tab.evaluate(() => harness.ready)
}

/** The completed runs of `ids` (a run cut by a reload has no end), and the most of them at once. */
async function mostAtOnce(tab: Tab, ids: readonly string[]): Promise<{ completed: number; most: number }> {
  const { runs } = await tab.evaluate(() => harness.runs())
  const mine = runs.filter((run): run is Required<Run> => ids.includes(run.jobId) && run.end !== undefined)
  let most = 0
  for (const run of mine) {
    // The runs going on when this one started (itself included).
    const overlapping = mine.filter((other) => other.start <= run.start && run.start < other.end).length
    most = Math.max(most, overlapping)
  }
  return { completed: new Set(mine.map((run) => run.jobId)).size, most }
}

for (const engine of ALL_ENGINES) {
  describe(`groups in ${ENGINE_NAMES[engine]}`, () => {
    let browser: EngineBrowser
    beforeAll(async () => {
      browser = await launchEngine(engine)
    })
    afterAll(async () => {
      await browser?.close()
    })

    it("a group's concurrency holds across a reload in the middle of its jobs; a pause holds after it", async () => {
      const tabs = await browser.group()
      const page = await tabs.open()
      const query = `queue=groups-reload-${++queueNo}&concurrency=3&groups=1`
      await open(page, query)
      await page.evaluate(() => harness.group('pause', 'held'))
      const held = await page.evaluate(() => harness.addGrouped(2, 10, 'held'))
      const album = await page.evaluate(() => harness.addGrouped(5, 250, 'album'))
      const other = await page.evaluate(() => harness.addGrouped(2, 250, 'other'))
      // Reload once an album job has run and another one runs.
      await expect.poll(async () => (await mostAtOnce(page, album)).completed, { timeout: 20_000, interval: 50 }).toBeGreaterThanOrEqual(1)
      await page.reload()
      await loaded(page)
      expect(await page.evaluate((ids) => harness.results(ids), [...album, ...other])).toEqual([250, 250, 250, 250, 250, 250, 250])
      const albumRuns = await mostAtOnce(page, album)
      expect(albumRuns).toEqual({ completed: 5, most: 1 })
      // The paused group's jobs still wait, after the reload too; resumed, they run.
      expect(await page.evaluate(() => harness.groupCounts('held'))).toMatchObject({
        waiting: 2,
        running: 0,
        paused: true,
        limits: { concurrency: 1 },
      })
      await page.evaluate(() => harness.group('resume', 'held'))
      expect(await page.evaluate((ids) => harness.results(ids), held)).toEqual([10, 10])
      await tabs.close()
    })

    it("two tabs: a group's concurrency holds for jobs added in the other tab, and across the takeover when the runner closes", async () => {
      const tabs = await browser.group()
      const runner = await tabs.open()
      const query = `queue=groups-tabs-${++queueNo}&concurrency=3&groups=1`
      await open(runner, query)
      await expect.poll(() => runner.evaluate(() => harness.role()), { timeout: 20_000, interval: 50 }).toBe('runner')
      const adder = await tabs.open()
      await open(adder, query)
      expect(await adder.evaluate(() => harness.role())).toBe('follower')
      // A pause made in the follower holds in the runner.
      await adder.evaluate(() => harness.group('pause', 'held'))
      const held = await adder.evaluate(() => harness.addGrouped(1, 10, 'held'))
      const album = await adder.evaluate(() => harness.addGrouped(6, 200, 'album'))
      await expect.poll(async () => (await mostAtOnce(adder, album)).completed, { timeout: 20_000, interval: 50 }).toBeGreaterThanOrEqual(2)
      expect((await adder.evaluate((id) => harness.snapshot(id), held[0] as string))?.status).toBe('waiting')
      // The runner tab closes mid-run: the adder takes over, with the group's limit.
      await runner.close()
      await expect.poll(() => adder.evaluate(() => harness.role()), { timeout: 20_000, interval: 50 }).toBe('runner')
      expect(await adder.evaluate((ids) => harness.results(ids), album)).toEqual([200, 200, 200, 200, 200, 200])
      expect(await mostAtOnce(adder, album)).toEqual({ completed: 6, most: 1 })
      await expect
        .poll(async () => (await adder.evaluate((id) => harness.snapshot(id), held[0] as string))?.waitingFor, { timeout: 20_000, interval: 50 })
        .toBe('group')
      await adder.evaluate(() => harness.group('resume', 'held'))
      expect(await adder.evaluate((ids) => harness.results(ids), held)).toEqual([10])
      await tabs.close()
    })
  })
}
