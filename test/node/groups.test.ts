/**
 * Job groups on their own: the round robin of ready jobs between groups (ready-jobs.ts,
 * through the job index), the limits of a group and their precedence (limits.ts), and the
 * validation of the options.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { JobIndex, WINDOW } from '../../src/runner/job-index.js'
import { Limits, type GroupSource } from '../../src/runner/limits.js'
import { ReadyJobs } from '../../src/runner/ready-jobs.js'
import { resolveJobOptions, resolveTaskOptions } from '../../src/shared/options.js'
import type { WorkerManifest } from '../../src/shared/protocol.js'
import { resolveQueueOptions } from '../../src/queue/options.js'
import { memoryStore } from '../../src/store/memory-store.js'
import type { GroupRecord, JobRecord, WriteOp } from '../../src/store/store.js'
import { jobRecord as job } from '../helpers/records.js'

afterEach(() => vi.useRealTimers())

const grouped = (id: string, group: string | undefined, fields: Partial<JobRecord> = {}): JobRecord =>
  job(id, { ...fields, options: group === undefined ? {} : { group } })

const index = (): JobIndex =>
  new JobIndex(
    memoryStore(),
    () => false,
    () => undefined,
  )

const drain = (from: { take(): JobRecord | undefined }): string[] => {
  const ids: string[] = []
  for (let next = from.take(); next; next = from.take()) ids.push(next.id)
  return ids
}

describe('ready jobs, round robin by group', () => {
  it('takes the groups in turn: a group added later is not behind the first one', () => {
    const jobs = index()
    for (let i = 0; i < 5; i++) jobs.add(grouped(`a${i}`, 'A'))
    jobs.add(grouped('b0', 'B'))
    jobs.add(grouped('b1', 'B'))
    expect(drain(jobs)).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'a3', 'a4'])
  })

  it('priorities order the jobs within a group, not between groups', () => {
    const jobs = index()
    jobs.add(grouped('a-low', 'A', { priority: 0 }))
    jobs.add(grouped('a-high', 'A', { priority: 9 }))
    jobs.add(grouped('b-low', 'B', { priority: -1 }))
    jobs.add(grouped('b-mid', 'B', { priority: 1 }))
    expect(drain(jobs)).toEqual(['a-high', 'b-mid', 'a-low', 'b-low'])
  })

  it('the jobs of no group are one more group: held first, they take the first turn', () => {
    const jobs = index()
    jobs.add(grouped('x0', undefined))
    jobs.add(grouped('x1', undefined))
    jobs.add(grouped('a0', 'A'))
    jobs.add(grouped('a1', 'A'))
    jobs.add(grouped('x2', undefined))
    expect(drain(jobs)).toEqual(['x0', 'a0', 'x1', 'a1', 'x2'])
  })

  it('without groups, the order is priority then insertion, as one heap', () => {
    const ready = new ReadyJobs((a, b) => (a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq))
    const made = [grouped('a', undefined), grouped('b', undefined, { priority: 2 }), grouped('c', undefined)]
    for (const j of made) ready.push(j)
    const alive = (): boolean => true
    expect([ready.take(alive)?.id, ready.take(alive)?.id, ready.take(alive)?.id, ready.take(alive)]).toEqual(['b', 'a', 'c', undefined])
  })

  it('a group whose jobs all left drops out of the turns, and comes back with its next job', () => {
    const jobs = index()
    jobs.add(grouped('a0', 'A'))
    jobs.add(grouped('a1', 'A'))
    jobs.add(grouped('b0', 'B'))
    jobs.remove('b0')
    expect(jobs.take()?.id).toBe('a0')
    jobs.add(grouped('b1', 'B'))
    expect(drain(jobs)).toEqual(['b1', 'a1'])
    // Back to one heap, and groups again after.
    jobs.add(grouped('x', undefined))
    jobs.add(grouped('c0', 'C'))
    jobs.add(grouped('c1', 'C'))
    jobs.add(grouped('y', undefined))
    expect(drain(jobs)).toEqual(['x', 'c0', 'y', 'c1'])
  })

  it('fairness measured: of 500 jobs of A and 5 of B added after them, B has had all its turns by the 10th job taken', () => {
    const jobs = index()
    for (let i = 0; i < 500; i++) jobs.add(grouped(`a${i}`, 'A'))
    for (let i = 0; i < 5; i++) jobs.add(grouped(`b${i}`, 'B'))
    const order = drain(jobs)
    expect(order).toHaveLength(505)
    const lastB = Math.max(...Array.from({ length: 5 }, (_, i) => order.indexOf(`b${i}`)))
    expect(lastB).toBeLessThan(10)
  })

  it('a job of a group with none held, added beyond a full window, is taken in (its group gets its turn)', async () => {
    const store = memoryStore()
    await store.open('q')
    const ops: WriteOp[] = []
    for (let i = 0; i < WINDOW + 50; i++) ops.push({ op: 'insert', job: grouped(`a${i}`, 'A'), data: null })
    await store.write(ops)
    const jobs = new JobIndex(
      store,
      () => false,
      () => undefined,
    )
    await jobs.refill()
    // Stored after A's: beyond the window the index holds.
    const [written] = await store.write([{ op: 'insert', job: grouped('b', 'B'), data: null }])
    jobs.add({ ...grouped('b', 'B'), seq: written?.ok ? (written.seq ?? 0) : 0 })
    // …but a job of no group beyond the window waits for the refill, as before.
    const [other] = await store.write([{ op: 'insert', job: grouped('x', undefined), data: null }])
    jobs.add({ ...grouped('x', undefined), seq: other?.ok ? (other.seq ?? 0) : 0 })
    expect([jobs.take()?.id, jobs.take()?.id, jobs.take()?.id]).toEqual(['a0', 'b', 'a1'])
  })
})

describe('group limits', () => {
  const manifest =
    (tasks: WorkerManifest['tasks']): (() => WorkerManifest) =>
    () => ({ tasks })
  const source = (queue: GroupSource['queue'], own: GroupRecord[] = []): GroupSource => ({
    queue,
    own: (id) => own.find((g) => g.id === id),
  })

  it("a group's concurrency is counted per group: full while its limit runs, room again when one ends", () => {
    const onRoom = vi.fn()
    const limits = new Limits(manifest({ task: {} }), onRoom, undefined, source({ concurrency: 2 }))
    limits.count(grouped('a1', 'A'), 0)
    expect(limits.full(grouped('a2', 'A'))).toBeUndefined()
    limits.count(grouped('a2', 'A'), 0)
    expect(limits.full(grouped('a3', 'A'))).toBe('group:A')
    expect(limits.full(grouped('b1', 'B'))).toBeUndefined()
    expect(limits.full(grouped('free', undefined))).toBeUndefined()
    limits.park(grouped('a3', 'A'), 'group:A')
    limits.uncount(grouped('a1', 'A'))
    expect(onRoom).toHaveBeenCalledWith([expect.objectContaining({ id: 'a3' })])
    expect(limits.running('A')).toBe(1)
  })

  it("limits come from the group's own settings, else its task's groups, else the queue's (whole, not field by field)", () => {
    const tasks = manifest({ upload: { groups: { concurrency: 2 } }, other: {} })
    const own: GroupRecord[] = [{ id: 'vip', limits: { rateLimit: { max: 5, per: 1000 } } }]
    const limits = new Limits(tasks, () => undefined, undefined, source({ concurrency: 1 }, own))
    const upload = (id: string, group: string): JobRecord => ({ ...grouped(id, group), name: 'upload' })
    const other = (id: string, group: string): JobRecord => ({ ...grouped(id, group), name: 'other' })
    limits.count(other('o1', 'G'), 0)
    expect(limits.full(other('o2', 'G'))).toBe('group:G') // the queue's: 1
    limits.count(upload('u1', 'H'), 0)
    expect(limits.full(upload('u2', 'H'))).toBeUndefined() // the task's: 2
    limits.count(upload('u2', 'H'), 0)
    expect(limits.full(upload('u3', 'H'))).toBe('group:H')
    limits.count(other('v1', 'vip'), 0)
    // The group's own: a rate, and no concurrency (not the queue's 1).
    expect(limits.full(other('v2', 'vip'))).toBeUndefined()
    limits.stop()
  })

  it('a paused group holds its jobs; a change of settings lets its parked jobs go back', () => {
    const own: GroupRecord[] = [{ id: 'A', paused: true }]
    const onRoom = vi.fn()
    const limits = new Limits(manifest({ task: {} }), onRoom, undefined, source(undefined, own))
    const a = grouped('a', 'A')
    expect(limits.applies(a)).toBe(true)
    expect(limits.full(a)).toBe('group:A')
    limits.park(a, 'group:A')
    own.length = 0
    limits.groupsChanged(['B'])
    expect(onRoom).not.toHaveBeenCalled()
    limits.groupsChanged(['A'])
    expect(onRoom).toHaveBeenCalledWith([a])
    expect(limits.full(a)).toBeUndefined()
  })

  it('a group with no limit is counted but holds nothing back: its jobs may be batched', () => {
    const limits = new Limits(manifest({ task: {} }), () => undefined)
    const a = grouped('a', 'A')
    expect(limits.applies(a)).toBe(false)
    limits.count(a, 0)
    expect(limits.running('A')).toBe(1)
    limits.uncount(a)
    expect(limits.running('A')).toBe(0)
  })
})

describe('group options', () => {
  it('the job option is a non-empty string of at most 256 characters', () => {
    expect(resolveJobOptions({ group: 'user-42' }, 0).stored).toEqual({ group: 'user-42' })
    expect(() => resolveJobOptions({ group: '' }, 0)).toThrow(
      /Invalid option "group": expected a non-empty string of at most 256 characters, received ""/,
    )
    expect(() => resolveJobOptions({ group: 42 }, 0)).toThrow(TypeError)
    expect(() => resolveJobOptions({ group: 'x'.repeat(257) }, 0)).toThrow(/at most 256/)
  })

  it("the queue's and a task's groups take { concurrency?, rateLimit? }, validated", () => {
    expect(resolveQueueOptions({ groups: { concurrency: 1 } }).groups).toEqual({ concurrency: 1 })
    expect(resolveQueueOptions({}).groups).toBeUndefined()
    expect(() => resolveQueueOptions({ groups: { concurrency: 0 } })).toThrow(RangeError)
    expect(() => resolveQueueOptions({ groups: { max: 1 } })).toThrow(/Unknown option "groups.max"/)
    expect(() => resolveQueueOptions({ groups: null })).toThrow(/Invalid option "groups"/)
    expect(resolveTaskOptions('upload', { handler: () => undefined, groups: { rateLimit: { max: 2, per: 1000 } } }).groups).toEqual({
      rateLimit: { max: 2, per: 1000 },
    })
    expect(() => resolveTaskOptions('upload', { groups: { rateLimit: { max: 2 } } })).toThrow(/upload.groups.rateLimit/)
  })
})
