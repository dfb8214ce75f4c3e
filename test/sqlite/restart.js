// @ts-nocheck: plain JS that Deno and Bun run as is (the repo typechecks JS strictly).
// Kill and restart on one sqliteStore file (test/node/sqlite-runtimes.test.ts):
//   restart.js <file> first   adds `quick` (completes), `long` (runs 1.5 s) and `later`
//                             (runAt in a minute), prints RUNNING once `long` runs, then waits
//                             for its SIGKILL;
//   restart.js <file> second  opens the same file, waits for `long` to complete, prints
//                             RESULT and the three stored records as JSON, and exits.
import { createQueue } from '../../dist/index.js'
import { sqliteStore } from '../../dist/sqlite.js'
import { sleep } from '../helpers/sleep.js'

const [file, phase] = typeof Deno !== 'undefined' ? Deno.args : process.argv.slice(2)
const workerUrl = new URL('./tasks.worker.js', import.meta.url)
const queue = createQueue({
  name: 'restart',
  store: sqliteStore(file),
  worker: () => new Worker(workerUrl, { type: 'module' }),
  runnerTimeout: 1500,
})
const status = async (id) => (await queue.getJob(id))?.status

if (phase === 'first') {
  const quick = await queue.add('double', 21, { id: 'quick' })
  await quick.result()
  // `delay`, not `runAt: Date.now() + …`: the job's runAt is then its createdAt + 60 s exactly (one clock read).
  await queue.add('double', 2, { id: 'later', delay: 60_000 })
  await queue.add('hold', { ms: 1500 }, { id: 'long' })
  while ((await status('long')) !== 'running') await sleep(10)
  console.log('RUNNING')
  // Keep running until killed.
  setInterval(() => undefined, 1000)
} else {
  const t0 = Date.now()
  const deadline = t0 + 15_000
  while ((await status('long')) !== 'completed') {
    if (Date.now() > deadline) throw new Error(`long is ${await status('long')} after 15 s`)
    await sleep(20)
  }
  const took = Date.now() - t0
  await queue.close()
  const store = sqliteStore(file)
  await store.open('restart')
  const [quick, long, later] = await store.get(['quick', 'long', 'later'])
  const errors = await store.errors('long')
  await store.close()
  console.log(`RESULT ${JSON.stringify({ took, quick, long, later, errors: errors.map((e) => e.name) })}`)
  process.exit(0)
}
