import { describe, expect, it } from 'vitest'
import { Committer } from '../../src/store/committer.js'
import { job, type NewJob } from '../../src/store/contract/kit.js'
import { Retention } from '../../src/runner/retention.js'
import { DEFAULTS } from '../../src/queue/options.js'
import { memoryStore } from '../../src/store/memory-store.js'
import type { Store, WriteOp } from '../../src/store/store.js'
import { withWrite } from '../helpers/store-write.js'

const finished = (i: number, status: 'completed' | 'failed', finishedAt: number): NewJob =>
  job(`job-${i}`, { status, createdAt: finishedAt, runAt: finishedAt, finishedAt })

async function seeded(count: number, status: 'completed' | 'failed', at: (i: number) => number): Promise<{ store: Store; deletes: number[] }> {
  const inner = memoryStore()
  await inner.open('q')
  await inner.write(Array.from({ length: count }, (_, i) => ({ op: 'insert' as const, job: finished(i, status, at(i)), data: i })))
  const deletes: number[] = []
  const write = (ops: readonly WriteOp[], options?: { atomic?: boolean }) => {
    for (const op of ops) if (op.op === 'delete') deletes.push(op.ids.length)
    return inner.write(ops, options)
  }
  return { store: withWrite(inner, write), deletes }
}

describe('retention', () => {
  it('clean() deletes in batches of 200, yielding between them, and returns the count', async () => {
    const { store, deletes } = await seeded(450, 'completed', (i) => 1000 + i)
    const retention = new Retention(store, new Committer(store), DEFAULTS.retention, () => undefined)
    expect(await retention.clean('completed', 0)).toBe(450)
    expect(deletes).toEqual([200, 200, 50])
    expect((await store.counts()).completed).toBe(0)
  })

  it('sweep() keeps the newest `count` completed jobs and drops failed ones past their age', async () => {
    const now = Date.now()
    const { store } = await seeded(10, 'completed', (i) => now - 1000 + i)
    await store.write(
      [0, 1].map((i) => ({ op: 'insert' as const, job: { ...finished(100 + i, 'failed', i === 0 ? now - 10_000 : now) }, data: null })),
    )
    const retention = new Retention(
      store,
      new Committer(store),
      { completed: { count: 3 }, failed: { age: 5000 }, cancelled: false },
      () => undefined,
    )
    expect(await retention.sweep()).toBe(7 + 1)
    const left = await store.list({})
    expect(left.filter((j) => j.status === 'completed').map((j) => j.id)).toEqual(['job-9', 'job-8', 'job-7'])
    expect(left.filter((j) => j.status === 'failed').map((j) => j.id)).toEqual(['job-101'])
  })
})
