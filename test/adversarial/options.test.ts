/**
 * Options a careless caller passes: null where a string is expected, absurd
 * pool sizes, timeouts and delays beyond what `setTimeout` can hold (2^31 − 1 ms,
 * about 24.8 days; a larger value fires at once).
 */
import { describe, expect, it } from 'vitest'
import { createQueue, idbStore } from '../../src/index.js'
import { makeQueue } from '../browser/fixtures/queue.js'
import { delay, stateAfter, uniqueName, within } from './fixtures/queue.js'
import { tasksWorker } from '../browser/fixtures/queue.js'

const DAY = 24 * 3600 * 1000

/** Counts setTimeout calls made by anything on this page while `fn` runs. */
async function countTimers(fn: () => Promise<void>): Promise<number[]> {
  const original = globalThis.setTimeout
  const delays: number[] = []
  globalThis.setTimeout = ((handler: TimerHandler, timeout?: number, ...args: unknown[]) => {
    delays.push(Number(timeout ?? 0))
    return original(handler, timeout, ...args)
  }) as typeof setTimeout
  try {
    await fn()
  } finally {
    globalThis.setTimeout = original
  }
  return delays
}

describe('adversarial options', () => {
  it('createQueue({ name: null }) throws a TypeError naming "name"', () => {
    let thrown: unknown
    try {
      const queue = createQueue({ name: null as never, autostart: false })
      void queue.close({ timeout: 0 })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(TypeError)
    expect((thrown as Error).message).toContain('"name"')
    expect((thrown as Error).message).toContain('null')
  })

  it('createQueue({ concurrency: 1e20 }) throws a RangeError stating the bound (it never starts 1e20 workers)', async () => {
    let made = 0
    const factory = (): Worker => {
      made++
      return tasksWorker()
    }
    let thrown: unknown
    try {
      const queue = createQueue({ name: uniqueName('conc'), concurrency: 1e20, worker: factory, store: idbStore() })
      // Accepted: at least it must not start a worker per job of a big batch.
      await queue.addBulk(Array.from({ length: 64 }, (_, i) => ({ name: 'echo', data: i })) as never)
      await delay(300)
      await queue.close({ timeout: 0 })
    } catch (error) {
      thrown = error
    }
    expect(made, 'workers started').toBeLessThanOrEqual(Math.max(4, navigator.hardwareConcurrency * 4))
    expect(thrown).toBeInstanceOf(RangeError)
    expect((thrown as Error).message).toContain('"concurrency"')
    // The bound, and what was received.
    expect((thrown as Error).message).toContain('from 1 to 256')
    expect((thrown as Error).message).toContain(String(1e20))
  })

  it('a job timeout above 2^31 ms (3e9) does not fire at once: the job completes', async () => {
    const queue = makeQueue()
    const job = await queue.add('sleep', 300, { timeout: 3e9 })
    const outcome = await within(3000, 'the job', job.wait())
    expect(outcome.error?.message, `${outcome.error?.name}: ${outcome.error?.message}`).toBeUndefined()
    expect(outcome.status).toBe('completed')
    expect(outcome.result).toBe(300)
  })

  it('a default timeout above 2^31 ms (queue defaults) does not fire at once', async () => {
    const queue = makeQueue({ defaults: { timeout: 3e9 } })
    const job = await queue.add('sleep', 200)
    await expect(within(3000, 'the job', job.result())).resolves.toBe(200)
  })

  it('handle.result({ timeout: 3e9 }) does not reject at once', async () => {
    const queue = makeQueue()
    const job = await queue.add('sleep', 400)
    const pending = job.result({ timeout: 3e9 })
    const early = await stateAfter(pending, 150)
    expect(early, 'result({ timeout: 3e9 }) 150 ms in').toBe('pending')
    await expect(within(3000, 'the result', pending)).resolves.toBe(400)
  })

  it('handle.wait({ timeout: 3e9 }) on a waiting job does not reject at once', async () => {
    const queue = makeQueue({ autostart: false })
    const job = await queue.add('echo', 1)
    const waiting = job.wait({ timeout: 3e9 })
    expect(await stateAfter(waiting, 150)).toBe('pending')
    queue.start()
    await expect(within(3000, 'the wait', waiting)).resolves.toMatchObject({ status: 'completed', result: 1 })
  })

  it('a job delayed by 30 days stays delayed and does not make the runner spin (few timers over 1 s)', async () => {
    const queue = makeQueue()
    await (await queue.add('echo', 'warm')).result()
    let job: Awaited<ReturnType<typeof queue.add>> | undefined
    const timers = await countTimers(async () => {
      job = await queue.add('sleep', 1, { delay: 30 * DAY })
      await delay(1000)
    })
    expect(job?.status).toBe('delayed')
    expect((await job?.refresh())?.status).toBe('delayed')
    const counts = await queue.counts()
    expect(counts).toMatchObject({ delayed: 1, running: 0, completed: 1 })
    expect(timers.length, `setTimeout calls in 1 s; first delays: ${timers.slice(0, 8).join(', ')}`).toBeLessThan(20)
  })

  it('a retry delay above 2^31 ms keeps the job delayed instead of retrying at once', async () => {
    const queue = makeQueue()
    const job = await queue.add('flaky', 5, { retry: { attempts: 3, delay: 3e9, backoff: 'fixed', jitter: false } })
    await expect.poll(() => job.status, { timeout: 3000 }).toBe('delayed')
    await delay(400)
    const snapshot = await job.refresh()
    expect(snapshot.attempt).toBe(2)
    expect(snapshot.status).toBe('delayed')
    expect(await job.errors()).toHaveLength(1)
  })

  it('stallTimeout above 2^31 ms does not treat a quiet job as hung at once', async () => {
    const queue = makeQueue({ stallTimeout: 3e9 })
    const job = await queue.add('silent', 300)
    const outcome = await within(3000, 'the job', job.wait())
    expect(outcome.error?.message, `${outcome.error?.name}: ${outcome.error?.message}`).toBeUndefined()
    expect(outcome.status).toBe('completed')
  })
})
