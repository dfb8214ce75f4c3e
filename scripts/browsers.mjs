// Finds the three browser engines the tests run in, from the system only
// (browser downloads are not possible here: never run `playwright install`).
//
//   chromium  $CHROMIUM_PATH, /usr/bin/chromium, else Playwright's own if on disk
//   firefox   $FIREFOX_PATH, /usr/bin/firefox-esr, /usr/bin/firefox
//   webkit    WebKitGTK's WebDriver and MiniBrowser, and Xvfb (MiniBrowser has no
//             headless mode): $WEBKIT_DRIVER_PATH or /usr/bin/WebKitWebDriver,
//             $MINIBROWSER_PATH or /usr/lib/<arch>/webkit2gtk-4.{1,0}/MiniBrowser,
//             $XVFB_PATH or /usr/bin/Xvfb
//
// An environment variable wins when set, even if its file is missing, so that a
// typo is reported instead of silently replaced.
import { existsSync, readdirSync } from 'node:fs'

/** @type {ReadonlyArray<'chromium' | 'firefox' | 'webkit'>} */
export const ENGINES = Object.freeze(['chromium', 'firefox', 'webkit'])

/** Debian packages that provide each engine (`apt-get install -y …`). */
export const APT_PACKAGES = Object.freeze({
  chromium: ['chromium'],
  firefox: ['firefox-esr'],
  webkit: ['webkit2gtk-driver', 'xvfb'],
})

/**
 * Flags for headless Chromium on these machines: no sandbox (root), no GPU,
 * and no background traffic (the network is closed; Chromium's own requests
 * would only fail, many at a time).
 */
export const CHROMIUM_ARGS = Object.freeze([
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
])

/** Firefox preferences for the tests: no network traffic of its own, no first-run pages. */
export const FIREFOX_PREFS = Object.freeze({
  'app.update.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
})

/**
 * @typedef {{ path: string, source: string }} Found
 * @typedef {{ engine: 'chromium' | 'firefox', path: string, source: string }} Located
 * @typedef {{ engine: 'webkit', path: string, source: string, driver: string, miniBrowser: string, xvfb: string }} LocatedWebKit
 */

/** @param {string} name @param {string[]} candidates @returns {Found | undefined} */
function pick(name, candidates) {
  const fromEnv = process.env[name]
  if (fromEnv) return { path: fromEnv, source: name }
  const path = candidates.find((candidate) => existsSync(candidate))
  return path ? { path, source: 'system' } : undefined
}

/** @returns {string[]} MiniBrowser locations of Debian's WebKitGTK packages, whatever the architecture. */
function miniBrowserCandidates() {
  const candidates = []
  for (const lib of ['/usr/lib', '/usr/libexec']) {
    let entries = []
    try {
      entries = readdirSync(lib)
    } catch {
      continue
    }
    for (const entry of ['.', ...entries]) {
      for (const version of ['webkit2gtk-4.1', 'webkit2gtk-4.0', 'webkitgtk-6.0']) {
        candidates.push(`${lib}/${entry}/${version}/MiniBrowser`.replace('/./', '/'))
      }
    }
  }
  return candidates
}

/** @returns {Promise<Located | undefined>} */
export async function findChromium() {
  const found = pick('CHROMIUM_PATH', ['/usr/bin/chromium'])
  if (found) return { engine: 'chromium', ...found }
  try {
    const { chromium } = await import('playwright')
    const path = chromium.executablePath()
    if (path && existsSync(path)) return { engine: 'chromium', path, source: 'playwright' }
  } catch {
    // playwright not installed or no browser registry: fall through
  }
  return undefined
}

/** @returns {Located | undefined} */
export function findFirefox() {
  const found = pick('FIREFOX_PATH', ['/usr/bin/firefox-esr', '/usr/bin/firefox'])
  return found && { engine: 'firefox', ...found }
}

/** @returns {LocatedWebKit | undefined} */
export function findWebKit() {
  const driver = pick('WEBKIT_DRIVER_PATH', ['/usr/bin/WebKitWebDriver'])
  const miniBrowser = pick('MINIBROWSER_PATH', miniBrowserCandidates())
  const xvfb = pick('XVFB_PATH', ['/usr/bin/Xvfb'])
  if (!driver || !miniBrowser || !xvfb) return undefined
  return { engine: 'webkit', path: driver.path, source: driver.source, driver: driver.path, miniBrowser: miniBrowser.path, xvfb: xvfb.path }
}

/** @param {string} engine @returns {Promise<Located | LocatedWebKit | undefined>} */
export async function findBrowser(engine) {
  if (engine === 'chromium') return findChromium()
  if (engine === 'firefox') return findFirefox()
  if (engine === 'webkit') return findWebKit()
  throw new Error(`unknown browser engine "${engine}" (one of ${ENGINES.join(', ')})`)
}

/** @param {Located | LocatedWebKit} found @returns {string[]} the files a location names that are missing */
export function missingFiles(found) {
  const files = found.engine === 'webkit' ? [found.driver, found.miniBrowser, found.xvfb] : [found.path]
  return files.filter((file) => !existsSync(file))
}

export const HOW_TO_GET = Object.freeze({
  chromium:
    'No Chromium found for the browser tests.\n' +
    '  - Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y chromium   (installs /usr/bin/chromium)\n' +
    '  - elsewhere: point CHROMIUM_PATH at any Chromium or Chrome executable, e.g. CHROMIUM_PATH=/path/to/chrome npm test',
  firefox:
    'No Firefox found for the browser tests.\n' +
    '  - Debian: sudo apt-get update && sudo apt-get install -y firefox-esr   (installs /usr/bin/firefox-esr)\n' +
    '  - elsewhere: point FIREFOX_PATH at a Firefox 128+ executable (it is driven over WebDriver BiDi; no geckodriver needed)',
  webkit:
    'No WebKit found for the browser tests (WebKitGTK: WebKitWebDriver, MiniBrowser, and Xvfb to give it a display).\n' +
    '  - Debian: sudo apt-get update && sudo apt-get install -y webkit2gtk-driver xvfb\n' +
    '  - elsewhere: set WEBKIT_DRIVER_PATH, MINIBROWSER_PATH and XVFB_PATH (a WebKitGTK build provides the first two)',
})

/** Kept for the callers that only want Chromium. */
export const HOW_TO_GET_CHROMIUM = HOW_TO_GET.chromium
