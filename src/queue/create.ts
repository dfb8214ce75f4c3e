/**
 * Where a page gets its queues: `createQueue`, and `observeQueue` for tools given a
 * queue's name only. (The Queue facade is queue.ts; which queue holds a name in the page
 * is open-queues.ts's.)
 */
import { observe } from './open-queues.js'
import type { QueueOptions } from './options.js'
import { Queue } from './queue.js'
import type { TaskMap } from '../shared/types.js'

/**
 * Creates a queue. With a `worker` factory this tab runs the jobs on a pool of
 * workers; without one it only adds and observes them.
 *
 * @typeParam T - the worker module's `typeof tasks`, for typed names, data and results
 * @param options - see {@link QueueOptions}; invalid ones throw a `TypeError`/`RangeError` naming the option
 *
 * @example
 * ```ts
 * import { createQueue } from 'offthread'
 * import type { Tasks } from './tasks.worker'
 *
 * const queue = createQueue<Tasks>({
 *   name: 'media',
 *   worker: () => new Worker(new URL('./tasks.worker.ts', import.meta.url), { type: 'module' }),
 * })
 * const job = await queue.add('thumbnail', { image, width: 256 })
 * job.on('progress', (p) => console.log(p))
 * const blob = await job.result()
 * ```
 */
export function createQueue<T extends TaskMap = TaskMap>(options?: QueueOptions): Queue<T> {
  return new Queue<T>(options)
}

/**
 * The queue of `name` open in this page, or else a new one that only observes
 * (no worker: it runs nothing and replaces nothing). For tools that are given a
 * queue's name only (`<offthread-inspector name>`).
 *
 * @returns the queue, and whether the caller made it (and so closes it when done)
 */
export function observeQueue(name: string): { queue: Queue; owned: boolean } {
  return observe(name, () => new Queue({ name }))
}
