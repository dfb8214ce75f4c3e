// `pretest`: make sure a Chromium for the browser tests exists.
// Found -> print it, exit 0. Missing on Linux as root with apt-get -> install
// the distro `chromium` package, then re-check. Otherwise exit 1 with help.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { findChromium, HOW_TO_GET_CHROMIUM } from './chromium-path.mjs'

/** @param {import('./chromium-path.mjs').ChromiumLocation} found */
function report(found) {
  if (!existsSync(found.path)) {
    console.error(`[ensure-chromium] CHROMIUM_PATH=${found.path} does not exist.\n${HOW_TO_GET_CHROMIUM}`)
    process.exit(1)
  }
  console.log(`[ensure-chromium] using ${found.path} (${found.source})`)
  process.exit(0)
}

const found = await findChromium()
if (found) report(found)

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0

if (process.platform === 'linux' && isRoot && hasApt) {
  console.log('[ensure-chromium] no Chromium found; installing with apt-get (this takes ~30 s)')
  const r = spawnSync('sh', ['-c', 'apt-get update && apt-get install -y chromium'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
  if (r.status !== 0) {
    console.error(`[ensure-chromium] apt-get failed (exit ${r.status}).\n${HOW_TO_GET_CHROMIUM}`)
    process.exit(1)
  }
  const after = await findChromium()
  if (after) report(after)
}

console.error(`[ensure-chromium] ${HOW_TO_GET_CHROMIUM}`)
process.exit(1)
