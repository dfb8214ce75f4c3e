/**
 * Jobs that need the network (`network: true`) in a real offline browser: Playwright's
 * `context.setOffline`, which sets `navigator.onLine` and fires the page's `offline` and
 * `online` events, and makes `fetch` fail. Chromium and Firefox: WebKitWebDriver has no
 * way to take a page offline (WebKit runs the same cases with the page's events, in
 * test/browser/network.test.ts).
 */
import { fileURLToPath } from 'node:url'
import type { Browser, BrowserContext, Page } from 'playwright'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromium } from 'playwright'
import { CHROMIUM_ARGS, findChromium, HOW_TO_GET } from '../../scripts/browsers.mjs'
import { buildFixture, launchFirefox, serveStatic } from './harness.js'

type Harness = {
  ready: Promise<boolean>
  add(name: string, data: unknown): Promise<string>
  results(ids: string[]): Promise<unknown[]>
  snapshot(id: string): Promise<{ status: string; attempt: number; waitingFor?: string } | undefined>
  errorsOf(id: string): Promise<Array<{ attempt: number; name: string; message: string }>>
}
declare const harness: Harness

const outDir = fileURLToPath(new URL('../../test-results/e2e-network-fixture/', import.meta.url))
let url: string
let stopServer: () => Promise<void>

beforeAll(async () => {
  await buildFixture(outDir)
  const server = await serveStatic(outDir)
  url = server.url
  stopServer = server.close
})

afterAll(async () => {
  await stopServer?.()
})

async function open(context: BrowserContext, queue: string): Promise<Page> {
  const page = await context.newPage()
  await page.goto(`${url}?queue=${queue}`)
  await page.waitForFunction(() => (window as unknown as { harness?: Harness }).harness !== undefined)
  await page.evaluate(() => harness.ready)
  return page
}

async function until<T>(read: () => Promise<T>, test: (value: T) => boolean, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const value = await read()
    if (test(value)) return value
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

function offlineCases(launch: () => Promise<Browser>): void {
  let browser: Browser
  beforeAll(async () => {
    browser = await launch()
  })
  afterAll(async () => {
    await browser?.close()
  })

  it('offline: a network job waits (other jobs run); online: it runs, its attempt unused', async () => {
    const context = await browser.newContext()
    try {
      const page = await open(context, `net-${Date.now()}`)
      // Its worker's tasks known first (a task's `network` comes from them).
      const warm = await page.evaluate(() => harness.add('work', { ms: 1 }))
      await page.evaluate((id) => harness.results([id]), warm)
      await context.setOffline(true)
      expect(await page.evaluate(() => navigator.onLine)).toBe(false)
      const ping = await page.evaluate(() => harness.add('ping', { wait: 0 }))
      const work = await page.evaluate(() => harness.add('work', { ms: 20 }))
      expect(await page.evaluate((id) => harness.results([id]), work)).toEqual([20])
      const waiting = await until(
        () => page.evaluate((id) => harness.snapshot(id), ping),
        (s) => s?.waitingFor === 'network',
        'the ping job waiting for the network',
      )
      expect(waiting).toMatchObject({ status: 'waiting', attempt: 1 })
      await context.setOffline(false)
      expect(await page.evaluate((id) => harness.results([id]), ping)).toEqual([200])
      expect(await page.evaluate((id) => harness.snapshot(id), ping)).toMatchObject({ status: 'completed', attempt: 1 })
    } finally {
      await context.close()
    }
  })

  it('a fetch that fails as the network goes: the job waits for the network, and runs again once online, its attempt unused', async () => {
    const context = await browser.newContext()
    try {
      const page = await open(context, `net-${Date.now()}`)
      const warm = await page.evaluate(() => harness.add('work', { ms: 1 }))
      await page.evaluate((id) => harness.results([id]), warm)
      const ping = await page.evaluate(() => harness.add('ping', { wait: 400 }))
      await until(
        () => page.evaluate((id) => harness.snapshot(id), ping),
        (s) => s?.status === 'running',
        'the ping job running',
      )
      // Offline before its fetch: the fetch throws a TypeError.
      await context.setOffline(true)
      const waiting = await until(
        () => page.evaluate((id) => harness.snapshot(id), ping),
        (s) => s?.waitingFor === 'network',
        'the ping job back to waiting for the network',
      )
      expect(waiting).toMatchObject({ status: 'waiting', attempt: 1 })
      expect(await page.evaluate((id) => harness.errorsOf(id), ping)).toEqual([])
      await context.setOffline(false)
      expect(await page.evaluate((id) => harness.results([id]), ping)).toEqual([200])
      expect(await page.evaluate((id) => harness.snapshot(id), ping)).toMatchObject({ status: 'completed', attempt: 1 })
    } finally {
      await context.close()
    }
  })
}

describe("Chromium and Firefox only (Playwright's context.setOffline; WebKitWebDriver cannot take a page offline)", () => {
  describe('network jobs offline in Chromium', () => {
    offlineCases(async () => {
      const found = await findChromium()
      if (!found) throw new Error(HOW_TO_GET.chromium)
      return chromium.launch({ executablePath: found.path, headless: true, args: [...CHROMIUM_ARGS] })
    })
  })
  describe('network jobs offline in Firefox', () => {
    offlineCases(() => launchFirefox())
  })
})
