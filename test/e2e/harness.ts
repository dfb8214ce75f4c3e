/**
 * Shared pieces of the end-to-end tests: the system's Chromium and Firefox through
 * Playwright, and a Vite server on 127.0.0.1 started and stopped by the test itself.
 * (All three engines, WebKit included, behind one interface: test/e2e/tabs.ts.)
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { chromium, firefox, type Browser } from 'playwright'
import { preview, type PreviewServer } from 'vite'
import { CHROMIUM_ARGS, FIREFOX_PREFS, findChromium, findFirefox, HOW_TO_GET } from '../../scripts/browsers.mjs'
import { tolerateUnknownEmulationCommands } from '../../scripts/firefox-bidi.mjs'

/**
 * The engines Playwright drives. Not WebKit: Playwright cannot drive WebKitGTK's MiniBrowser
 * (it refuses Playwright's `--inspector-pipe`), and Playwright's own WebKit build is a
 * download, which these machines cannot make. A scenario written against test/e2e/tabs.ts
 * runs in all three engines, WebKit through WebKitWebDriver.
 */
export const E2E_ENGINES = ['chromium', 'firefox'] as const
export type E2EEngine = (typeof E2E_ENGINES)[number]

/** Launches the system's headless Chromium or Firefox (or fails saying how to get it). */
export async function launchBrowser(engine: E2EEngine): Promise<Browser> {
  return engine === 'chromium' ? launchChromium() : launchFirefox()
}

/** Launches the system's headless Firefox, with `prefs` on top of the tests' own (or fails saying how to get it). */
export async function launchFirefox(prefs: Record<string, string | number | boolean> = {}): Promise<Browser> {
  const found = findFirefox()
  if (!found) throw new Error(HOW_TO_GET.firefox)
  tolerateUnknownEmulationCommands()
  // WebDriver BiDi: the system Firefox as it is (no Playwright build, no geckodriver).
  return firefox.launch({ channel: 'moz-firefox', executablePath: found.path, headless: true, firefoxUserPrefs: { ...FIREFOX_PREFS, ...prefs } })
}

/** Launches headless system Chromium (or fails saying how to get one). */
export async function launchChromium(): Promise<Browser> {
  const found = await findChromium()
  if (!found) throw new Error(HOW_TO_GET.chromium)
  return chromium.launch({ executablePath: found.path, headless: true, args: [...CHROMIUM_ARGS] })
}

/**
 * Serves a built folder with `vite preview` on a free port of 127.0.0.1. A path for which
 * `refuse` is true gets a 404, as a file a deploy took off the server.
 */
export async function serveStatic(
  outDir: string,
  refuse?: (path: string) => boolean,
  /** Answers a request itself (returns true), or leaves it to the static files (false). */
  answer?: (request: IncomingMessage, response: ServerResponse) => boolean,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server: PreviewServer = await preview({
    configFile: false,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
    plugins:
      refuse || answer
        ? [
            {
              name: 'refuse',
              configurePreviewServer(preview) {
                preview.middlewares.use((request, response, next) => {
                  if (answer?.(request, response)) return
                  if (!refuse?.(request.url ?? '')) return next()
                  response.statusCode = 404
                  response.end()
                })
              },
            },
          ]
        : [],
  })
  const address = server.httpServer.address()
  if (!address || typeof address === 'string') throw new Error('vite preview did not listen on a port')
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: () => server.close(),
  }
}

/** Builds the Playwright fixture page (test/e2e/fixture) into `outDir`, importing offthread from src/. */
export async function buildFixture(outDir: string): Promise<void> {
  const { build } = await import('vite')
  const { fileURLToPath } = await import('node:url')
  const src = (file: string): string => fileURLToPath(new URL(`../../src/${file}`, import.meta.url))
  await build({
    configFile: false,
    logLevel: 'warn',
    root: fileURLToPath(new URL('./fixture/', import.meta.url)),
    resolve: {
      alias: [
        { find: /^offthread\/worker$/, replacement: src('worker.ts') },
        { find: /^offthread$/, replacement: src('index.ts') },
      ],
    },
    build: { outDir, emptyOutDir: true, target: 'es2022' },
    worker: { format: 'es' },
  })
}
