/**
 * One way to drive tabs in all three engines, so that one scenario runs in each:
 * Chromium and Firefox through Playwright, WebKit (WebKitGTK's MiniBrowser) through
 * WebKitWebDriver and webdriverio's `remote()` (WebDriver classic; Playwright cannot
 * drive MiniBrowser). A scenario gets an {@link EngineBrowser}, asks it for a
 * {@link TabGroup} (tabs sharing one origin's storage) and drives its {@link Tab}s.
 *
 * What differs, and how it is bridged:
 * - WebDriver has one current window per session: every command of a WebKit tab switches
 *   to its window first, one command at a time (a mutex), so two calls never interleave.
 *   A call that awaits something in the page blocks the other tabs' calls meanwhile (the
 *   pages themselves run on).
 * - While one page's main thread is busy, WebKitWebDriver answers no command, to any window.
 * - A fresh storage is a new WebDriver session (MiniBrowser in automation mode keeps its
 *   data in memory), and WebKitWebDriver runs one session at a time: one group at a time.
 *   That in-memory IndexedDB refuses Blob values ("Error preparing Blob/File data to be
 *   stored in object store").
 * - Closing a session's last window ends the session: that tab goes to about:blank instead.
 * - `evaluate` gets its result as JSON text (WebDriver's own conversion turns every undefined
 *   into null, and reads an object with a top-level key `error` as an error): a property that
 *   is undefined is left out, as from Playwright, but an undefined in an array becomes null.
 * - Page errors and console messages do not come back over WebDriver classic: the page's
 *   errors, and what its scripts pass to `console.error`, are collected in the page from the
 *   moment it is loaded (see {@link Tab.consoleErrors} for what that leaves out).
 * - WebDriver's "find element" does not look into shadow roots, where Playwright's CSS does:
 *   a WebKit tab finds the element to click itself, in the document, then in open shadow roots.
 * - Keys are WebDriver key actions in WebKit: {@link KeyName} lists the keys that both drivers
 *   name alike.
 * - A new WebDriver window has its own size: the group's viewport is set on each (as the
 *   window's size: WebDriver has no viewport size).
 */
import type { Browser, BrowserContext, Page } from 'playwright'
import { Key, remote } from 'webdriverio'
import { findWebKit, HOW_TO_GET } from '../../scripts/browsers.mjs'
import { startWebKit } from '../../scripts/webkit-driver.mjs'
import { launchBrowser } from './harness.js'

/** Every engine, each with its driver. */
export const ALL_ENGINES = ['chromium', 'firefox', 'webkit'] as const
export type Engine = (typeof ALL_ENGINES)[number]

/** How a `describe` names an engine: with its driver, so that a report says which ran. */
export const ENGINE_NAMES: Readonly<Record<Engine, string>> = Object.freeze({
  chromium: 'Chromium (Playwright)',
  firefox: 'Firefox (Playwright)',
  webkit: 'WebKit (WebKitWebDriver)',
})

/** The keys {@link Tab.press} knows: named alike by Playwright and by webdriverio's `Key`. */
export type KeyName =
  | 'Tab'
  | 'Enter'
  | 'Escape'
  | 'Space'
  | 'Backspace'
  | 'Delete'
  | 'ArrowUp'
  | 'ArrowDown'
  | 'ArrowLeft'
  | 'ArrowRight'
  | 'Home'
  | 'End'
  | 'PageUp'
  | 'PageDown'

/** One tab: a page of a {@link TabGroup}. */
export interface Tab {
  /** Navigates and waits for the load event. */
  goto(url: string): Promise<void>
  /** Reloads and waits for the load event. */
  reload(): Promise<void>
  /**
   * Starts loading `url` in `ms` ms and returns at once, so that the test can make another
   * page busy meanwhile (WebKitWebDriver answers no window while a page's thread is busy: there
   * the page navigates by itself).
   */
  navigateLater(url: string, ms: number): Promise<void>
  /** Runs `fn(arg)` in the page (serialized: it may use only its argument and the page's globals) and awaits its result. */
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>
  /** Waits until `fn(arg)` is truthy in the page (or fails after `timeout` ms, 30 s by default). */
  waitFor<A = undefined>(fn: (arg: A) => unknown, arg?: A, options?: { timeout?: number }): Promise<void>
  /**
   * Clicks the first element that matches `selector`, as a user would: in the document, or else
   * in an open shadow root (a selector is matched within one tree: no combinator across a
   * shadow boundary).
   */
  click(selector: string): Promise<void>
  /** Presses and releases `key`, as a user would, in whatever has the focus. */
  press(key: KeyName): Promise<void>
  /** Saves a PNG of the element `selector`, or of the page (the viewport in WebKit, whose driver has no full-page shot). */
  screenshot(path: string, selector?: string): Promise<void>
  /**
   * The page's uncaught errors and unhandled rejections: since the tab was opened (Playwright),
   * since the page was last loaded (WebKit).
   */
  pageErrors(): Promise<string[]>
  /**
   * The page's console errors, as for {@link pageErrors}: since the tab was opened, or last loaded.
   * Chromium and Firefox: every console message of type error, the browser's own included (a
   * refused or failed load, say), but for a missing /favicon.ico, which a fixture need not have.
   * WebKit: what the page's scripts pass to `console.error` once it is loaded; not the browser's
   * own messages, nor a worker's (a check that matters sees its cause in the page: a
   * `securitypolicyviolation` event, an `error` event).
   */
  consoleErrors(): Promise<string[]>
  /** Closes the tab, as a user closes it. */
  close(): Promise<void>
}

