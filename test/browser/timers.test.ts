import { afterEach, describe, expect, it, vi } from 'vitest'
import { JobIndex } from '../../src/runner/job-index.js'
import { memoryStore } from '../../src/store/memory-store.js'
import type { JobRecord } from '../../src/store/store.js'
import { jobRecord } from '../helpers/records.js'

/**
 * Chrome wakes the chained timers of a tab hidden 5 minutes (a timer set from a timer
 * callback, five deep: HTML's "timer nesting level") at most once a minute. The runner
 * re-arms its delayed-job timer each time it fires: that must not build a chain.
 */
describe('the runner re-arms its timers outside timer callbacks', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('ten delayed jobs due one after another: each timer is armed at nesting level 1, never deeper', async () => {
    const real = globalThis.setTimeout
    let current = 0
    const levels: number[] = []
    // HTML's nesting level: a timer armed while a timer callback of level L runs has level L + 1.
    vi.stubGlobal('setTimeout', (fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const level = current + 1
      levels.push(level)
      return real(() => {
        current = level
        try {
          fn(...args)
        } finally {
          current = 0
        }
      }, ms)
    })
    const due: string[] = []
    const index = new JobIndex(
      memoryStore(),
      () => false,
      () => {
        for (let job = index.take(); job; job = index.take()) due.push(job.id)
      },
    )
    const now = Date.now()
    for (let i = 0; i < 10; i++) index.add(delayed(`j${i}`, now + 5 + i * 5))
    await vi.waitFor(() => expect(due).toHaveLength(10), { timeout: 2_000 })
    expect(due).toEqual(Array.from({ length: 10 }, (_, i) => `j${i}`))
    // The old code armed each next timer from the last one's callback: levels 1, 2, … 10.
    expect(Math.max(...levels)).toBe(1)
    index.stop()
  })
})

/** A delayed job as a store keeps it: its `seq` (insertion order) orders jobs that fall due together, as a late timer makes them. */
const delayed = (id: string, runAt: number): JobRecord => jobRecord(id, { status: 'delayed', seq: Number(id.slice(1)) + 1, createdAt: runAt, runAt })
