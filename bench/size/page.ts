// What a page needs for createQueue + add + the runner: the bundle the size budget measures.
import { createQueue } from 'offthread'

const queue = createQueue({ worker: () => new Worker(new URL('./tasks.worker.ts', import.meta.url), { type: 'module' }) })
const job = await queue.add('double', 21)
document.body.textContent = String(await job.result())
