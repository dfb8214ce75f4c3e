/**
 * `ctx.yield()` (API.md, the ctx table): a cancel reaches a handler that only awaits
 * microtasks. Without it, only terminating the worker after `abortGrace` stops such a
 * loop; with it, the handler stops itself and its worker lives on.
 */
import { describe, expect, it, vi } from 'vitest'
import { makeQueue } from './fixtures/queue.js'

/** The worker's identity: `context` returns when its setup ran, once per worker. */
async function workerId(queue: ReturnType<typeof makeQueue>): Promise<number> {
  const job = await queue.add('context', null)
  return ((await job.result()).state as { startedAt: number }).startedAt
}

describe('ctx.yield()', () => {
  for (const useYield of [true, false]) {
    it(`a microtask-only loop ${useYield ? 'with' : 'without'} ctx.yield(): cancel ${useYield ? 'reaches the handler; the worker lives on' : 'needs the worker terminated after abortGrace'}`, async () => {
      const queue = makeQueue({ concurrency: 1, abortGrace: 1500 })
      const before = await workerId(queue)
      const job = await queue.add('microtaskLoop', useYield)
      await vi.waitFor(() => expect(job.progress).toBe(1), { timeout: 5000 })
      const asked = performance.now()
      await job.cancel('stop')
      const snapshot = await job.wait()
      const ms = Math.round(performance.now() - asked)
      console.log(
        `[ctx.yield] ${navigator.userAgent.match(/(Chrome|Firefox|Version)\/[\d.]+/)?.[0] ?? ''}: cancel → cancelled in ${ms} ms ${useYield ? 'with' : 'without'} ctx.yield()`,
      )
      expect(snapshot.status).toBe('cancelled')
      const after = await workerId(queue)
      if (useYield) expect(after, 'the same worker ran the next job').toBe(before)
      else expect(after, 'a new worker ran the next job').not.toBe(before)
    })
  }
})
