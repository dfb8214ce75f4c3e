/**
 * A deploy while tabs stay open: real tabs of two releases of one app (two worker
 * modules, `version` 1 and 2) on one queue, in Chromium and Firefox. The browser-mode
 * twin (test/browser/releases.test.ts, all three engines) plays the tabs as queues of
 * one page; here each release is a page of its own.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { E2E_ENGINES, launchBrowser, serveStatic } from './harness.js'

declare const harness: {
  role(): string
  runner(): number | undefined
  failed(): string[]
  add(name: string, data: unknown): Promise<string>
  result(id: string): Promise<unknown>
  status(id: string): Promise<string | undefined>
}

let outDir: string
let server: { url: string; close: () => Promise<void> }

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'offthread-releases-'))
  const { build } = await import('vite')
  await build({
    configFile: false,
    logLevel: 'warn',
    root: fileURLToPath(new URL('./release-fixture/', import.meta.url)),
    build: { outDir, emptyOutDir: true, target: 'es2022' },
    worker: { format: 'es' },
  })
  server = await serveStatic(outDir)
}, 60_000)

afterAll(async () => {
  await server?.close()
  rmSync(outDir, { recursive: true, force: true })
})

async function open(browser: Browser, release: number, context = browser.contexts()[0]): Promise<Page> {
  const page = await (context ?? (await browser.newContext())).newPage()
  await page.goto(`${server.url}?release=${release}`)
  await page.waitForFunction(() => typeof harness === 'object')
  return page
}

describe.each(E2E_ENGINES)('%s: tabs of two releases on one queue', (engine) => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launchBrowser(engine)
  })
  afterAll(async () => {
    await browser?.close()
  })

  it("the newer tab's job of its new task completes while the older tab stays open; the job running at the handover is not lost", async () => {
    const context = await browser.newContext()
    const older = await open(browser, 1, context)
    await older.waitForFunction(() => harness.role() === 'runner')
    const long = await older.evaluate(() => harness.add('shared', 4000))
    await older.waitForFunction((id) => harness.status(id).then((s) => s === 'running'), long)
    const newer = await open(browser, 2, context)
    const started = Date.now()
    const fresh = await newer.evaluate(() => harness.add('fresh', 1))
    expect(await newer.evaluate((id) => harness.result(id), fresh)).toBe('fresh 1')
    expect(Date.now() - started).toBeLessThan(8000)
    expect(await newer.evaluate(() => harness.role())).toBe('runner')
    expect(await older.evaluate(() => harness.role())).toBe('follower')
    // Running at the handover (4 s long, abortGrace 300 ms): stopped there, run again in the newer tab.
    expect(await older.evaluate((id) => harness.result(id), long)).toBe('2')
    expect(await older.evaluate(() => harness.failed())).toEqual([])
    await older.waitForFunction(() => harness.runner() === 2)
    // An older tab opened after the newer one does not take the queue.
    const late = await open(browser, 1, context)
    await late.waitForTimeout(1000)
    expect(await late.evaluate(() => harness.role())).toBe('follower')
    expect(await newer.evaluate(() => harness.role())).toBe('runner')
    await context.close()
  })
})
