import { describe, expect, it } from 'vitest'
import { idbStore } from '../../src/index.js'
import type { JobRecord } from '../../src/store/store.js'
import { makeQueue } from './fixtures/queue.js'

/** Marks a stored job as `running` the way a runner that died mid-attempt leaves it. */
async function leaveRunning(queueName: string, id: string, interruptions: number): Promise<void> {
  const store = idbStore()
  await store.open(queueName)
  const [job] = (await store.get([id])) as [JobRecord]
  await store.write([{ op: 'put', job: { ...job, status: 'running', startedAt: Date.now(), interruptions, rev: job.rev + 1 } }])
  await store.close()
}

describe('resume after a runner died (IndexedDB)', () => {
  it('a job left running goes back to waiting, records the interruption, keeps its attempt, and runs', async () => {
    const first = makeQueue({ autostart: false })
    const job = await first.add('double', 8, { retry: { attempts: 2 } })
    await first.close()
    await leaveRunning(first.name, job.id, 0)
    const next = makeQueue({ name: first.name })
    const resumed = await next.getJob<number>(job.id)
    await expect(resumed?.result()).resolves.toBe(16)
    expect(resumed?.attempt).toBe(1)
    const errors = await resumed?.errors()
    expect(errors).toHaveLength(1)
    expect(errors?.[0]).toMatchObject({ name: 'InterruptedError', attempt: 1 })
    expect(errors?.[0]?.message).toContain('1 of 3')
  })

  it('the third interruption of the same attempt ends the job failed with InterruptedError', async () => {
    const first = makeQueue({ autostart: false })
    const job = await first.add('double', 1, { retry: { attempts: 5 } })
    await first.close()
    await leaveRunning(first.name, job.id, 2)
    const next = makeQueue({ name: first.name })
    const resumed = await next.getJob(job.id)
    const error = (await resumed?.result().catch((e: unknown) => e)) as Error
    expect(error.name).toBe('JobFailedError')
    expect((error.cause as Error).name).toBe('InterruptedError')
    expect(resumed?.status).toBe('failed')
  })

  it('a delayed job keeps its runAt across a restart', async () => {
    // Not started by the first either: a close slower than the delay (a loaded CI machine) would let it run there.
    const first = makeQueue({ autostart: false })
    const job = await first.add('double', 2, { delay: 300 })
    const runAt = job.runAt
    await first.close()
    // Not started yet: a slow restart (CI's Firefox took over 300 ms) must not let the job run before it is looked at.
    const next = makeQueue({ name: first.name, autostart: false })
    const resumed = await next.getJob<number>(job.id)
    expect(resumed?.status).toBe('delayed')
    expect(resumed?.runAt).toBe(runAt)
    next.start()
    const done = await resumed?.wait()
    expect(done?.startedAt).toBeGreaterThanOrEqual(runAt)
    expect(done?.result).toBe(4)
  })

  it('retry backoff survives a restart: the next attempt waits out its delay', async () => {
    const first = makeQueue()
    const job = await first.add('flaky', 1, { retry: { attempts: 2, delay: 400, jitter: false } })
    await expect.poll(() => job.status).toBe('delayed')
    const runAt = job.runAt
    await first.close()
    const next = makeQueue({ name: first.name })
    const resumed = await next.getJob(job.id)
    expect(resumed?.runAt).toBe(runAt)
    const done = await resumed?.wait()
    expect(done?.status).toBe('completed')
    expect(done?.startedAt).toBeGreaterThanOrEqual(runAt)
    expect(done?.attempt).toBe(2)
  })
})
