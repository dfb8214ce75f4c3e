/**
 * The demo, built as for a static host and served from a sub path, driven in
 * Chromium, Firefox (Playwright) and WebKit (WebKitWebDriver), one story each
 * through test/e2e/tabs.ts: a render that survives a reload, a second tab that
 * follows, a stuck job cancelled, sample images (not in WebKit: see below), 1,000
 * jobs with the table capped, a flaky job retried, and screenshots (Chromium's full
 * page is the README's, test/artifacts/demo.png; the other engines' go to test-results/).
 */
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveStatic } from './harness.js'
import { ALL_ENGINES, ENGINE_NAMES, launchEngine, type Engine, type EngineBrowser, type Tab, type TabGroup } from './tabs.js'

const repo = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url))
const siteDir = repo('test-results/demo-site')
const SUB = 'demo/sub/'
const ABORT_GRACE = 1000

let browser: EngineBrowser
let tabs: TabGroup
let page: Tab
let site: string
let url: string
let stopServer: () => Promise<void>

beforeAll(async () => {
  await build({
    configFile: repo('vite.config.ts'),
    root: repo('demo'),
    logLevel: 'warn',
    // Relative asset URLs, so the page works from any folder of a static host.
    base: './',
    build: { outDir: `${siteDir}/${SUB}`, emptyOutDir: true },
  })
  const server = await serveStatic(siteDir)
  site = server.url
  stopServer = server.close
})

afterAll(async () => {
  await stopServer?.()
})

/** A fresh browser and tab group (its own IndexedDB and localStorage) for one engine's run of the story. */
function useEngine(engine: Engine): void {
  beforeAll(async () => {
    url = `${site}${SUB}?queue=demo-e2e-${engine}-${Date.now()}&concurrency=2`
    browser = await launchEngine(engine)
    tabs = await browser.group({ viewport: { width: 1440, height: 1000 } })
    page = await tabs.open()
  })
  afterAll(async () => {
    await tabs?.close()
    await browser?.close()
  })
}

/** Where a screenshot goes: Chromium's are the README's pictures; the other engines' are for looking at. */
function screenshotPath(engine: Engine, file: string): string {
  const dir = engine === 'chromium' ? repo('test/artifacts') : repo(`test-results/screenshots-${engine}`)
  mkdirSync(dir, { recursive: true })
  return `${dir}/${file}`
}

/** Opens the demo in `tab` (or reloads it) and waits until it is ready. */
async function open(tab: Tab, reload = false): Promise<void> {
  if (reload) await tab.reload()
  else await tab.goto(url)
  await tab.waitFor(() => document.body.dataset['ready'] === 'true', undefined, { timeout: 10_000 })
}

const roleOf = (tab: Tab): Promise<string | undefined> => tab.evaluate(() => document.querySelector<HTMLElement>('#role')?.dataset['role'])
const tilesDone = (): Promise<number> => page.evaluate(() => Number(document.querySelector<HTMLElement>('#tiles-done')?.dataset['done']))
/** The status of the newest row of task `task` in the jobs table. */
const rowStatus = (task: string): Promise<string | null | undefined> =>
  page.evaluate((name) => document.querySelector(`tr[data-task="${name}"]`)?.getAttribute('data-status'), task)

