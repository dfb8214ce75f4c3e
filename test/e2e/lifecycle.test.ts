/**
 * Page Lifecycle events between real tabs, in Chromium, Firefox and WebKit: the `freeze` a browser
 * fires before it freezes a background tab, and `pagehide` with `persisted` before the
 * back/forward cache. The runner tab gives its place up at once and aborts what it holds
 * open, so the other tab takes over in well under `runnerTimeout` and none of its reads or
 * writes waits; back, the first tab is a follower, and what it was writing lands once.
 * (A page stopped with no event first, SIGSTOP: test/e2e/frozen.test.ts.)
 */
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFixture, serveStatic } from './harness.js'
import { ALL_ENGINES, ENGINE_NAMES, launchEngine, type EngineBrowser, type Tab } from './tabs.js'

declare const harness: {
  ready: Promise<boolean>
  role(): string
  bulkNoops(count: number): Promise<number>
  startBulk(count: number): void
  bulkResult(): Promise<number> | undefined
  bulkInFlight(): boolean
  countsWithin(ms: number): Promise<Record<string, number> | null>
  lifecycle(event: 'freeze' | 'resume' | 'pagehide' | 'pageshow'): void
  roleChanges(): Array<{ role: string; at: number }>
}

const outDir = fileURLToPath(new URL('../../test-results/e2e-lifecycle-fixture/', import.meta.url))
let url: string
let stopServer: () => Promise<void>

beforeAll(async () => {
  await buildFixture(outDir)
  const server = await serveStatic(outDir)
  url = server.url
  stopServer = server.close
}, 60_000)

afterAll(async () => {
  await stopServer?.()
})

async function open(page: Tab, query: string): Promise<void> {
  await page.goto(`${url}?${query}`)
  await page.waitFor(() => typeof harness === 'object')
  await page.evaluate(() => harness.ready)
}

describe.each(ALL_ENGINES.map((engine) => [ENGINE_NAMES[engine], engine] as const))(
  '%s: a runner tab told it is being frozen or cached',
  (_name, engine) => {
    let browser: EngineBrowser
    beforeAll(async () => {
      browser = await launchEngine(engine)
    })
    afterAll(async () => {
      await browser?.close()
    })

    for (const [told, back] of [
      ['freeze', 'resume'],
      ['pagehide', 'pageshow'],
    ] as const) {
      it(`${told} (mid-addBulk of 1,000): the other tab takes over within a second, its reads and writes do not wait; ${back}: a follower, and the bulk add lands once`, async () => {
        const tabs = await browser.group()
        const queue = `lifecycle-${told}-${Date.now()}`
        const a = await tabs.open()
        // runnerTimeout 10 s (the default): a takeover in under a second is the event's doing.
        await open(a, `queue=${queue}&tab=A&concurrency=2`)
        const b = await tabs.open()
        await open(b, `queue=${queue}&tab=B&concurrency=2`)
        expect([await a.evaluate(() => harness.role()), await b.evaluate(() => harness.role())]).toEqual(['runner', 'follower'])
        // 1,000 jobs: their one transaction takes well over 10 ms (100 ms and more in every engine
        // here), and each job must then run (WebKit runs ~70 no-op jobs a second with two tabs open).
        // Started and told in one call: a round trip between them took the whole transaction in Chromium.
        const bulk = 1000
        const toldAt = Date.now()
        const midAdd = await a.evaluate(
          async ({ event, count }) => {
            harness.startBulk(count)
            await new Promise((resolve) => setTimeout(resolve, 10))
            const inFlight = harness.bulkInFlight()
            harness.lifecycle(event)
            return inFlight
          },
          { event: told, count: bulk },
        )
        expect(midAdd, 'the event came in the middle of the bulk add').toBe(true)
        await expect.poll(() => b.evaluate(() => harness.role()), { timeout: 1_000, interval: 20 }).toBe('runner')
        const tookOver = Date.now() - toldAt
        // B's own reads and writes go through while A is "frozen".
        expect(await b.evaluate(() => harness.countsWithin(1_000))).not.toBeNull()
        expect(await b.evaluate(() => harness.bulkNoops(10))).toBe(10)
        expect(await a.evaluate(() => harness.role())).toBe('follower')
        await a.evaluate((event) => harness.lifecycle(event), back)
        expect(await a.evaluate(() => harness.bulkResult())).toBe(bulk)
        // Landed once: bulk + 10 jobs stored (read at once, before retention could drop any of the completed).
        const stored = await b.evaluate(() => harness.countsWithin(5_000))
        expect(Object.values(stored ?? {}).reduce((sum, n) => sum + n, 0)).toBe(bulk + 10)
        const pending = async (): Promise<number> => {
          const counts = await b.evaluate(() => harness.countsWithin(5_000))
          return counts ? (counts['waiting'] ?? 0) + (counts['running'] ?? 0) : -1
        }
        await expect.poll(pending, { timeout: 30_000, interval: 200 }).toBe(0)
        // Nothing left to run, none failed (retention keeps the newest 1,000 completed of the 1,010).
        expect(await b.evaluate(() => harness.countsWithin(5_000))).toMatchObject({ failed: 0, cancelled: 0 })
        expect(await a.evaluate(() => harness.role())).toBe('follower')
        console.log(`[lifecycle] ${engine} ${told}: B took over ${tookOver} ms after it`)
        await tabs.close()
      })
    }
  },
)
