// offline.ts: the quick start, with the queue's errors shown (test/e2e/packed-app.test.ts
// refuses the runner's chunk to some tabs, as a server after a deploy)
import { createQueue } from 'offthread'
import type { Tasks } from './tasks.worker'

const queue = createQueue<Tasks>({
  name: 'offline',
  worker: () => new Worker(new URL('./tasks.worker.ts', import.meta.url), { type: 'module' }),
})
queue.on('error', (error) => (document.querySelector('#errors')!.textContent += `${error.name}: ${error.message}\n`))
queue.on('role', (role) => document.body.setAttribute('data-role', role))

const job = await queue.add('countPrimes', 20_000)
document.querySelector('#added')!.textContent = job.id
document.querySelector('#out')!.textContent = `primes: ${await job.result()}`
