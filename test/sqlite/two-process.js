// @ts-nocheck: plain JS that Deno and Bun run as is (the repo typechecks JS strictly).
// Two processes on one sqliteStore file (test/node/sqlite-runtimes.test.ts):
//   two-process.js <file> A <log>   opens the queue, prints RUNNER once it runs it, runs until killed;
//   two-process.js <file> B <log>   opens the queue (a follower while A lives), prints its ROLE,
//                                   adds six `hold` jobs (their attempts append to <log>) and
//                                   cancels a seventh, prints ADDED, then waits until all six
//                                   completed and prints RESULT as JSON (when it became the runner).
import { createQueue } from '../../dist/index.js'
import { sqliteStore } from '../../dist/sqlite.js'
import { sleep } from '../helpers/sleep.js'

const [file, role, log] = typeof Deno !== 'undefined' ? Deno.args : process.argv.slice(2)
const workerUrl = new URL('./tasks.worker.js', import.meta.url)
const queue = createQueue({
  name: 'pair',
  store: sqliteStore(file),
  worker: () => new Worker(workerUrl, { type: 'module' }),
  concurrency: 2,
  runnerTimeout: 1500,
})
let runnerAt
queue.on('role', (r) => {
  if (r === 'runner') runnerAt ??= Date.now()
})
// Keep the process alive whatever the queue holds open.
setInterval(() => undefined, 1000)

if (role === 'A') {
  const deadline = Date.now() + 5000
  while (queue.role !== 'runner' && Date.now() < deadline) await sleep(10)
  console.log(queue.role === 'runner' ? 'RUNNER' : `NOT RUNNER (${queue.role})`)
} else {
  await queue.counts()
  await sleep(200)
  const first = queue.role
  console.log(`ROLE ${first}`)
  const ids = ['j0', 'j1', 'j2', 'j3', 'j4', 'j5']
  for (const id of ids) await queue.add('hold', { ms: 400, log, id }, { id })
  const x = await queue.add('double', 1, { id: 'x', runAt: Date.now() + 60_000 })
  await x.cancel().catch((error) => console.log(`cancel: ${error}`))
  console.log('ADDED')
  const deadline = Date.now() + 20_000
  let counts = await queue.counts()
  while (counts.completed < ids.length && Date.now() < deadline) {
    await sleep(25)
    counts = await queue.counts()
  }
  const x2 = await queue.getJob('x')
  console.log(`RESULT ${JSON.stringify({ first, runnerAt, counts, x: x2?.status })}`)
  await queue.close({ timeout: 0 })
  process.exit(0)
}
