/**
 * Page Lifecycle events between real tabs, in Chromium and Firefox: the `freeze` a browser
 * fires before it freezes a background tab, and `pagehide` with `persisted` before the
 * back/forward cache. The runner tab gives its place up at once and aborts what it holds
 * open, so the other tab takes over in well under `runnerTimeout` and none of its reads or
 * writes waits; back, the first tab is a follower, and what it was writing lands once.
 * (A page stopped with no event first, SIGSTOP: test/e2e/frozen.test.ts, Chromium only.)
 */
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFixture, E2E_ENGINES, launchBrowser, serveStatic } from './harness.js'

declare const harness: {
  ready: Promise<boolean>
  role(): string
  bulkNoops(count: number): Promise<number>
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

async function open(page: Page, query: string): Promise<void> {
  await page.goto(`${url}?${query}`)
  await page.waitForFunction(() => typeof harness === 'object')
  await page.evaluate(() => harness.ready)
}

describe.each(E2E_ENGINES)('%s: a runner tab told it is being frozen or cached', (engine) => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launchBrowser(engine)
  })
  afterAll(async () => {
    await browser?.close()
  })

  for (const [told, back] of [
    ['freeze', 'resume'],
    ['pagehide', 'pageshow'],
  ] as const) {
    it(`${told} (mid-addBulk of 5,000): the other tab takes over within a second, its reads and writes do not wait; ${back}: a follower, and the bulk add lands once`, async () => {
      const context = await browser.newContext()
      const queue = `lifecycle-${told}-${Date.now()}`
      const a = await context.newPage()
      // runnerTimeout 10 s (the default): a takeover in under a second is the event's doing.
      await open(a, `queue=${queue}&tab=A&concurrency=2`)
      const b = await context.newPage()
      await open(b, `queue=${queue}&tab=B&concurrency=2`)
      expect([await a.evaluate(() => harness.role()), await b.evaluate(() => harness.role())]).toEqual(['runner', 'follower'])
      const bulk = a.evaluate(() => harness.bulkNoops(5000))
      await a.waitForTimeout(20)
      const toldAt = Date.now()
      await a.evaluate((event) => harness.lifecycle(event), told)
      await expect.poll(() => b.evaluate(() => harness.role()), { timeout: 1_000, interval: 20 }).toBe('runner')
      const tookOver = Date.now() - toldAt
      // B's own reads and writes go through while A is "frozen".
      expect(await b.evaluate(() => harness.countsWithin(1_000))).not.toBeNull()
      expect(await b.evaluate(() => harness.bulkNoops(10))).toBe(10)
      expect(await a.evaluate(() => harness.role())).toBe('follower')
      await a.evaluate((event) => harness.lifecycle(event), back)
      expect(await bulk).toBe(5000)
      const pending = async (): Promise<number> => {
        const counts = await b.evaluate(() => harness.countsWithin(5_000))
        return counts ? (counts['waiting'] ?? 0) + (counts['running'] ?? 0) : -1
      }
      await expect.poll(pending, { timeout: 30_000, interval: 200 }).toBe(0)
      // Nothing left to run, none failed (retention keeps the newest 1,000 completed of the 5,010).
      expect(await b.evaluate(() => harness.countsWithin(5_000))).toMatchObject({ failed: 0, cancelled: 0 })
      expect(await a.evaluate(() => harness.role())).toBe('follower')
      console.log(`[lifecycle] ${engine} ${told}: B took over ${tookOver} ms after it`)
      await context.close()
    })
  }
})
