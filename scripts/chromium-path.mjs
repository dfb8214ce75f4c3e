// Resolves the Chromium executable used by the Vitest browser project and by
// Playwright-driven scripts. Order: $CHROMIUM_PATH, /usr/bin/chromium,
// Playwright's bundled Chromium (only if it is actually on disk).
// Browser downloads are not possible here: never run `playwright install`.
import { existsSync } from 'node:fs'

export const SYSTEM_CHROMIUM = '/usr/bin/chromium'

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

/**
 * @typedef {{ path: string, source: 'CHROMIUM_PATH' | 'system' | 'playwright' }} ChromiumLocation
 */

/**
 * Find a Chromium executable. Returns undefined when none is available.
 * `$CHROMIUM_PATH` wins when set, even if the file is missing (so a typo is
 * reported instead of silently ignored).
 * @returns {Promise<ChromiumLocation | undefined>}
 */
export async function findChromium() {
  const fromEnv = process.env['CHROMIUM_PATH']
  if (fromEnv) return { path: fromEnv, source: 'CHROMIUM_PATH' }
  if (existsSync(SYSTEM_CHROMIUM)) return { path: SYSTEM_CHROMIUM, source: 'system' }
  try {
    const { chromium } = await import('playwright')
    const path = chromium.executablePath()
    if (path && existsSync(path)) return { path, source: 'playwright' }
  } catch {
    // playwright not installed or no browser registry: fall through
  }
  return undefined
}

/**
 * Like findChromium, but returns only the path (undefined when none).
 * @returns {Promise<string | undefined>}
 */
export async function chromiumPath() {
  return (await findChromium())?.path
}

export const HOW_TO_GET_CHROMIUM =
  'No Chromium found for the browser tests.\n' +
  '  - Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y chromium   (installs /usr/bin/chromium)\n' +
  '  - or point CHROMIUM_PATH at any Chromium/Chrome executable, e.g. CHROMIUM_PATH=/path/to/chrome npm test\n' +
  '  (browser downloads via `playwright install` are not used by this project)'
