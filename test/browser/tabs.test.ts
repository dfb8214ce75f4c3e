import { describe, expect, it } from 'vitest'
import { delay, makeQueue } from './fixtures/queue.js'

// Two queues of one name in one page stand for two tabs: they share the
// origin's Web Locks, BroadcastChannel and IndexedDB as tabs do.
describe('one runner per queue across tabs (Web Locks + BroadcastChannel)', () => {
  it('only the first queue with workers runs; the second is a follower until it takes over', async () => {
    const a = makeQueue()
    await a.counts()
    const b = makeQueue({ name: a.name })
    await b.counts()
    expect(a.role).toBe('runner')
    expect(b.role).toBe('follower')
    const observer = makeQueue({ name: a.name, worker: undefined })
    await observer.counts()
    expect(observer.role).toBe('follower')
  })

  it('a job added in a follower runs in the runner; the follower handle sees progress, logs and the result', async () => {
    const runner = makeQueue()
    await runner.counts()
    const follower = makeQueue({ name: runner.name, worker: undefined })
    const ran: string[] = []
    runner.on('started', (job) => ran.push(job.id))
    const job = await follower.add('report', 3)
    const progress: unknown[] = []
    const logs: string[] = []
    job.on('progress', (p) => progress.push(p))
    job.on('log', (entry) => logs.push(entry.message))
    await expect(job.result()).resolves.toBe('reported')
    expect(ran).toEqual([job.id])
    expect(progress.at(-1)).toEqual({ phase: 'done' })
    expect(logs).toContain('almost done')
    expect(job.status).toBe('completed')
  })

  it('follower queue events fire for jobs the runner runs', async () => {
    const runner = makeQueue()
    await runner.counts()
    const follower = makeQueue({ name: runner.name, worker: undefined })
    const seen: string[] = []
    follower.on('added', () => seen.push('added'))
    follower.on('started', () => seen.push('started'))
    follower.on('completed', (_job, result) => seen.push(`completed:${String(result)}`))
    const job = await runner.add('double', 7)
    await job.result()
    await expect.poll(() => seen).toEqual(['added', 'started', 'completed:14'])
  })

  it('a follower cancels a job running in the runner tab', async () => {
    const runner = makeQueue()
    await runner.counts()
    const follower = makeQueue({ name: runner.name, worker: undefined })
    const job = await follower.add('sleep', 10_000)
    await expect.poll(() => job.status).toBe('running')
    await expect(job.cancel('from the other tab')).resolves.toBe(true)
    expect(job.status).toBe('cancelled')
    const inRunner = await runner.getJob(job.id)
    await expect.poll(() => inRunner?.status).toBe('cancelled')
    await expect(runner.idle()).resolves.toBeUndefined()
  })

  it('a follower cancels a waiting job, and the runner never starts it', async () => {
    const runner = makeQueue({ autostart: false })
    await runner.counts()
    const follower = makeQueue({ name: runner.name, worker: undefined })
    const job = await follower.add('double', 1)
    await expect(job.cancel()).resolves.toBe(true)
    const started: string[] = []
    runner.on('started', (j) => started.push(j.id))
    runner.start()
    await delay(100)
    expect(started).toEqual([])
    expect((await runner.getJob(job.id))?.status).toBe('cancelled')
  })

  it('when the runner closes, the next queue takes over at once and resumes its running jobs', async () => {
    const a = makeQueue({ concurrency: 1 })
    await a.counts()
    const b = makeQueue({ name: a.name, concurrency: 1 })
    await b.counts()
    const long = await a.add('sleep', 400)
    await expect.poll(() => long.status).toBe('running')
    const queued = await b.add('double', 21)
    const roles: string[] = []
    b.on('role', (role) => roles.push(role))
    const t0 = performance.now()
    await a.close({ timeout: 0 })
    await expect.poll(() => b.role).toBe('runner')
    expect(performance.now() - t0).toBeLessThan(1000)
    expect(roles).toEqual(['runner'])
    const resumed = await b.getJob<number>(long.id)
    await expect(resumed?.result()).resolves.toBe(400)
    await expect((await b.getJob<number>(queued.id))?.result()).resolves.toBe(42)
    expect((await resumed?.errors())?.[0]?.name).toBe('InterruptedError')
  })

  it('a follower without a worker knows the task names from the releases the store holds, and rejects an unknown one at add', async () => {
    const runner = makeQueue()
    await runner.add('double', 1).then((j) => j.result())
    const follower = makeQueue({ name: runner.name, worker: undefined })
    await follower.counts()
    await delay(50)
    // @ts-expect-error: not a task
    await expect(follower.add('nope', 1)).rejects.toMatchObject({ name: 'UnknownTaskError' })
  })
})