for (const engine of ALL_ENGINES) {
  describe(`demo (built, served from a sub path) in ${ENGINE_NAMES[engine]}`, () => {
    useEngine(engine)

    it('renders tiles in workers with live progress, and a reload mid-render resumes the rest', async () => {
      await open(page)
      await expect.poll(() => roleOf(page)).toBe('runner')
      // The first visit starts a render by itself; progress bars of running tiles move.
      await page.waitFor(
        () =>
          [...document.querySelectorAll<HTMLElement>('.tile[data-status="running"] .tile-bar span')].some((bar) => {
            const width = parseFloat(bar.style.width)
            return width > 0 && width < 100
          }),
        undefined,
        { timeout: 10_000 },
      )
      await expect.poll(tilesDone, { timeout: 15_000, interval: 50 }).toBeGreaterThanOrEqual(2)
      await page.screenshot(screenshotPath(engine, 'demo-rendering.png'), '.render')
      const before = await tilesDone()
      expect(before).toBeLessThan(16)

      await open(page, true)
      // Finished tiles are drawn again from storage; the unfinished ones run on.
      await expect.poll(tilesDone, { timeout: 20_000, interval: 100 }).toBe(16)
      const painted = await page.evaluate(() => {
        const c = document.querySelector('#render-canvas') as HTMLCanvasElement
        const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height)
        let opaque = 0
        for (let i = 3; i < data.length; i += 4) if (data[i] === 255) opaque++
        return opaque / (c.width * c.height)
      })
      expect(painted).toBe(1)
      // Each tile is its own row in the jobs table (a live view of its own: it may follow a frame or so later).
      await expect
        .poll(() => page.evaluate(() => document.querySelectorAll('tr[data-task="tile"][data-status="completed"]').length), { timeout: 5_000 })
        .toBe(16)
    })

    it('a second tab is a follower: it shows the same jobs, and the first tab stays the runner', async () => {
      const second = await tabs.open()
      await open(second)
      expect(await roleOf(second)).toBe('follower')
      await expect.poll(() => second.evaluate(() => document.querySelector<HTMLElement>('#tiles-done')?.dataset['done'])).toBe('16')
      await second.close()
      expect(await roleOf(page)).toBe('runner')
    })

    it('cancels a job stuck in a busy loop: its worker is terminated after abortGrace', async () => {
      await page.click('#stuck')
      await expect.poll(() => rowStatus('stuck'), { timeout: 5_000, interval: 50 }).toBe('running')
      const t0 = Date.now()
      await page.click('tr[data-task="stuck"] button.cancel')
      await expect.poll(() => rowStatus('stuck'), { timeout: ABORT_GRACE + 3_000, interval: 25 }).toBe('cancelled')
      expect(Date.now() - t0).toBeLessThan(ABORT_GRACE + 1_000)
    })

    // WebKitGTK's automation session keeps IndexedDB in memory, where it refuses Blob values
    // ("Error preparing Blob/File data to be stored in object store"): there the samples cannot be
    // stored, and the demo must say so, with nothing added and the page still working.
    const storesBlobs = engine !== 'webkit'
    it(`makes sample images (Blobs stored in IndexedDB) and filters them in workers${storesBlobs ? '' : ', or, where IndexedDB refuses Blobs, says why it could not'}`, async () => {
      await page.click('#samples')
      if (storesBlobs) {
        await expect
          .poll(() => page.evaluate(() => document.querySelectorAll('.gallery figure[data-status="completed"] img').length), { timeout: 10_000 })
          .toBe(6)
        const widths = await page.evaluate(() => [...document.querySelectorAll<HTMLImageElement>('.gallery img')].map((img) => img.naturalWidth))
        expect(widths.every((w) => w === 240)).toBe(true)
      } else {
        await expect
          .poll(() => page.evaluate(() => document.querySelector('.gallery .add-error')?.textContent ?? ''), { timeout: 10_000 })
          .toMatch(/^Could not add the images: .*Blob/)
        expect(await page.evaluate(() => document.querySelectorAll('.gallery figure').length)).toBe(0)
      }
    })

    it('takes 1,000 jobs with the table capped at the newest 200', async () => {
      await page.click('#bulk')
      await expect.poll(() => page.evaluate(() => document.querySelectorAll('#jobs tr').length), { timeout: 5_000 }).toBe(200)
      await expect
        .poll(() => page.evaluate(() => parseInt(document.querySelector('#counts [data-status="completed"]')?.textContent ?? '0')), {
          timeout: 20_000,
        })
        .toBeGreaterThan(1000)
    })

    it('retries a job that fails twice, then succeeds on attempt 3 (the pool recovered from the terminated worker)', async () => {
      await page.click('#flaky')
      await expect.poll(() => rowStatus('flaky'), { timeout: 8_000, interval: 50 }).toBe('completed')
      expect(await page.evaluate(() => document.querySelector('tr[data-task="flaky"] .attempt')?.textContent)).toBe('3')
      // It was selected when added: its logs show each attempt.
      await expect
        .poll(() => page.evaluate(() => [...document.querySelectorAll('#logs li')].map((li) => li.textContent ?? '')), { timeout: 3_000 })
        .toEqual(expect.arrayContaining([expect.stringContaining('attempt 1'), expect.stringContaining('third time lucky')]))
      await new Promise((resolve) => setTimeout(resolve, 300))
      await page.screenshot(screenshotPath(engine, 'demo.png'))
      expect(await page.pageErrors()).toEqual([])
    })
  })
}
