// @ts-nocheck: plain JS that Deno and Bun run as is (the repo typechecks JS strictly).
// A signal from another process (test/node/sqlite-runtimes.test.ts), on one sqliteStore file:
//   signal-process.js <file> A   runs the queue: adds job `w`, whose handler waits for signal
//                                `go` (ctx.waitFor); prints WAITING once it is delayed for it,
//                                then RESULT (its status and result) once it completed
//   signal-process.js <file> B   a follower: sends the signal, prints SENT and the answer
import { createQueue } from '../../dist/index.js'
import { sqliteStore } from '../../dist/sqlite.js'
import { sleep } from '../helpers/sleep.js'

const [file, role] = typeof Deno !== 'undefined' ? Deno.args : process.argv.slice(2)
const queue = createQueue({
  name: 'signals',
  store: sqliteStore(file),
  worker: () => new Worker(new URL('./tasks.worker.js', import.meta.url), { type: 'module' }),
  runnerTimeout: 1500,
})
setInterval(() => undefined, 1000)

if (role === 'A') {
  const job = await queue.add('waiter', 'go', { id: 'w' })
  const deadline = Date.now() + 15_000
  while (job.getSnapshot().waitingFor !== 'signal' && Date.now() < deadline) await sleep(10)
  console.log(`WAITING ${queue.role} ${job.status} ${job.getSnapshot().waitingFor}`)
  const done = await job.wait({ timeout: 20_000 }).catch((error) => ({ status: String(error) }))
  console.log(`RESULT ${JSON.stringify({ status: done.status, result: done.result, attempt: done.attempt })}`)
  await queue.close({ timeout: 0 })
  process.exit(0)
} else {
  await queue.counts()
  console.log(`SENT ${queue.role} ${await queue.signal('w', 'go', { from: 'B' })}`)
  await queue.close({ timeout: 0 })
  process.exit(0)
}
