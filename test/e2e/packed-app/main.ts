// main.ts: the page adds a job and watches it
import { createQueue } from 'offthread'
import type { Tasks } from './tasks.worker'

const queue = createQueue<Tasks>({
  name: 'quickstart',
  worker: () => new Worker(new URL('./tasks.worker.ts', import.meta.url), { type: 'module' }),
})

const job = await queue.add('countPrimes', 200_000)
job.on('progress', (p) => ((document.querySelector('#bar') as HTMLProgressElement).value = p as number))
const count: number = await job.result()
document.querySelector('#out')!.textContent = `primes: ${count}`
