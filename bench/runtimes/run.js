// @ts-nocheck: plain JS that Deno and Bun run as is (the repo typechecks JS strictly).
// One runtime's half of bench/runtimes.mjs: N no-op jobs through a queue on memoryStore,
// then on sqliteStore (a temporary file), in this process; prints RESULT and JSON.
//   bun bench/runtimes/run.js 2000 3      deno run -A bench/runtimes/run.js 2000 3
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createQueue, memoryStore } from '../../dist/index.js'
import { sqliteStore } from '../../dist/sqlite.js'

const [jobs = 2000, rounds = 3] = (typeof Deno !== 'undefined' ? Deno.args : process.argv.slice(2)).map(Number)
const runtime = typeof Bun !== 'undefined' ? `bun ${Bun.version}` : `deno ${Deno.version.deno}`
const workerUrl = new URL('../../test/sqlite/tasks.worker.js', import.meta.url)
const dir = mkdtempSync(join(tmpdir(), 'offthread-bench-'))

/** Adds `jobs` no-op jobs in one addBulk and waits for the last to complete: jobs per second. */
async function once(kind, round) {
  const queue = createQueue({
    name: `bench-${kind}-${round}`,
    store: kind === 'sqlite' ? sqliteStore(join(dir, `bench-${round}.db`)) : memoryStore(),
    worker: () => new Worker(workerUrl, { type: 'module' }),
    concurrency: 4,
    retention: { completed: { count: jobs * 2 } },
  })
  // Warm: workers loaded, store open.
  await (await queue.add('noop', null)).result()
  const t0 = performance.now()
  const handles = await queue.addBulk(Array.from({ length: jobs }, () => ({ name: 'noop', data: null })))
  await Promise.all(handles.map((h) => h.result()))
  const ms = performance.now() - t0
  await queue.close()
  return (jobs / ms) * 1000
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const out = { runtime, jobs, rounds }
try {
  for (const kind of ['memory', 'sqlite']) {
    const rates = []
    for (let round = 0; round < rounds; round++) rates.push(await once(kind, round))
    out[kind] = { median: Math.round(median(rates)), min: Math.round(Math.min(...rates)), max: Math.round(Math.max(...rates)) }
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
console.log(`RESULT ${JSON.stringify(out)}`)
process.exit(0)