/** Tabs that share one origin's storage, and only theirs (a Playwright context; a WebDriver session). */
export interface TabGroup {
  /** Opens a tab (the group's first one, then new ones), on about:blank. */
  open(): Promise<Tab>
  /** Closes every tab of the group, and its storage with it. */
  close(): Promise<void>
}

/** One engine's browser. */
export interface EngineBrowser {
  readonly engine: Engine
  /** A new group of tabs with a storage of its own; in WebKit, the group before it is closed first. */
  group(options?: { viewport?: { width: number; height: number } }): Promise<TabGroup>
  close(): Promise<void>
}

/** Launches `engine`'s browser (or fails saying how to get it). */
export async function launchEngine(engine: Engine): Promise<EngineBrowser> {
  return engine === 'webkit' ? launchWebKit() : playwrightEngine(engine, await launchBrowser(engine))
}

const DEFAULT_TIMEOUT = 30_000

function playwrightEngine(engine: 'chromium' | 'firefox', browser: Browser): EngineBrowser {
  return {
    engine,
    async group(options = {}) {
      const context: BrowserContext = await browser.newContext(options.viewport ? { viewport: options.viewport, deviceScaleFactor: 1 } : {})
      return {
        open: async () => playwrightTab(await context.newPage()),
        close: () => context.close(),
      }
    },
    close: () => browser.close(),
  }
}

function playwrightTab(page: Page): Tab {
  const errors: string[] = []
  const consoleErrors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) consoleErrors.push(message.text())
  })
  return {
    goto: async (url) => void (await page.goto(url)),
    reload: async () => void (await page.reload()),
    navigateLater: async (url, ms) => void setTimeout(() => void page.goto(url).catch(() => undefined), ms),
    evaluate: <R, A>(fn: (arg: A) => R | Promise<R>, arg?: A) => page.evaluate(fn as (arg: unknown) => R | Promise<R>, arg),
    waitFor: async (fn, arg, options) =>
      void (await page.waitForFunction(fn as (arg: unknown) => unknown, arg, { timeout: options?.timeout ?? DEFAULT_TIMEOUT })),
    click: (selector) => page.click(selector),
    press: (key) => page.keyboard.press(key),
    screenshot: async (path, selector) => {
      if (selector) await page.locator(selector).first().screenshot({ path })
      else await page.screenshot({ path, fullPage: true })
    },
    pageErrors: async () => [...errors],
    consoleErrors: async () => [...consoleErrors],
    close: () => page.close(),
  }
}

/** Records the page's errors and console errors in the page (WebDriver classic does not report them); run once per load. */
function collectErrors(): void {
  const w = window as unknown as { __e2eErrors?: string[]; __e2eConsoleErrors?: string[] }
  if (w.__e2eErrors) return
  const errors: string[] = (w.__e2eErrors = [])
  const consoleErrors: string[] = (w.__e2eConsoleErrors = [])
  addEventListener('error', (event) => errors.push(event.message))
  addEventListener('unhandledrejection', (event) => errors.push(String((event.reason as Error | undefined)?.message ?? event.reason)))
  const error = console.error.bind(console)
  // The arguments joined by spaces, as Playwright gives a message's text.
  console.error = (...args: unknown[]) => {
    consoleErrors.push(
      args.map((arg) => (arg instanceof Error ? String(arg) : typeof arg === 'object' ? JSON.stringify(arg) : String(arg))).join(' '),
    )
    error(...args)
  }
}

/** The first element that matches `selector` in the document, or else in an open shadow root (depth first); run in the page. */
function deepQuery(selector: string): HTMLElement | null {
  const search = (root: Document | ShadowRoot): HTMLElement | null => {
    const found = root.querySelector<HTMLElement>(selector)
    if (found) return found
    for (const host of root.querySelectorAll('*')) {
      const inner = host.shadowRoot ? search(host.shadowRoot) : null
      if (inner) return inner
    }
    return null
  }
  return search(document)
}

async function launchWebKit(): Promise<EngineBrowser> {
  const found = findWebKit()
  if (!found) throw new Error(HOW_TO_GET.webkit)
  const driver = await startWebKit(found)
  let current: TabGroup | undefined
  return {
    engine: 'webkit',
    async group(options = {}) {
      // WebKitWebDriver runs one session at a time: a group a failed test left open goes first.
      await current?.close()
      const session = await remote({ hostname: '127.0.0.1', port: driver.port, capabilities: driver.capabilities, logLevel: 'error' })
      await session.setTimeout({ script: 120_000, pageLoad: 30_000 })
      if (options.viewport) await session.setWindowSize(options.viewport.width, options.viewport.height)
      const group = webDriverGroup(session, options.viewport)
      current = group
      const close = group.close
      group.close = async () => {
        if (current === group) current = undefined
        await close()
      }
      return group
    },
    async close() {
      try {
        await current?.close()
      } finally {
        await driver.stop()
      }
    },
  }
}

