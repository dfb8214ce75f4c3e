// `pretest`: make sure the three engines of the browser tests exist
// (Chromium, Firefox, WebKit; see scripts/browsers.mjs for where each is looked for).
// All found -> print them, exit 0. Some missing on Linux as root with apt-get ->
// install their Debian packages in one go, then check again. A browser still
// missing is an error that says how to get it: no engine is ever skipped.
import { spawnSync } from 'node:child_process'
import { APT_PACKAGES, ENGINES, findBrowser, HOW_TO_GET, missingFiles } from './browsers.mjs'

/** Engines named by an environment variable that points at nothing: installing will not fix those. @type {Set<Engine>} */
const bad = new Set()

/** @typedef {'chromium' | 'firefox' | 'webkit'} Engine */

/** @returns {Promise<Engine[]>} the engines not found (and print those found) */
async function check(quiet = false) {
  /** @type {Engine[]} */
  const missing = []
  bad.clear()
  for (const engine of ENGINES) {
    const found = await findBrowser(engine)
    if (found && missingFiles(found).length === 0) {
      if (!quiet) console.log(`[ensure-browsers] ${engine}: ${found.path} (${found.source})`)
      continue
    }
    if (found) {
      console.error(`[ensure-browsers] ${engine}: ${missingFiles(found).join(', ')} does not exist (${found.source})`)
      if (found.source !== 'system') bad.add(engine)
    }
    missing.push(engine)
  }
  return missing
}

let missing = await check(false)
if (missing.length === 0) process.exit(0)

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0
const installable = missing.filter((engine) => !bad.has(engine))
if (process.platform === 'linux' && isRoot && hasApt && installable.length > 0) {
  const packages = installable.flatMap((engine) => APT_PACKAGES[engine])
  console.log(`[ensure-browsers] missing ${installable.join(', ')}; installing with apt-get: ${packages.join(' ')} (this takes ~1 min)`)
  const installed = spawnSync('sh', ['-c', `apt-get update && apt-get install -y ${packages.join(' ')}`], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
  if (installed.status !== 0) console.error(`[ensure-browsers] apt-get failed (exit ${installed.status}).`)
  missing = await check(true)
  if (missing.length === 0) process.exit(0)
}

for (const engine of missing) console.error(`[ensure-browsers] ${HOW_TO_GET[engine]}`)
process.exit(1)
