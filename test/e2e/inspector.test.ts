/**
 * <offthread-inspector> in Chromium, Firefox (Playwright) and WebKit (WebKitWebDriver), through
 * test/e2e/tabs.ts, on a production build served with a strict Content-Security-Policy header:
 * it renders with no violation, it works from the keyboard, and 100,000 stored jobs scroll top
 * to bottom with no long task. Chromium also saves docs/inspector.png for the README (when it is
 * missing, or with UPDATE_SCREENSHOTS=1).
 *
 * The scroll figures (longest task, longest gaps between frames and between timers, list()
 * calls, rows in the DOM) are logged for the notes; the assertion is the contract's "no long
 * task" (or what stands in for it: {@link MAIN_THREAD}), with a margin for this shared machine
 * (100 ms, not 50).
 *
 * Each engine has one tab group (one storage), each test a tab of its own on a queue of its own.
 * What "no page error, no console error" checks differs by driver: see `Tab.consoleErrors`
 * (in WebKit, what the page's scripts log; a CSP violation is seen by every engine in the page,
 * through `securitypolicyviolation`).
 */
import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build, preview } from 'vite'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ALL_ENGINES, ENGINE_NAMES, launchEngine, type Engine, type EngineBrowser, type Tab, type TabGroup } from './tabs.js'

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; worker-src 'self' blob:"
/**
 * Jobs stored for the scroll test, in every engine: with the three engines storing theirs at once
 * (10,000 a transaction), Chromium took 12.3 to 13.4 s here, Firefox 13.1 to 14.8 s, WebKit (its
 * automation session's IndexedDB is in memory) 11.0 to 13.3 s (three runs).
 */
const BIG = 100_000
/**
 * What measures the main thread while the list scrolls, in each engine. Chromium has the Long
 * Tasks API, which measures what the contract states; the others have not, and a coarser measure
 * stands in for it: in Firefox the gaps between animation frames, in WebKit the gaps between
 * zero-delay timers. WebKit's frames are no measure of its main thread here: in MiniBrowser on Xvfb
 * (software rendering) the idle inspector page had gaps of up to 61 ms between its frames and 12 ms
 * between its timers; while the list scrolled, 78 to 97 ms between frames and 18 to 41 ms between
 * timers (six scrolls). With another job loading the machine both grew past 100 ms (frames 195 to
 * 704 ms, timers 79 to 257 ms): WebKit's timers measure the machine as much as the page, and CI runs
 * this file beside the other projects. So WebKit's bound is a gross one (no task near a second: a
 * list that rendered every row, or read every job, would take seconds); the contract's bound (100 ms,
 * for 50 and this shared machine) is held by the engines that measure the page itself.
 */
const MAIN_THREAD: Record<Engine, { measure: 'maxLongTask' | 'maxFrameGap' | 'maxTimerGap'; below: number }> = {
  chromium: { measure: 'maxLongTask', below: 100 },
  firefox: { measure: 'maxFrameGap', below: 100 },
  webkit: { measure: 'maxTimerGap', below: 1000 },
}
const CHUNK = 10_000
const STEPS = 50
const VIEWPORT = { width: 1120, height: 760 }

type Fixture = {
  ready: Promise<boolean>
  violations: string[]
  isInspector: boolean
  seed(): Promise<{ failed: string }>
  addMany(total: number, chunk: number): Promise<number>
  scroll(steps: number, total: number): Promise<Record<string, number | boolean | string[]>>
}
declare const fixture: Fixture

// The built package (`npm run build`), as an app gets it: its `sideEffects` keep the element's definition.
const dist = (file: string): string => fileURLToPath(new URL(`../../dist/${file}`, import.meta.url))
const outDir = fileURLToPath(new URL('../../test-results/e2e-inspector-fixture/', import.meta.url))
const screenshot = fileURLToPath(new URL('../../docs/inspector.png', import.meta.url))
let url: string
let stop: (() => Promise<void>) | undefined
/** Per engine: its browser, and the tab group whose storage holds the big queue (and the other tests' queues). */
const engines = new Map<Engine, { browser: EngineBrowser; tabs?: TabGroup; insertMs?: number }>()

