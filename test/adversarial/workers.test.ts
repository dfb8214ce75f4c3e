/**
 * A worker module that will not load must never hold `add` up: the job is
 * stored and `add` resolves, whatever state the worker is in.
 */
import { describe, expect, it } from 'vitest'
import { createQueue, idbStore } from '../../src/index.js'
import { track, uniqueName, within } from './fixtures/queue.js'

const workers = {
  'a module that throws while loading': () => new Worker(new URL('../browser/fixtures/broken.worker.ts', import.meta.url), { type: 'module' }),
  'a URL that answers 404': () => new Worker('/no-such-offthread-worker.js', { type: 'module' }),
  'a top-level await that never settles': () => new Worker(new URL('./fixtures/hang.worker.ts', import.meta.url), { type: 'module' }),
}

describe('a worker that will not load', () => {
  for (const [what, worker] of Object.entries(workers)) {
    it(`${what}: add() stores the job and resolves, before and after the first worker error`, async () => {
      const errors: Error[] = []
      const queue = track(createQueue({ name: uniqueName('noload'), worker, concurrency: 1, store: idbStore() }))
      queue.on('error', (error) => errors.push(error))
      const first = await within(2500, 'the first add', queue.add('anything', 1))
      expect(first.status).toBe('waiting')
      if (what !== 'a top-level await that never settles') {
        // Several failed starts: the pool now waits seconds between tries (250 ms, doubling).
        await expect.poll(() => errors.length, { timeout: 8000 }).toBeGreaterThanOrEqual(4)
        expect(errors[0]?.name).toBe('WorkerError')
      }
      // While the pool backs off between tries, adds go on at once.
      const started = performance.now()
      const second = await within(2500, 'an add after the worker failed', queue.add('anything', 2))
      expect(performance.now() - started).toBeLessThan(1500)
      expect(second.status).toBe('waiting')
      expect((await queue.counts()).waiting).toBe(2)
    })
  }
})
