// @ts-nocheck: plain JS that Deno and Bun run as is (the repo typechecks JS strictly).
// Job groups across two processes on one sqliteStore file (test/node/sqlite-runtimes.test.ts):
//   groups-process.js <file> A   opens the queue, prints RUNNER once it runs it, runs until killed;
//   groups-process.js <file> B   a follower: pauses group `g`, adds two jobs of it and one of no
//                                group; once that one completed and the runner said why `g`'s jobs
//                                wait (`waitingFor: 'group'`: it read the pause), resumes `g`,
//                                waits for its jobs, and prints RESULT as JSON.
import { createQueue } from '../../dist/index.js'
import { sqliteStore } from '../../dist/sqlite.js'
import { sleep } from '../helpers/sleep.js'

const [file, role] = typeof Deno !== 'undefined' ? Deno.args : process.argv.slice(2)
const workerUrl = new URL('./tasks.worker.js', import.meta.url)
const queue = createQueue({
  name: 'groups',
  store: sqliteStore(file),
  worker: () => new Worker(workerUrl, { type: 'module' }),
  concurrency: 2,
  runnerTimeout: 1500,
})
// Keep the process alive whatever the queue holds open.
setInterval(() => undefined, 1000)

const until = async (test, ms = 15_000) => {
  const deadline = Date.now() + ms
  while (!(await test())) {
    if (Date.now() > deadline) return false
    await sleep(25)
  }
  return true
}

if (role === 'A') {
  await until(() => queue.role === 'runner', 5000)
  console.log(queue.role === 'runner' ? 'RUNNER' : `NOT RUNNER (${queue.role})`)
} else {
  await queue.counts()
  await sleep(200)
  const first = queue.role
  await queue.groups.pause('g')
  const held = await queue.addBulk([
    { name: 'double', data: 1, options: { group: 'g' } },
    { name: 'double', data: 2, options: { group: 'g' } },
  ])
  const free = await queue.add('double', 21, { group: 'h' })
  const freeResult = await free.result({ timeout: 15_000 }).catch((error) => String(error))
  const told = await until(async () => (await held[0].refresh()).waitingFor === 'group')
  const whileHeld = (await Promise.all(held.map((h) => h.refresh()))).map((s) => s.status)
  const paused = await queue.groups.counts('g')
  await queue.groups.resume('g')
  const results = await Promise.all(held.map((h) => h.result({ timeout: 15_000 }).catch((error) => String(error))))
  console.log(`RESULT ${JSON.stringify({ first, freeResult, told, whileHeld, paused, results })}`)
  await queue.close({ timeout: 0 })
  process.exit(0)
}
