/**
 * Storage that fails: a store (IndexedDB underneath) that refuses some
 * writes, as a full disk or a closing database would. No job is left
 * `running`, or forgotten, in a live runner.
 */
import { describe, expect, it } from 'vitest'
import { createQueue, idbStore } from '../../src/index.js'
import type { Store, WriteOp } from '../../src/store.js'
import { withWrite } from '../helpers/store-write.js'
import { adversarialWorker, track, uniqueName, within } from './fixtures/queue.js'

/** idbStore, except that a write holding an op that `refuse` picks fails (each op at most `times` times). */
function failingStore(refuse: (op: WriteOp) => string | undefined, times: number): { store: Store; refused: string[] } {
  const inner = idbStore()
  const refused: string[] = []
  const counts = new Map<string, number>()
  const write: Store['write'] = (ops, options) => {
    for (const op of ops) {
      const tag = refuse(op)
      if (tag === undefined) continue
      const count = counts.get(tag) ?? 0
      if (count >= times) continue
      counts.set(tag, count + 1)
      refused.push(tag)
      return Promise.reject(new DOMException(`refused for the test (${tag})`, 'QuotaExceededError'))
    }
    return inner.write(ops, options)
  }
  return { store: withWrite(inner, write), refused }
}

describe('storage that fails', () => {
  it('a refused `running` write: the job stays waiting, runs later, and completes', async () => {
    const { store, refused } = failingStore((op) => (op.op === 'put' && op.job.status === 'running' ? `running:${op.job.id}` : undefined), 2)
    const queue = track(createQueue({ name: uniqueName('failrun'), worker: adversarialWorker, concurrency: 1, store }))
    queue.on('error', () => undefined)
    const jobs = await queue.addBulk([1, 2, 3].map((n) => ({ name: 'echo' as const, data: n })))
    const results = await within(10_000, 'the jobs', Promise.all(jobs.map((job) => job.result())))
    expect(results).toEqual([1, 2, 3])
    expect(refused.length).toBeGreaterThan(0)
    expect(await queue.counts()).toMatchObject({ completed: 3, running: 0, waiting: 0 })
  })

  it('a refused outcome write: the job is not left running; the outcome lands once the store takes it', async () => {
    const { store, refused } = failingStore((op) => (op.op === 'put' && op.job.status === 'completed' ? `done:${op.job.id}` : undefined), 2)
    const errors: string[] = []
    const queue = track(createQueue({ name: uniqueName('failout'), worker: adversarialWorker, concurrency: 2, store }))
    queue.on('error', (error) => errors.push(error.name))
    const jobs = await queue.addBulk([1, 2, 3, 4].map((n) => ({ name: 'echo' as const, data: n })))
    expect(await within(15_000, 'the jobs', Promise.all(jobs.map((job) => job.result())))).toEqual([1, 2, 3, 4])
    expect(refused.length).toBeGreaterThanOrEqual(4)
    expect(errors).toContain('QuotaExceededError')
    expect(await queue.counts()).toMatchObject({ completed: 4, running: 0 })
    await within(2000, 'idle', queue.idle())
  })
})
