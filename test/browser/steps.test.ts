/**
 * Durable steps (API.md, the ctx table: `ctx.step(id, fn)`): a step's result is stored
 * before it resolves, and a job that runs again returns it without running the step.
 */
import { describe, expect, it } from 'vitest'
import { JobFailedError } from '../../src/index.js'
import { makeQueue } from './fixtures/queue.js'

describe('ctx.step', () => {
  it('a retry returns the stored results of steps done before the failure without running them', async () => {
    const queue = makeQueue()
    const job = await queue.add('stepped', { steps: 4, failAt: 2 }, { retry: { attempts: 2, delay: 0 } })
    await expect(job.result()).resolves.toEqual([10, 20, 30, 40])
    const ran = (await job.logs()).map((entry) => entry.message)
    expect(ran).toEqual(['ran s1 on attempt 1', 'ran s2 on attempt 1', 'ran s3 on attempt 2', 'ran s4 on attempt 2'])
  })

  it('a step whose result cannot be stored fails the attempt with JobDataError; a step id used twice with TypeError', async () => {
    const queue = makeQueue()
    const bad = await queue.add('badStep', 'uncloneable')
    const error = await bad.result().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(JobFailedError)
    expect((error as JobFailedError).cause).toMatchObject({ name: 'JobDataError' })
    const twice = await queue.add('badStep', 'twice')
    const second = await twice.result().catch((e: unknown) => e)
    expect((second as JobFailedError).cause).toMatchObject({ name: 'TypeError', message: expect.stringContaining('used once per job') })
  })

  it('steps are deleted with their job', async () => {
    const queue = makeQueue()
    const job = await queue.add('stepped', { steps: 2 })
    await job.result()
    expect(await queue.remove(job.id)).toBe(true)
    // A new job with the same id starts from no steps.
    const again = await queue.add('stepped', { steps: 2, failAt: 1 }, { id: job.id, retry: { attempts: 2, delay: 0 } })
    await expect(again.result()).resolves.toEqual([10, 20])
    expect((await again.logs()).map((entry) => entry.message)).toEqual(['ran s1 on attempt 1', 'ran s2 on attempt 2'])
  })
})
