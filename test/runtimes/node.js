// @ts-nocheck: the README's Node example, run as written by test/node/runtimes-readme.test.ts.
import { createQueue, memoryStore } from 'offthread'
import { nodeWorker } from 'offthread/node'

const queue = createQueue({
  store: memoryStore(),
  worker: () => nodeWorker(new URL('./tasks.worker.js', import.meta.url)),
  concurrency: 2,
})
const job = await queue.add('double', 21)
console.log('result', await job.result())
await queue.close()
