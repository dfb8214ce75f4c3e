import { createQueue } from 'offthread'
import type { Tasks } from './tasks.worker'

/** The app's one queue: made once, in a module of its own. */
export const queue = createQueue<Tasks>({
  name: 'image-tool',
  worker: () => new Worker(new URL('./tasks.worker.ts', import.meta.url), { type: 'module' }),
  // Finished jobs are kept for an hour, and at most 50 of each status.
  retention: { completed: { age: 3600_000, count: 50 }, failed: { age: 3600_000, count: 50 } },
})
