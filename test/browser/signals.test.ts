/**
 * Durable waits for a signal (`ctx.waitFor` and `queue.signal`): the run ends, the job is
 * `delayed` waiting for its signal (no worker held, its attempt unused); a signal sent
 * before the wait is kept, one sent while it runs is not lost, one sent after wakes it, and
 * none at all ends the wait with a TimeoutError the handler catches. In every engine.
 */
import { describe, expect, it } from 'vitest'
import { JobDataError } from '../../src/index.js'
import { makeQueue, storeWithoutSteps } from './fixtures/queue.js'
import { until } from '../helpers/until.js'

let channels = 0
const channel = (): string => `signal-${Date.now()}-${++channels}`
const say = (name: string): void => {
  const bc = new BroadcastChannel(name)
  bc.postMessage('go')
  bc.close()
}

describe('ctx.waitFor and queue.signal', () => {
  it('a signal sent after the job waits: the job waits delayed, no worker held, and goes on with the payload; its step runs once', async () => {
    const queue = makeQueue({ concurrency: 1 })
    const job = await queue.add('waiter', { signal: 'approved' })
    await until(() => job.status === 'delayed', 'the job waiting')
    const waiting = job.getSnapshot()
    expect([waiting.attempt, waiting.waitingFor, waiting.signal]).toEqual([1, 'signal', 'approved'])
    // No timeout: it waits as long as it takes (a runAt a Date can still hold).
    expect(Number.isFinite(new Date(waiting.runAt).getTime())).toBe(true)
    // The only worker is free: another job runs while it waits.
    expect(await (await queue.add('echo', 'meanwhile')).result()).toBe('meanwhile')
    expect(job.status).toBe('delayed')
    // Another signal's name does not wake it.
    expect(await queue.signal(job.id, 'rejected', 'no')).toBe(true)
    expect(await (await queue.add('echo', 'again')).result()).toBe('again')
    expect(job.status).toBe('delayed')
    expect(await queue.signal(job.id, 'approved', { by: 'ann', at: [1, 2] })).toBe(true)
    const done = await job.wait()
    expect([done.status, done.attempt, done.result, done.waitingFor]).toEqual([
      'completed',
      1,
      { a: 'a', payload: { by: 'ann', at: [1, 2] } },
      undefined,
    ])
    expect((await job.logs()).map((l) => l.message)).toEqual(['ran a'])
    expect(await job.errors()).toEqual([])
    // A finished job takes no signal.
    expect(await queue.signal(job.id, 'approved', 1)).toBe(false)
    expect(await queue.signal('no-such-job', 'approved', 1)).toBe(false)
  })

  it('a signal sent before the job waits is kept: the wait returns it, with no other signal sent', async () => {
    const queue = makeQueue()
    const job = await queue.add('waiter', { signal: 'ready' }, { delay: 300 })
    expect(await queue.signal(job.id, 'ready', 42)).toBe(true)
    // Kept: the job is still delayed by its own delay, and not woken early.
    expect(job.status).toBe('delayed')
    const done = await job.wait()
    expect([done.status, done.attempt, done.result]).toEqual(['completed', 1, { a: 'a', payload: 42 }])
    expect((await job.logs()).map((l) => l.message)).toEqual(['ran a'])
  })

  it('a signal sent while the job runs, before it waits, is not lost: the job wakes as it starts to wait', async () => {
    const queue = makeQueue({ concurrency: 1 })
    const gate = channel()
    const job = await queue.add('waiter', { signal: 'go', gate })
    await until(() => job.status === 'running', 'the job running')
    expect(await queue.signal(job.id, 'go', 'early')).toBe(true)
    // Said until heard (a word sent before the handler listens is lost).
    await until(() => {
      say(gate)
      return job.status !== 'running'
    }, 'the job past its gate')
    const done = await job.wait()
    expect([done.status, done.attempt, done.result]).toEqual(['completed', 1, { a: 'a', payload: 'early' }])
  })

  it('a signal that never comes: the wait ends at its timeout with a TimeoutError the handler catches', async () => {
    const queue = makeQueue()
    const before = Date.now()
    const job = await queue.add('waiter', { signal: 'never', timeout: 400 })
    await until(() => job.status === 'delayed', 'the job waiting')
    expect(job.getSnapshot().runAt).toBeGreaterThanOrEqual(before + 400)
    const done = await job.wait()
    expect(done.status).toBe('completed')
    expect(done.result).toMatchObject({ a: 'a', timedOut: true })
    expect((done.result as { message: string }).message).toMatch(/ctx\.waitFor\("never"\): no signal "never" came by/)
    expect(Date.now()).toBeGreaterThanOrEqual(before + 400)
    expect(done.attempt).toBe(1)
    // Too late now: the job is done.
    expect(await queue.signal(job.id, 'never', 1)).toBe(false)
  })

  it('bad input: a clear error, and nothing stored', async () => {
    const queue = makeQueue()
    const job = await queue.add('waiter', { signal: 'x' }, { delay: 60_000 })
    await expect(queue.signal(job.id, '', 1)).rejects.toThrow(/queue\.signal\(id, name, payload\): expected a signal name/)
    await expect(queue.signal(job.id, 'x'.repeat(201), 1)).rejects.toThrow(TypeError)
    await expect(queue.signal(42 as unknown as string, 'x', 1)).rejects.toThrow(TypeError)
    const error = await queue.signal(job.id, 'x', { fn: () => 1 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(JobDataError)
    expect((error as Error).message).toMatch(/the payload cannot be stored \(at payload\.fn/)
    expect(await job.steps()).toEqual({})
    expect(job.status).toBe('delayed')
    await queue.remove(job.id)
  })

  it('with a store that keeps no steps: signal() says why', async () => {
    const queue = makeQueue({ store: storeWithoutSteps() })
    const job = await queue.add('echo', 1, { delay: 60_000 })
    await expect(queue.signal(job.id, 'x', 1)).rejects.toThrow(/keeps no durable steps/)
  })
})
