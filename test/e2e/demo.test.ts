/**
 * The demo, built as for a static host and served from a sub path, driven in
 * Chromium and Firefox: a render that survives a reload, a stuck job cancelled, a
 * flaky job retried, sample images, and a screenshot (Chromium's is the README's,
 * test/artifacts/demo.png; Firefox's goes to test-results/).
 */
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Browser, BrowserContext, Page } from 'playwright'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { E2E_ENGINES, launchBrowser, serveStatic, type E2EEngine } from './harness.js'

const repo = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url))
const siteDir = repo('test-results/demo-site')
const SUB = 'demo/sub/'
const ABORT_GRACE = 1000

let browser: Browser
let context: BrowserContext
let page: Page
let site: string
let url: string
let stopServer: () => Promise<void>
const pageErrors: string[] = []

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

/** A fresh browser and context (its own IndexedDB and localStorage) for one engine's run of the story. */
function useEngine(engine: E2EEngine): void {
  beforeAll(async () => {
    url = `${site}${SUB}?queue=demo-e2e-${engine}-${Date.now()}&concurrency=2`
    browser = await launchBrowser(engine)
    context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, deviceScaleFactor: 1 })
    page = await context.newPage()
    pageErrors.length = 0
    page.on('pageerror', (error) => pageErrors.push(error.message))
  })
  afterAll(async () => {
    await context?.close()
    await browser?.close()
  })
}

/** Where a screenshot goes: Chromium's are the README's pictures; the other engines' are for looking at. */
function screenshotPath(engine: E2EEngine, file: string): string {
  const dir = engine === 'chromium' ? repo('test/artifacts') : repo(`test-results/screenshots-${engine}`)
  mkdirSync(dir, { recursive: true })
  return `${dir}/${file}`
}

async function open(reload = false): Promise<void> {
  if (reload) await page.reload()
  else await page.goto(url)
  await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 })
}

const tilesDone = (): Promise<number> => page.$eval('#tiles-done', (el) => Number((el as HTMLElement).dataset['done']))

for (const engine of E2E_ENGINES) {
  describe(`demo (built, served from a sub path, in ${engine})`, () => {
    // The render-and-reload test runs in every engine; the demo's other features (second tab,
    // stuck cancel, images, retries) in Chromium, for suite time: each is tested in every
    // engine by test/browser, test/adversarial and the conformance suite.
    const inChromium = engine === 'chromium' ? it : () => undefined
    useEngine(engine)

    it('renders tiles in workers with live progress, and a reload mid-render resumes the rest', async () => {
      await open()
      await expect.poll(() => page.$eval('#role', (el) => (el as HTMLElement).dataset['role'])).toBe('runner')
      // The first visit starts a render by itself; progress bars of running tiles move.
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll<HTMLElement>('.tile[data-status="running"] .tile-bar span')].some((bar) => {
            const width = parseFloat(bar.style.width)
            return width > 0 && width < 100
          }),
        undefined,
        { timeout: 10_000, polling: 'raf' },
      )
      await expect.poll(tilesDone, { timeout: 15_000, interval: 50 }).toBeGreaterThanOrEqual(2)
      await page.locator('.render').screenshot({ path: screenshotPath(engine, 'demo-rendering.png') })
      const before = await tilesDone()
      expect(before).toBeLessThan(16)

      await open(true)
      // Finished tiles are drawn again from storage; the unfinished ones run on.
      await expect.poll(tilesDone, { timeout: 20_000, interval: 100 }).toBe(16)
      const painted = await page.$eval('#render-canvas', (canvas) => {
        const c = canvas as HTMLCanvasElement
        const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height)
        let opaque = 0
        for (let i = 3; i < data.length; i += 4) if (data[i] === 255) opaque++
        return opaque / (c.width * c.height)
      })
      expect(painted).toBe(1)
      // Each tile is its own row in the jobs table.
      expect(await page.locator('tr[data-task="tile"][data-status="completed"]').count()).toBe(16)
    })

    inChromium('a second tab is a follower: it shows the same jobs, and the first tab stays the runner', async () => {
      const second = await context.newPage()
      await second.goto(url)
      await second.waitForSelector('body[data-ready="true"]', { timeout: 10_000 })
      expect(await second.$eval('#role', (el) => (el as HTMLElement).dataset['role'])).toBe('follower')
      await expect.poll(() => second.$eval('#tiles-done', (el) => (el as HTMLElement).dataset['done'])).toBe('16')
      await second.close()
      expect(await page.$eval('#role', (el) => (el as HTMLElement).dataset['role'])).toBe('runner')
    })

    inChromium('cancels a job stuck in a busy loop: its worker is terminated after abortGrace', async () => {
      await page.click('#stuck')
      const row = page.locator('tr[data-task="stuck"]').first()
      await expect.poll(() => row.getAttribute('data-status'), { timeout: 5_000, interval: 50 }).toBe('running')
      const t0 = Date.now()
      await row.locator('button.cancel').click()
      await expect.poll(() => row.getAttribute('data-status'), { timeout: ABORT_GRACE + 3_000, interval: 25 }).toBe('cancelled')
      expect(Date.now() - t0).toBeLessThan(ABORT_GRACE + 1_000)
    })

    inChromium('makes sample images, filters them in workers, and takes 1,000 jobs with the table capped at the newest 200', async () => {
      await page.click('#samples')
      await expect.poll(() => page.locator('.gallery figure[data-status="completed"] img').count(), { timeout: 10_000 }).toBe(6)
      const widths = await page.$$eval('.gallery img', (imgs) => imgs.map((img) => (img as HTMLImageElement).naturalWidth))
      expect(widths.every((w) => w === 240)).toBe(true)

      await page.click('#bulk')
      await expect.poll(() => page.locator('#jobs tr').count(), { timeout: 5_000 }).toBe(200)
      await expect
        .poll(() => page.$eval('#counts [data-status="completed"]', (el) => parseInt(el.textContent ?? '0')), { timeout: 20_000 })
        .toBeGreaterThan(1000)
    })

    inChromium('retries a job that fails twice, then succeeds on attempt 3 (the pool recovered from the terminated worker)', async () => {
      await page.click('#flaky')
      const row = page.locator('tr[data-task="flaky"]').first()
      await expect.poll(() => row.getAttribute('data-status'), { timeout: 8_000, interval: 50 }).toBe('completed')
      expect(await row.locator('.attempt').textContent()).toBe('3')
      // It was selected when added: its logs show each attempt.
      await expect
        .poll(() => page.locator('#logs li').allTextContents(), { timeout: 3_000 })
        .toEqual(expect.arrayContaining([expect.stringContaining('attempt 1'), expect.stringContaining('third time lucky')]))
      await page.waitForTimeout(300)
      await page.screenshot({ path: screenshotPath(engine, 'demo.png'), fullPage: true })
      expect(pageErrors).toEqual([])
    })
  })
}
