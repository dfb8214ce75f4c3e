/**
 * A deploy while tabs stay open: real tabs of two releases of one app (two worker
 * modules, `version` 1 and 2) on one queue, in Chromium, Firefox and WebKit. The browser-mode
 * twin (test/browser/releases.test.ts, all three engines) plays the tabs as queues of
 * one page; here each release is a page of its own.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveStatic } from './harness.js'
import { ALL_ENGINES, ENGINE_NAMES, launchEngine, type EngineBrowser, type Tab, type TabGroup } from './tabs.js'

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

/** Opens a tab of `release` in `tabs`. */
async function open(tabs: TabGroup, release: number): Promise<Tab> {
  const page = await tabs.open()
  await page.goto(`${server.url}?release=${release}`)
  await page.waitFor(() => typeof harness === 'object')
  return page
}

describe.each(ALL_ENGINES.map((engine) => [ENGINE_NAMES[engine], engine] as const))('%s: tabs of two releases on one queue', (_name, engine) => {
  let browser: EngineBrowser
  beforeAll(async () => {
    browser = await launchEngine(engine)
  })
  afterAll(async () => {
    await browser?.close()
  })

  it("the newer tab's job of its new task completes while the older tab stays open; the job running at the handover is not lost", async () => {
    const tabs = await browser.group()
    const older = await open(tabs, 1)
    await older.waitFor(() => harness.role() === 'runner')
    const long = await older.evaluate(() => harness.add('shared', 4000))
    await older.waitFor((id) => harness.status(id).then((s) => s === 'running'), long)
    const newer = await open(tabs, 2)
    const started = Date.now()
    const fresh = await newer.evaluate(() => harness.add('fresh', 1))
    expect(await newer.evaluate((id) => harness.result(id), fresh)).toBe('fresh 1')
    expect(Date.now() - started).toBeLessThan(8000)
    expect(await newer.evaluate(() => harness.role())).toBe('runner')
    expect(await older.evaluate(() => harness.role())).toBe('follower')
    // Running at the handover (4 s long, abortGrace 300 ms): stopped there, run again in the newer tab.
    expect(await older.evaluate((id) => harness.result(id), long)).toBe('2')
    expect(await older.evaluate(() => harness.failed())).toEqual([])
    await older.waitFor(() => harness.runner() === 2)
    // An older tab opened after the newer one does not take the queue.
    const late = await open(tabs, 1)
    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect(await late.evaluate(() => harness.role())).toBe('follower')
    expect(await newer.evaluate(() => harness.role())).toBe('runner')
    await tabs.close()
  })
})
