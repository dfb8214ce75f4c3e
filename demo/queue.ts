import { createQueue } from 'offthread'
import type { Tasks } from './tasks.worker'

const params = new URLSearchParams(location.search)

/** Pool size: fixed when the queue is created, so changing it means a reload with ?concurrency=N. */
export const defaultConcurrency = Math.max(1, (navigator.hardwareConcurrency || 2) - 1)
export const concurrency = clampInt(params.get('concurrency'), 1, 16) ?? defaultConcurrency

/** ?queue=NAME gives a separate IndexedDB database: tests use a fresh one per run. */
export const queueName = params.get('queue') || 'demo'

export const queue = createQueue<Tasks>({
  name: queueName,
  worker: () => new Worker(new URL('./tasks.worker.ts', import.meta.url), { type: 'module' }),
  concurrency,
  abortGrace: 1000,
  // Enough room that "add 1,000 jobs" twice does not evict the render's tiles.
  retention: { completed: { age: 24 * 3600_000, count: 5000 } },
})

function clampInt(value: string | null, min: number, max: number): number | undefined {
  const n = Number(value)
  if (value === null || !Number.isInteger(n)) return undefined
  return Math.min(max, Math.max(min, n))
}
