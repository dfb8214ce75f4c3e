/**
 * The runner's engine pieces on their own, with memoryStore: the job index,
 * per-task limits, batching rules, and flow expansion.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { expand } from '../../src/queue/flow.js'
import { Batching } from '../../src/runner/batching.js'
import { JobIndex, WINDOW } from '../../src/runner/job-index.js'
import { Limits } from '../../src/runner/limits.js'
import type { WorkerManifest } from '../../src/shared/protocol.js'
import { JOIN_TASK } from '../../src/shared/types.js'
import { memoryStore } from '../../src/store/memory-store.js'
import type { JobRecord, WriteOp } from '../../src/store/store.js'
import { jobRecord as job } from '../helpers/records.js'

afterEach(() => vi.useRealTimers())

describe('JobIndex', () => {
  it('hands out jobs by priority, then insertion order', () => {
    const index = new JobIndex(
      memoryStore(),
      () => false,
      () => undefined,
    )
    index.add(job('low', { priority: 0 }))
    index.add(job('high', { priority: 5 }))
    index.add(job('low2', { priority: 0 }))
    expect([index.take()?.id, index.take()?.id, index.take()?.id, index.take()]).toEqual(['high', 'low', 'low2', undefined])
  })

  it('a delayed job becomes due at its time, and wakes the dispatcher', async () => {
    vi.useFakeTimers({ now: 1000 })
    const onDue = vi.fn()
    const index = new JobIndex(memoryStore(), () => false, onDue)
    index.add(job('later', { status: 'delayed', runAt: 1500 }))
    expect(index.peek()).toBeUndefined()
    vi.advanceTimersByTime(499)
    expect(onDue).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    // The timer's work runs a message later (see setUnchainedTimeout): no fake timer to advance.
    await vi.waitUntil(() => onDue.mock.calls.length > 0)
    expect(onDue).toHaveBeenCalled()
    expect(index.take()).toMatchObject({ id: 'later', status: 'waiting' })
  })

  it('a job removed is never handed out', () => {
    const index = new JobIndex(
      memoryStore(),
      () => false,
      () => undefined,
    )
    index.add(job('a'))
    index.add(job('b'))
    index.remove('a')
    expect(index.take()?.id).toBe('b')
    expect(index.take()).toBeUndefined()
  })

  it('refill pages past jobs the runner holds (parked): the next task’s job is found behind a full window', async () => {
    const store = memoryStore()
    await store.open('q')
    const ops: WriteOp[] = []
    for (let i = 0; i < WINDOW + 200; i++) ops.push({ op: 'insert', job: job(`held-${i}`), data: null })
    ops.push({ op: 'insert', job: job('other', { name: 'other' }), data: null })
    await store.write(ops)
    const held = new Set(Array.from({ length: WINDOW + 200 }, (_, i) => `held-${i}`))
    const index = new JobIndex(
      store,
      (id) => held.has(id),
      () => undefined,
    )
    await index.refill()
    expect(index.take()?.id).toBe('other')
  })
})

describe('Limits', () => {
  const manifest =
    (tasks: WorkerManifest['tasks']): (() => WorkerManifest) =>
    () => ({ tasks })

  it('a task with concurrency 1 is full while one runs, and releases its parked jobs when it ends', () => {
    const onRoom = vi.fn()
    const limits = new Limits(manifest({ task: { concurrency: 1 } }), onRoom)
    const a = job('a')
    const b = job('b')
    expect(limits.full(a)).toBeUndefined()
    limits.count(a, 0)
    expect(limits.full(b)).toBe('task:task')
    limits.park(b, 'task:task')
    expect(limits.isParked('b')).toBe(true)
    limits.uncount(a)
    expect(onRoom).toHaveBeenCalledWith([b])
    expect(limits.parked).toBe(0)
  })

  it('a rate limit counts starts in its window; a restamped start counts from when it was sent', () => {
    vi.useFakeTimers({ now: 0 })
    const limits = new Limits(manifest({ task: { rateLimit: { max: 2, per: 100 } } }), () => undefined)
    limits.count(job('a'), 0)
    limits.count(job('b'), 0)
    expect(limits.full(job('c'))).toBe('task:task')
    limits.started(job('a'), 0, 60)
    vi.setSystemTime(101)
    // b's start (0) left the window; a's (60) has not: one more may start.
    expect(limits.full(job('c'))).toBeUndefined()
    limits.count(job('c'), 101)
    expect(limits.full(job('d'))).toBe('task:task')
    limits.stop()
  })

  it('a throttle key limits the jobs that carry it, whatever their task', () => {
    const limits = new Limits(manifest({ task: {} }), () => undefined)
    const throttled = (id: string): JobRecord => job(id, { options: { throttle: { key: 'k', max: 1, window: 1000 } } })
    limits.count(throttled('a'), Date.now())
    expect(limits.full(throttled('b'))).toBe('throttle:k')
    expect(limits.full(job('free'))).toBeUndefined()
    limits.stop()
  })
})

describe('Batching', () => {
  const make = (ready = 100, fields: Partial<ConstructorParameters<typeof Batching>[0]> = {}): Batching =>
    new Batching({ readyCount: () => ready, poolSize: 2, stallTimeout: undefined, timeoutOf: () => undefined, limited: () => false, ...fields })

  it('only short tasks whose duration is known are batched, and only in a deep queue', () => {
    const batching = make()
    expect(batching.batchable(job('a'))).toBe(false) // duration unknown
    batching.learn('task', 0.5)
    expect(batching.batchable(job('a'))).toBe(true)
    expect(make(3).batchable(job('a'))).toBe(false)
    batching.learn('slow', 50)
    expect(batching.batchable(job('s', { name: 'slow' }))).toBe(false)
  })

  it('time limits, stall watchdogs, task limits and suspects run alone', () => {
    for (const fields of [{ timeoutOf: () => 100 }, { stallTimeout: 100 }, { limited: () => true }]) {
      const batching = make(100, fields)
      batching.learn('task', 0.5)
      expect(batching.batchable(job('a'))).toBe(false)
    }
    const batching = make()
    batching.learn('task', 0.5)
    batching.suspect('a')
    expect(batching.batchable(job('a'))).toBe(false)
    batching.cleared('a')
    expect(batching.batchable(job('a'))).toBe(true)
  })

  it('a batch is a budget of work, shared across the pool; slow commits ask for more batches ahead', () => {
    const batching = make(1000)
    batching.learn('task', 1)
    expect(batching.size(job('a'))).toBe(8)
    const shallow = make(5)
    shallow.learn('task', 1)
    expect(shallow.size(job('a'))).toBe(3) // (5 + 1) / 2 workers
    expect(batching.ahead()).toBe(2)
    for (let i = 0; i < 30; i++) batching.committed(40)
    expect(batching.ahead()).toBe(7)
  })
})

describe('flow expansion', () => {
  it('a chain becomes jobs that wait for the step before and take its result; a group ends in a join job', () => {
    const { jobs, terminal } = expand(
      { chain: [{ name: 'a', data: 1 }, { group: [{ name: 'b' }, { name: 'c', data: 2 }] }, { name: 'd' }] },
      'f',
      undefined,
      'steps',
    )
    expect(jobs.map((j) => [j.id, j.name, j.dependsOn, j.inputFrom])).toEqual([
      ['f.0', 'a', [], undefined],
      ['f.1.0', 'b', ['f.0'], 'f.0'],
      ['f.1.1', 'c', ['f.0'], undefined],
      ['f.1', JOIN_TASK, ['f.1.0', 'f.1.1'], undefined],
      ['f.2', 'd', ['f.1'], 'f.1'],
    ])
    expect(terminal).toBe('f.2')
  })

  it('bad steps are refused with where they are', () => {
    expect(() => expand({ chain: [] }, 'f', undefined, 'steps')).toThrow('non-empty array')
    expect(() => expand({ chain: [{ name: 'a', options: { id: 'x' } }] }, 'f', undefined, 'steps')).toThrow('steps.chain[0]')
  })
})
