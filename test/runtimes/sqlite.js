// @ts-nocheck: the README's Bun and Deno sqliteStore example, run as written by test/node/conformance-runtimes.test.ts.
import { createQueue } from 'offthread'
import { sqliteStore } from 'offthread/sqlite'
const queue = createQueue({
  store: sqliteStore('./jobs.db'),
  worker: () => new Worker(new URL('./tasks.worker.js', import.meta.url), { type: 'module' }),
})
console.log('result', await (await queue.add('double', 21)).result())
await queue.close()
