// @ts-nocheck: plain JS for Deno (the repo typechecks JS strictly).
// Runs a Vitest file of test/node in Deno through ./vitest-shim.js:
//   deno run --allow-read --allow-write --allow-env --sloppy-imports \
//     --import-map=test/sqlite/deno-import-map.json test/sqlite/run-vitest-file.js <file> [name filter]
// Prints `ok`/`FAIL` per test and `N passed, M failed` last; exits 1 on a failure.
import { runCollected } from './vitest-shim.js'

const [file, filter] = Deno.args
if (!file) throw new Error('usage: run-vitest-file.js <test file> [name filter]')
await import(new URL(`../../${file}`, import.meta.url).href)
console.log(`deno ${Deno.version.deno}`)
const { failed } = await runCollected({ filter })
Deno.exit(failed === 0 ? 0 : 1)
