// @ts-nocheck: the README's Deno and Bun example, run as written by test/node/runtimes-readme.test.ts.
import { createQueue, memoryStore } from 'offthread'

const queue = createQueue({
  store: memoryStore(), // no IndexedDB in Deno or Bun
  worker: () => new Worker(new URL('./tasks.worker.js', import.meta.url), { type: 'module' }),
  concurrency: 2,
})
const job = await queue.add('double', 21)
job.on('progress', (p) => console.log('progress', p))
console.log('result', await job.result())
await queue.close()