async function waitForFixture(tab: Tab): Promise<void> {
  await tab.waitFor(() => (window as unknown as { fixture?: Fixture }).fixture !== undefined)
  await tab.evaluate(() => fixture.ready)
}

beforeAll(async () => {
  await build({
    configFile: false,
    logLevel: 'warn',
    root: fileURLToPath(new URL('./inspector-fixture/', import.meta.url)),
    resolve: {
      alias: [
        { find: /^offthread\/worker$/, replacement: dist('worker.js') },
        { find: /^offthread\/inspector$/, replacement: dist('inspector.js') },
        { find: /^offthread$/, replacement: dist('index.js') },
      ],
    },
    build: { outDir, emptyOutDir: true, target: 'es2022' },
    worker: { format: 'es' },
  })
  // The policy as a header, on every response: the page, its scripts, its worker.
  const server = await preview({
    configFile: false,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false, headers: { 'Content-Security-Policy': CSP } },
  })
  const address = server.httpServer.address()
  if (!address || typeof address === 'string') throw new Error('vite preview did not listen on a port')
  url = `http://127.0.0.1:${address.port}/`
  stop = () => server.close()
  // The big queue: stored once per engine, the engines at once, with no inspector in the page.
  await Promise.all(
    ALL_ENGINES.map(async (engine) => {
      const state: { browser: EngineBrowser; tabs?: TabGroup; insertMs?: number } = { browser: await launchEngine(engine) }
      engines.set(engine, state)
      state.tabs = await state.browser.group({ viewport: VIEWPORT })
      const tab = await state.tabs.open()
      await tab.goto(`${url}?queue=big&noworker&bare`)
      await waitForFixture(tab)
      state.insertMs = await tab.evaluate(([n, chunk]) => fixture.addMany(n, chunk), [BIG, CHUNK] as const)
      await tab.close()
    }),
  )
}, 120_000)

afterAll(async () => {
  for (const { browser, tabs } of engines.values()) {
    await tabs?.close().catch(() => undefined)
    await browser.close().catch(() => undefined)
  }
  await stop?.()
})

// The inspector's parts are in its shadow root: these helpers read them in the page.
/** The text of the first element that matches `selector` in the inspector (null when none). */
const textOf = (tab: Tab, selector: string): Promise<string | null> =>
  tab.evaluate<string | null, string>(
    (s) => document.querySelector('offthread-inspector')?.shadowRoot?.querySelector(s)?.textContent ?? null,
    selector,
  )
/** Attribute `name` of the first element that matches `selector` in the inspector (null when none). */
const attributeOf = (tab: Tab, selector: string, name: string): Promise<string | null> =>
  tab.evaluate<string | null, readonly [string, string]>(
    ([s, n]) => document.querySelector('offthread-inspector')?.shadowRoot?.querySelector(s)?.getAttribute(n) ?? null,
    [selector, name],
  )
/** How many elements match `selector` in the inspector. */
const countOf = (tab: Tab, selector: string): Promise<number> =>
  tab.evaluate((s) => document.querySelector('offthread-inspector')?.shadowRoot?.querySelectorAll(s).length ?? 0, selector)
/** Whether the first element that matches `selector` in the inspector is visible (a box, not `visibility: hidden`), as Playwright's `isVisible`. */
const isVisible = (tab: Tab, selector: string): Promise<boolean> =>
  tab.evaluate((s) => {
    const el = document.querySelector('offthread-inspector')?.shadowRoot?.querySelector(s)
    if (!el) return false
    const box = el.getBoundingClientRect()
    return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== 'hidden'
  }, selector)
