/**
 * Schedules for a task the worker module does not have. The contract: such a
 * schedule fails one run with UnknownTaskError and moves on to its next time;
 * it never fires in a loop. With `every: 50` over 1.5 s that is at most about
 * 30 slots; a loop shows as hundreds of runs or errors.
 */
import { describe, expect, it } from 'vitest'
import { UnknownTaskError, createQueue, idbStore } from '../../src/index.js'
import { makeQueue, tasksWorker } from '../browser/fixtures/queue.js'
import { delay, track, uniqueName } from './fixtures/queue.js'

const WINDOW_MS = 1500
const EVERY_MS = 50
/** Slots of the schedule in the window, plus slack for a missed run and timer slips. */
const MAX_SLOTS = Math.ceil(WINDOW_MS / EVERY_MS) + 3

describe('adversarial schedules', () => {
  it('a schedule stored while the worker module was unknown, for a task it lacks, does not fire in a loop; nextRunAt advances', async () => {
    const name = uniqueName('sched')
    // A tab without a worker cannot check the name: the schedule is stored as given.
    const follower = createQueue({ name, store: idbStore() })
    const stored = await follower.schedule('no-such-task' as never, { id: 's', every: EVERY_MS, data: null })
    await follower.close()
    // Now a runner opens on the same queue, with a worker module that lacks that task.
    const runner = track(createQueue({ name, worker: tasksWorker, concurrency: 1, store: idbStore() }))
    const errors: Error[] = []
    runner.on('error', (e) => errors.push(e))
    let added = 0
    runner.on('added', () => added++)
    await runner.counts()
    await delay(WINDOW_MS)
    await runner.schedules.pause('s')
    const counts = await runner.counts()
    const jobs = Object.values(counts).reduce((a, b) => a + b, 0)
    const unknownErrors = errors.filter((e) => e.name === 'UnknownTaskError' || /no-such-task/.test(e.message))
    expect(errors.length, `error events in ${WINDOW_MS} ms (first: ${String(errors[0])})`).toBeLessThanOrEqual(MAX_SLOTS)
    expect(jobs + added, 'jobs added by the schedule').toBeLessThanOrEqual(2 * MAX_SLOTS)
    // The failure is said somewhere: an error event, or failed jobs naming the task.
    expect(unknownErrors.length + counts.failed).toBeGreaterThan(0)
    const [schedule] = await runner.schedules.list()
    expect(schedule?.nextRunAt, 'nextRunAt moved past the first slot').toBeGreaterThan(stored.nextRunAt + EVERY_MS)
    expect(schedule?.nextRunAt).toBeGreaterThan(Date.now() - 2 * EVERY_MS - 1000)
  })

  it('the runner refuses a schedule for a task its worker module lacks (UnknownTaskError), storing nothing', async () => {
    const queue = makeQueue()
    await (await queue.add('echo', 1)).result()
    const error = await queue.schedule('no-such-task' as never, { id: 's', every: EVERY_MS, data: null as never }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(UnknownTaskError)
    expect(await queue.schedules.list()).toEqual([])
  })

  it('a schedule whose data cannot be cloned is refused with an error naming "data"; nothing stored, no loop', async () => {
    const queue = makeQueue()
    const errors: Error[] = []
    queue.on('error', (e) => errors.push(e))
    const error = await queue.schedule('echo', { id: 'bad', every: EVERY_MS, data: { fn: () => 1 } }).then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    expect(error).toBeDefined()
    expect(error?.message).toContain('data')
    expect(await queue.schedules.list()).toEqual([])
    await delay(200)
    expect(errors).toEqual([])
  })

  it('trigger() of a schedule for an unknown task rejects UnknownTaskError and leaves the schedule intact', async () => {
    const name = uniqueName('sched')
    const follower = track(createQueue({ name, store: idbStore(), replace: false }))
    await follower.schedule('no-such-task' as never, { id: 't', every: 60_000, data: null })
    const runner = track(createQueue({ name: `${name}`, worker: tasksWorker, concurrency: 1, store: idbStore(), replace: false }))
    runner.on('error', () => undefined)
    await runner.counts()
    // Once the runner knows its worker's tasks (its release is stored), the trigger is judged by them.
    await expect.poll(() => runner.runner?.tasks, { timeout: 10_000 }).toBeDefined()
    const error = await runner.schedules.trigger('t').then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    // Refused at once: never a loop, never a hang, no job.
    expect(error?.name).toBe('UnknownTaskError')
    expect(await runner.list()).toEqual([])
    expect((await runner.schedules.list()).map((s) => s.id)).toEqual(['t'])
  })
})
