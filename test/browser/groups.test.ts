/**
 * Job groups (`JobOptions.group`) in a real browser: a group's concurrency never exceeded
 * (measured by Web Locks the jobs hold, and by the queue's own events), the precedence of
 * limits, pause and resume from another tab and across a reload, fairness between groups,
 * and the group reaching the stored job through every way of adding one.
 */
import { describe, expect, it } from 'vitest'
import type { Queue } from '../../src/index.js'
import { makeQueue } from './fixtures/queue.js'
import type { Tasks } from './fixtures/tasks.worker.js'
import { until } from '../helpers/until.js'

let keys = 0
/** A Web Locks name no other test uses. */
const lockKey = (): string => `groups-test-${Date.now()}-${++keys}`

/** The most jobs of each group running at once, as the queue's events tell it (runner tab). */
function watchRunning(queue: Queue<Tasks>): { max: Map<string, number>; total: () => number } {
  const running = new Map<string, number>()
  const max = new Map<string, number>()
  let now = 0
  let most = 0
  queue.on('started', (job) => {
    const group = job.group ?? ''
    const count = (running.get(group) ?? 0) + 1
    running.set(group, count)
    max.set(group, Math.max(max.get(group) ?? 0, count))
    most = Math.max(most, ++now)
  })
  const end = (job: { group?: string | undefined }): void => {
    running.set(job.group ?? '', (running.get(job.group ?? '') ?? 1) - 1)
    now--
  }
  queue.on('completed', end)
  queue.on('failed', end)
  return { max, total: () => most }
}