/** The role of what has the focus in the inspector ('' when nothing there has it). */
const focusedRole = (tab: Tab): Promise<string> =>
  tab.evaluate(() => document.querySelector('offthread-inspector')?.shadowRoot?.activeElement?.getAttribute('role') ?? '')
/** The page's errors and console errors (what each engine sees: `Tab.consoleErrors`). */
const problems = async (tab: Tab): Promise<string[]> => [
  ...(await tab.pageErrors()).map((message) => `pageerror: ${message}`),
  ...(await tab.consoleErrors()).map((message) => `console: ${message}`),
]

describe.each(ALL_ENGINES.map((engine) => [ENGINE_NAMES[engine], engine] as const))('<offthread-inspector> in %s', (_name, engine) => {
  const opened: Tab[] = []
  afterEach(async () => {
    for (const tab of opened.splice(0)) await tab.close().catch(() => undefined)
  })

  /** A tab of the engine's group with the page open at `?query` (each test on a queue of its own). */
  async function open(query: string): Promise<Tab> {
    const tabs = engines.get(engine)?.tabs
    if (!tabs) throw new Error(`no tab group for ${engine}`)
    const tab = await tabs.open()
    opened.push(tab)
    await tab.goto(`${url}?${query}`)
    await waitForFixture(tab)
    return tab
  }

  it('renders under a strict CSP (header) with no violation; the styles apply', async () => {
    const tab = await open('queue=csp&noworker')
    await tab.evaluate(() => fixture.addMany(3, 3))
    const view = await tab.evaluate(async () => {
      const el = document.querySelector('offthread-inspector') as HTMLElement
      const root = el.shadowRoot as ShadowRoot
      for (let i = 0; i < 100 && root.querySelectorAll('.row .id:not(:empty)').length < 3; i++) await new Promise((r) => setTimeout(r, 50))
      const row = root.querySelector('.row') as HTMLElement
      return {
        isInspector: fixture.isInspector,
        adopted: root.adoptedStyleSheets.length,
        styleElements: root.querySelectorAll('style').length,
        rows: root.querySelectorAll('.row .id:not(:empty)').length,
        waiting: root.querySelector('.count[data-status="waiting"] .n')?.textContent,
        rowHeight: getComputedStyle(row).height,
        rowPosition: getComputedStyle(row).position,
        hostHeight: el.getBoundingClientRect().height,
        violations: [...fixture.violations],
      }
    })
    expect(view).toMatchObject({ isInspector: true, adopted: 1, styleElements: 0, rows: 3, waiting: '3', rowHeight: '28px', rowPosition: 'absolute' })
    expect(view.hostHeight).toBeGreaterThan(200)
    expect(view.violations).toEqual([])
    expect(await problems(tab)).toEqual([])

    // The policy is enforced and a violation would be seen: an inline style attribute is refused.
    const refused = await tab.evaluate(async () => {
      document.body.setAttribute('style', 'color: red')
      for (let i = 0; i < 40 && fixture.violations.length === 0; i++) await new Promise((r) => setTimeout(r, 25))
      return fixture.violations
    })
    expect(refused).toHaveLength(1)
    expect(refused[0]).toMatch(/^style-src/)
  })

  it('keyboard: Tab reaches the list, ArrowDown moves, Enter opens that job, Escape closes', async () => {
    const tab = await open('queue=media')
    const { failed } = await tab.evaluate(() => fixture.seed())
    await expect.poll(() => textOf(tab, '.count[data-status="completed"] .n')).toBe('22')

    let focused = ''
    for (let i = 0; i < 20 && focused !== 'listbox'; i++) {
      await tab.press('Tab')
      focused = await focusedRole(tab)
    }
    expect(focused).toBe('listbox')
    await expect.poll(() => attributeOf(tab, '[role="listbox"]', 'aria-activedescendant')).toBe('row-0')
    await tab.press('ArrowDown')
    await expect.poll(() => attributeOf(tab, '[role="listbox"]', 'aria-activedescendant')).toBe('row-1')
    const id = await textOf(tab, '.row[data-index="1"] .id')
    expect(id).toMatch(/\S/)
    await tab.press('Enter')
    await expect.poll(() => isVisible(tab, '.detail')).toBe(true)
    await expect.poll(() => textOf(tab, '.detail .sub')).toBe(id)
    await tab.press('Escape')
    await expect.poll(() => isVisible(tab, '.detail')).toBe(false)
    expect(await focusedRole(tab)).toBe('listbox')

    // The failed job's detail, open: the README's screenshot (one engine is enough).
    const index = await tab.evaluate(
      (failedId) =>
        [...(document.querySelector('offthread-inspector')?.shadowRoot?.querySelectorAll('.row') ?? [])]
          .find((row) => row.querySelector('.id')?.textContent === failedId)
          ?.getAttribute('data-index') ?? null,
      failed,
    )
    expect(index).toMatch(/^\d+$/)
    await tab.click(`.row[data-index="${index}"]`)
    await expect.poll(() => countOf(tab, '.detail .attempts > li')).toBe(3)
    await expect.poll(() => countOf(tab, '.detail .logs > li')).toBeGreaterThan(0)
    expect(await textOf(tab, '.detail .sub')).toBe(failed)
    expect(await textOf(tab, '.detail .error-section .message')).toBe('UploadError: Upload of harbour@1024.webp failed: 503 Service Unavailable')
    // Written when missing, or with UPDATE_SCREENSHOTS=1 (not on every run: the ids and times differ each time).
    if (engine === 'chromium' && (!existsSync(screenshot) || process.env['UPDATE_SCREENSHOTS'])) {
      await tab.evaluate(() => {
        const el = document.querySelector('offthread-inspector') as HTMLElement
        ;(el.shadowRoot?.activeElement as HTMLElement | null)?.blur()
        // Tall enough for the error, its stack and the attempts (a CSSOM write: the CSP allows it).
        el.style.height = '700px'
      })
      mkdirSync(fileURLToPath(new URL('../../docs/', import.meta.url)), { recursive: true })
      // (The inspector has no CSS animation or transition to stop first.)
      await tab.screenshot(screenshot, 'offthread-inspector')
    }
    expect(await tab.evaluate(() => fixture.violations)).toEqual([])
    expect(await problems(tab)).toEqual([])
  })

  it(`${BIG.toLocaleString('en')} stored jobs scroll top to bottom with no long task`, async () => {
    const insertMs = engines.get(engine)?.insertMs ?? NaN
    const tab = await open('queue=big&noworker')
    // The count in the page's own locale (MiniBrowser's here is en-US-u-va-posix: no digit grouping).
    const count = await tab.evaluate((n) => new Intl.NumberFormat().format(n), BIG)
    await expect.poll(() => textOf(tab, '.total'), { timeout: 10_000 }).toBe(`${count} jobs`)
    const figures = await tab.evaluate(([steps, total]) => fixture.scroll(steps, total), [STEPS, BIG] as const)
    console.log(`[inspector e2e] ${engine}: inserted ${BIG} jobs in ${Math.round(insertMs)} ms; scroll figures ${JSON.stringify(figures)}`)

    expect(figures['mismatches']).toEqual([])
    expect(figures['bottomShowsOldest']).toBe(true)
    expect(figures['maxRows']).toBeLessThan(100)
    // One window read per step or so, never a read per row.
    expect(figures['listCalls']).toBeLessThanOrEqual(STEPS * 3)
    // Only where the Long Tasks API is (an engine that gains it should be measured with it).
    expect(figures['longTaskSupported']).toBe(MAIN_THREAD[engine].measure === 'maxLongTask')
    expect(figures[MAIN_THREAD[engine].measure]).toBeLessThan(MAIN_THREAD[engine].below)
    expect(await problems(tab)).toEqual([])
  })
})