function webDriverGroup(session: WebdriverIO.Browser, viewport: { width: number; height: number } | undefined): TabGroup {
  /** The windows of the session that are tabs of the group (a closed last one is kept, on about:blank). */
  const windows = new Set<string>()
  let first: string | undefined
  let switchedTo: string | undefined
  let chain: Promise<unknown> = Promise.resolve()
  let closed = false
  /** Runs `command` after every command asked for before it. */
  const serial = <T>(command: () => Promise<T>): Promise<T> => {
    const run = chain.then(() => {
      if (closed) throw new Error('this WebKit tab group is closed')
      return command()
    })
    chain = run.catch(() => undefined)
    return run
  }
  /** Runs `command` in window `handle`, after every command asked for before it. */
  const inWindow = <T>(handle: string, command: () => Promise<T>): Promise<T> =>
    serial(async () => {
      if (switchedTo !== handle) {
        await session.switchToWindow(handle)
        switchedTo = handle
      }
      return command()
    })
  const tab = (handle: string): Tab => {
    // The page returns JSON text: as from Playwright, a property whose value is undefined is left
    // out (WebDriver would make it null), and an object with a key `error` is not taken for an error.
    const evaluate = <R, A>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R> =>
      inWindow(handle, async () => {
        const script = `return Promise.resolve((${String(fn)}).apply(null, arguments)).then((value) => value === undefined ? null : JSON.stringify(value))`
        const json = await session.execute<string | null, [A | undefined]>(script, arg)
        return (json === null ? undefined : JSON.parse(json)) as R
      })
    const loaded = async (): Promise<void> => void (await session.execute(collectErrors))
    return {
      goto: (url) => inWindow(handle, async () => (await session.url(url), loaded())),
      reload: () => inWindow(handle, async () => (await session.refresh(), loaded())),
      navigateLater: (url, ms) => evaluate(([to, after]) => void setTimeout(() => location.assign(to), after), [url, ms] as const),
      evaluate,
      async waitFor(fn, arg, options) {
        const timeout = options?.timeout ?? DEFAULT_TIMEOUT
        const until = Date.now() + timeout
        while (!(await evaluate(fn, arg))) {
          if (Date.now() > until) throw new Error(`waitFor: ${String(fn)} was not true within ${timeout} ms`)
          await new Promise((resolve) => setTimeout(resolve, 25))
        }
      },
      click: (selector) =>
        inWindow(handle, async () => {
          // What the script returns is a plain WebDriver element reference here (not the element
          // webdriverio's types promise): `$` makes it an element.
          const found: unknown = await session.execute(deepQuery, selector)
          if (!found) throw new Error(`click: no element matches ${selector}`)
          await session.$(found as Parameters<typeof session.$>[0]).click()
        }),
      press: (key) => inWindow(handle, () => session.keys(Key[key])),
      screenshot: (path, selector) =>
        inWindow(handle, async () => void (await (selector ? session.$(selector).saveScreenshot(path) : session.saveScreenshot(path)))),
      pageErrors: () => evaluate(() => [...((window as unknown as { __e2eErrors?: string[] }).__e2eErrors ?? [])]),
      consoleErrors: () => evaluate(() => [...((window as unknown as { __e2eConsoleErrors?: string[] }).__e2eConsoleErrors ?? [])]),
      close: () =>
        inWindow(handle, async () => {
          if (windows.size > 1) {
            // webdriverio answers a closed window by switching to the session's first one itself, a
            // command it does not await: wait for it, so that it lands before the group's next
            // command (and not after the session is gone, an unhandled 'invalid session id').
            const switched = new Promise<void>((resolve) => {
              const onResult = (event: { command: string }): void => {
                if (event.command !== 'switchToWindow') return
                session.off('result', onResult)
                resolve()
              }
              session.on('result', onResult)
            })
            await session.closeWindow()
            await switched
            windows.delete(handle)
            switchedTo = undefined
          } else {
            // The session's last window: closing it would end the session (and the group's storage).
            await session.url('about:blank')
          }
        }),
    }
  }
  return {
    open: () =>
      serial(async () => {
        if (first === undefined) {
          first = await session.getWindowHandle()
          windows.add(first)
          return tab(first)
        }
        const handle = (await session.createWindow('window')).handle
        windows.add(handle)
        if (viewport) {
          await session.switchToWindow(handle)
          switchedTo = handle
          await session.setWindowSize(viewport.width, viewport.height)
        }
        return tab(handle)
      }),
    async close() {
      if (closed) return
      await chain
      closed = true
      await session.deleteSession()
    },
  }
}
