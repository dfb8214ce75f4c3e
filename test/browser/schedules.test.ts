import { describe, expect, it } from 'vitest'
import { idbStore } from '../../src/index.js'
import type { Store } from '../../src/store.js'
import { withWrite } from '../helpers/store-write.js'
import { delay, makeQueue } from './fixtures/queue.js'

describe('schedules', () => {
  it('every: 200 fires about once per 200 ms in the runner tab', async () => {
    const queue = makeQueue()
    const fired: number[] = []
    queue.on('added', (job) => {
      if (job.name === 'echo') fired.push(Date.now())
    })
    const schedule = await queue.schedule('echo', { id: 'tick', every: 200, data: 'tick' })
    expect(schedule).toMatchObject({ id: 'tick', name: 'echo', every: 200, paused: false })
    await delay(1100)
    // 5 slots in 1.1 s (at 200, 400, 600, 800, 1000 ms); timers may slip by one.
    expect(fired.length).toBeGreaterThanOrEqual(4)
    expect(fired.length).toBeLessThanOrEqual(6)
    const [listed] = await queue.schedules.list()
    expect(listed?.lastJobId).toBeDefined()
    await expect((await queue.getJob(listed?.lastJobId as string))?.result()).resolves.toBe('tick')
  })

  it('pause stops it, resume starts it again, remove deletes it, trigger runs it now', async () => {
    const queue = makeQueue()
    await queue.schedule('double', { id: 's', every: 100, data: 21 })
    await queue.schedules.pause('s')
    // Every job, whatever its status (one fired before the pause may be running now, and complete later).
    const total = async (): Promise<number> => Object.values(await queue.counts()).reduce((a, b) => a + b, 0)
    const before = await total()
    await delay(300)
    expect(await total()).toBe(before)
    const job = await queue.schedules.trigger('s')
    await expect(job.result()).resolves.toBe(42)
    await queue.schedules.resume('s')
    await delay(250)
    expect((await queue.list({ name: 'double' })).length).toBeGreaterThanOrEqual(2)
    await expect(queue.schedules.remove('s')).resolves.toBe(true)
    expect(await queue.schedules.list()).toEqual([])
    await expect(queue.schedules.remove('s')).resolves.toBe(false)
  })

  it('missed runs while no runner was open run once (onMissed: once), or not at all (skip)', async () => {
    const first = makeQueue()
    await first.schedule('echo', { id: 'once', every: 60_000, data: 'once' })
    await first.schedule('echo', { id: 'skip', every: 60_000, data: 'skip', onMissed: 'skip' })
    await first.close()
    // Two and a half periods with no runner, two runs of each missed: the stored clocks are
    // moved back rather than waited for (a 1 s period left a regular run racing the check).
    const store = idbStore()
    await store.open(first.name)
    for (const schedule of await store.schedules()) {
      await store.write([{ op: 'schedule', schedule: { ...schedule, nextRunAt: schedule.nextRunAt - 150_000 } }])
    }
    await store.close()
    const next = makeQueue({ name: first.name })
    await expect.poll(async () => (await next.list({ name: 'echo', data: true })).filter((j) => j.data === 'once').length, { timeout: 5000 }).toBe(1)
    await delay(200)
    const jobs = await next.list({ name: 'echo', data: true })
    expect(jobs.filter((j) => j.data === 'once')).toHaveLength(1)
    expect(jobs.filter((j) => j.data === 'skip')).toHaveLength(0)
    const listed = await next.schedules.list()
    for (const id of ['once', 'skip']) expect(listed.find((s) => s.id === id)?.nextRunAt).toBeGreaterThan(Date.now())
  })

  it('an overlapping run is skipped while the previous job is unfinished, unless overlap: true', async () => {
    const queue = makeQueue({ concurrency: 3 })
    await queue.schedule('sleep', { id: 'slow', every: 100, data: 351 })
    await queue.schedule('sleep', { id: 'slow-overlap', every: 100, data: 350, overlap: true })
    await delay(530)
    const jobs = await queue.list({ name: 'sleep', data: true })
    // Each run takes 350 ms: without overlap a run starts only once the last one ended; with it, every 100 ms.
    const plain = jobs.filter((j) => j.data === 351).length
    const overlapping = jobs.filter((j) => j.data === 350).length
    expect(plain).toBeGreaterThanOrEqual(1)
    expect(plain).toBeLessThanOrEqual(2)
    expect(overlapping).toBeGreaterThanOrEqual(4)
  })

  it('bad schedules are refused with a clear error', async () => {
    const queue = makeQueue({ autostart: false })
    await expect(queue.schedule('echo', { id: 'x', data: 1 })).rejects.toThrow(/exactly one of "cron" and "every"/)
    await expect(queue.schedule('echo', { id: 'x', cron: 'not a cron', data: 1 })).rejects.toThrow(/"cron"/)
    await expect(queue.schedule('echo', { id: 'x', every: -5, data: 1 })).rejects.toThrow(RangeError)
    await expect(queue.schedule('echo', { id: '', every: 5, data: 1 })).rejects.toThrow(/"id"/)
    // @ts-expect-error: not a task
    await expect(queue.schedule('nope', { id: 'x', every: 5, data: 1 })).rejects.toMatchObject({ name: 'UnknownTaskError' })
    expect(await queue.schedules.list()).toEqual([])
  })

  it('a cron pattern gives the next run time', async () => {
    const queue = makeQueue({ autostart: false })
    const schedule = await queue.schedule('echo', { id: 'nightly', cron: '0 3 * * *', data: 'night' })
    const next = new Date(schedule.nextRunAt)
    expect(next.getHours()).toBe(3)
    expect(next.getMinutes()).toBe(0)
    expect(schedule.nextRunAt).toBeGreaterThan(Date.now())
  })
})

describe('schedules changed while the runner fires them', () => {
  /** idbStore, except that the runner's fire (a write adding a job with a schedule) waits for `release()`. */
  function heldFires(): { store: Store; held: Promise<void>; release: () => void } {
    const inner = idbStore()
    let release = (): void => undefined
    let holding: (() => void) | undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    const held = new Promise<void>((resolve) => (holding = resolve))
    const write: Store['write'] = async (ops, options) => {
      if (holding && ops.some((op) => op.op === 'insert') && ops.some((op) => op.op === 'schedule')) {
        holding()
        holding = undefined
        await gate
      }
      return inner.write(ops, options)
    }
    return { store: withWrite(inner, write), held, release }
  }

  for (const change of ['pause', 'remove'] as const) {
    it(`a ${change}() from another tab that lands while the runner fires is not undone by the fire`, async () => {
      const { store, held, release } = heldFires()
      const runner = makeQueue({ store })
      await runner.schedule('echo', { id: 's', every: 100, data: 'tick' })
      await held // the runner computed its fire and is about to write it
      const other = makeQueue({ name: runner.name, worker: undefined })
      if (change === 'pause') await other.schedules.pause('s')
      else await expect(other.schedules.remove('s')).resolves.toBe(true)
      release()
      await delay(400)
      const listed = await other.schedules.list()
      if (change === 'pause') expect(listed).toMatchObject([{ id: 's', paused: true }])
      else expect(listed).toEqual([])
    })
  }
})