describe('groups', () => {
  it("a group's concurrency is never exceeded, while other groups run beside it", async () => {
    const queue = makeQueue({ concurrency: 3, groups: { concurrency: 1 } })
    const watch = watchRunning(queue)
    const [a, b] = [lockKey(), lockKey()]
    const handles = await queue.addBulk([
      ...Array.from({ length: 5 }, () => ({ name: 'slot' as const, data: { key: a, slots: 1, ms: 40 }, options: { group: 'album-1' } })),
      ...Array.from({ length: 5 }, () => ({ name: 'slot' as const, data: { key: b, slots: 1, ms: 40 }, options: { group: 'album-2' } })),
    ])
    // Each job found its group's one lock free: never two of a group at once.
    expect(await Promise.all(handles.map((h) => h.result()))).toEqual(Array.from({ length: 10 }, () => true))
    expect(watch.max.get('album-1')).toBe(1)
    expect(watch.max.get('album-2')).toBe(1)
    expect(handles[0]?.getSnapshot().group).toBe('album-1')
  })

  it("a task's groups override the queue's; a group's own limits override both, for jobs waiting already", async () => {
    const queue = makeQueue({ concurrency: 3, groups: { concurrency: 1 } })
    const watch = watchRunning(queue)
    const pair = lockKey()
    // slotPair's own groups: 2 at once.
    const pairs = await queue.addBulk(
      Array.from({ length: 6 }, () => ({ name: 'slotPair' as const, data: { key: pair, slots: 2, ms: 40 }, options: { group: 'doc' } })),
    )
    expect(await Promise.all(pairs.map((h) => h.result()))).toEqual(Array.from({ length: 6 }, () => true))
    expect(watch.max.get('doc')).toBeLessThanOrEqual(2)
    // The group's own: one at once, for slotPair's jobs too.
    await queue.groups.set('doc', { concurrency: 1 })
    const one = lockKey()
    const singles = await queue.addBulk(
      Array.from({ length: 4 }, () => ({ name: 'slotPair' as const, data: { key: one, slots: 1, ms: 40 }, options: { group: 'doc' } })),
    )
    expect(await Promise.all(singles.map((h) => h.result()))).toEqual([true, true, true, true])
    expect(await queue.groups.counts('doc')).toEqual({ waiting: 0, delayed: 0, blocked: 0, running: 0, paused: false, limits: { concurrency: 1 } })
    // Dropped: the queue's limits are the group's again.
    await queue.groups.set('doc', null)
    expect((await queue.groups.counts('doc')).limits).toEqual({ concurrency: 1 })
  })

  it("a paused group's jobs wait (others run); resumed from another tab, they run", async () => {
    const runner = makeQueue({ concurrency: 2 })
    await runner.groups.pause('user-42')
    const held = await runner.addBulk(Array.from({ length: 3 }, (_, i) => ({ name: 'double' as const, data: i, options: { group: 'user-42' } })))
    const free = await runner.add('double', 21, { group: 'user-7' })
    await expect(free.result()).resolves.toBe(42)
    expect(held.map((h) => h.status)).toEqual(['waiting', 'waiting', 'waiting'])
    expect(await runner.groups.counts('user-42')).toMatchObject({ waiting: 3, running: 0, paused: true, limits: {} })
    // Another tab (a queue with no worker, on the same database) resumes it.
    const other = makeQueue({ name: runner.name, worker: undefined })
    await other.groups.resume('user-42')
    expect(await Promise.all(held.map((h) => h.result()))).toEqual([0, 2, 4])
    expect((await other.groups.counts('user-42')).paused).toBe(false)
  })

  it('a pause and a limit hold across a reload (a new runner on the same database)', async () => {
    const first = makeQueue({ concurrency: 2 })
    await first.groups.pause('export')
    const key = lockKey()
    await first.groups.set('export', { concurrency: 1 })
    const ids = (
      await first.addBulk(Array.from({ length: 4 }, () => ({ name: 'slot' as const, data: { key, slots: 1, ms: 30 }, options: { group: 'export' } })))
    ).map((h) => h.id)
    const canary = await first.add('double', 1)
    await expect(canary.result()).resolves.toBe(2)
    await first.close()
    const second = makeQueue({ name: first.name, concurrency: 3 })
    const watch = watchRunning(second)
    const canary2 = await second.add('double', 2)
    await expect(canary2.result()).resolves.toBe(4)
    expect(await second.groups.counts('export')).toMatchObject({ waiting: 4, paused: true, limits: { concurrency: 1 } })
    await second.groups.resume('export')
    const handles = await Promise.all(ids.map(async (id) => (await second.getJob(id)) ?? Promise.reject(new Error(`no job ${id}`))))
    expect(await Promise.all(handles.map((h) => h.result()))).toEqual([true, true, true, true])
    expect(watch.max.get('export')).toBe(1)
  })

  it('fairness: 5 jobs of B added after 500 of A start within the next few dispatches', async () => {
    const queue = makeQueue({ concurrency: 2 })
    const order: string[] = []
    queue.on('started', (job) => order.push(job.group ?? ''))
    const a = await queue.addBulk(Array.from({ length: 500 }, () => ({ name: 'sleep' as const, data: 10, options: { group: 'A' } })))
    await until(() => order.length >= 4, 'A to be running')
    const startedBefore = order.length
    const b = await queue.addBulk(Array.from({ length: 5 }, () => ({ name: 'sleep' as const, data: 10, options: { group: 'B' } })))
    await Promise.all(b.map((h) => h.result()))
    // The starts from B's add to B's last start: B's five, and about as many of A's (in turn), not A's 500.
    const after = order.slice(startedBefore)
    const lastB = after.lastIndexOf('B')
    expect(after.slice(0, lastB + 1).filter((g) => g === 'A').length).toBeLessThan(20)
    expect(a.filter((h) => h.status === 'completed').length).toBeLessThan(100)
  })

  it('fairness with the queue stopped while adding: B takes every other turn from the first', async () => {
    const queue = makeQueue({ concurrency: 1, autostart: false })
    const order: string[] = []
    queue.on('started', (job) => order.push(job.group ?? ''))
    await queue.addBulk(Array.from({ length: 500 }, () => ({ name: 'echo' as const, data: 0, options: { group: 'A' } })))
    const b = await queue.addBulk(Array.from({ length: 5 }, () => ({ name: 'echo' as const, data: 0, options: { group: 'B', priority: -1 } })))
    queue.start()
    await Promise.all(b.map((h) => h.result()))
    expect(order.lastIndexOf('B')).toBeLessThan(12)
  })

  it('the group reaches the stored job from addBulk, chain, group flows and schedules', async () => {
    const queue = makeQueue({ autostart: false })
    const [bulk] = await queue.addBulk([{ name: 'double', data: 1, options: { group: 'g-bulk' } }])
    const chain = await queue.chain([
      { name: 'double', data: 1, options: { group: 'g-chain' } },
      { name: 'double', options: { group: 'g-chain' } },
    ])
    const flow = await queue.group([{ name: 'double', data: 2, options: { group: 'g-flow' } }])
    await queue.schedule('double', { id: 'grouped', every: 60_000, data: 3, options: { group: 'g-schedule' } })
    const fired = await queue.schedules.trigger('grouped')
    const groups = async (ids: readonly string[]): Promise<Array<string | undefined>> =>
      Promise.all(ids.map(async (id) => (await queue.getJob(id))?.getSnapshot().group))
    expect(bulk?.getSnapshot().group).toBe('g-bulk')
    expect(await groups(chain.jobs)).toEqual(['g-chain', 'g-chain'])
    expect((await groups(flow.jobs))[0]).toBe('g-flow')
    expect(fired.getSnapshot().group).toBe('g-schedule')
    expect((await queue.list({ status: 'waiting', limit: 20 })).filter((j) => j.group === 'g-schedule')).toHaveLength(1)
  })

  it('bad groups and limits are refused, naming the option', async () => {
    const queue = makeQueue({ autostart: false })
    await expect(queue.add('double', 1, { group: '' })).rejects.toThrow(/Invalid option "group": expected a non-empty string/)
    await expect(queue.add('double', 1, { group: 7 as unknown as string })).rejects.toThrow(TypeError)
    await expect(queue.groups.set('', { concurrency: 1 })).rejects.toThrow(/Invalid option "id"/)
    await expect(queue.groups.set('g', { concurrency: 0 })).rejects.toThrow(RangeError)
    await expect(queue.groups.set('g', { limit: 1 } as never)).rejects.toThrow(/Unknown option "limits.limit"/)
    await expect(queue.groups.pause(undefined as unknown as string)).rejects.toThrow(TypeError)
    expect(() => makeQueue({ groups: { concurrency: 1.5 } })).toThrow(/Invalid option "groups.concurrency"/)
  })
})
