/**
 * croner is loaded the first time a cron schedule is created, resumed or read from the
 * store, never before (a page without one does not download it; `npm run size` checks
 * the bundle). This file has a module graph of its own: croner starts unloaded.
 */
import { describe, expect, it } from 'vitest'
import { memoryStore } from '../../src/index.js'
import { Scheduler, nextRunAfter, type SchedulerHost } from '../../src/runner/scheduler.js'
import type { ScheduleRecord } from '../../src/store/store.js'

describe('croner, loaded on demand', () => {
  it('is not loaded before a cron schedule is read; the runner that reads one loads it and fires it', async () => {
    const record: ScheduleRecord = {
      id: 'nightly',
      name: 'echo',
      cron: '0 3 * * *',
      data: 'night',
      options: {},
      onMissed: 'once',
      overlap: false,
      paused: false,
      nextRunAt: Date.now() - 10,
      createdAt: Date.now() - 60_000,
    }
    expect(() => nextRunAfter(record, Date.now())).toThrow(/croner is not loaded/)
    const store = memoryStore()
    await store.open(`cron-lazy-${Date.now()}`)
    await store.write([{ op: 'schedule', schedule: record }])
    const fired: Array<{ next: ScheduleRecord; run: boolean }> = []
    const errors: Error[] = []
    const host: SchedulerHost = {
      store,
      fire: async (_schedule, next, run) => void fired.push({ next, run }),
      isDone: async () => true,
      error: (e) => errors.push(e),
    }
    const scheduler = new Scheduler(host)
    await scheduler.load()
    scheduler.stop()
    expect(errors).toEqual([])
    expect(fired).toHaveLength(1)
    expect(fired[0]!.run).toBe(true)
    // The next run is the next 03:00 that croner computes.
    const next = new Date(fired[0]!.next.nextRunAt)
    expect(next.getTime()).toBeGreaterThan(Date.now())
    expect([next.getHours(), next.getMinutes(), next.getSeconds()]).toEqual([3, 0, 0])
    expect(nextRunAfter(record, Date.now())).toBe(fired[0]!.next.nextRunAt)
  })
})
