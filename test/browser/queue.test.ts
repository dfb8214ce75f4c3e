import { describe, expect, it } from 'vitest'
import type { JobSnapshot } from '../../src/index.js'
import { delay, makeQueue } from './fixtures/queue.js'

describe('queue basics (IndexedDB, module workers)', () => {
  it('add() stores a job, runs it in a worker and result() resolves with the output', async () => {
    const queue = makeQueue()
    const job = await queue.add('double', 21)
    expect(['waiting', 'running']).toContain(job.status)
    await expect(job.result()).resolves.toBe(42)
    expect(job.status).toBe('completed')
    const stored = await queue.list({ data: true })
    expect(stored).toHaveLength(1)
    expect(stored[0]).toMatchObject({ id: job.id, name: 'double', status: 'completed', data: 21, result: 42, attempt: 1 })
    // Without `data: true`, a snapshot has neither (listing costs the same whatever the job's size).
    const [bare] = await queue.list()
    expect(bare).toMatchObject({ id: job.id, status: 'completed' })
    expect(bare).not.toHaveProperty('data')
    expect(bare).not.toHaveProperty('result')
  })

  it('the job is durable once add() resolves: a second queue on the same name sees it', async () => {
    const queue = makeQueue({ autostart: false })
    const job = await queue.add('double', 5)
    const observer = makeQueue({ name: queue.name, worker: undefined })
    const seen = await observer.getJob(job.id)
    expect(seen?.status).toBe('waiting')
    // The other tab's handle reads the data when asked, not before.
    expect(seen?.toJSON()).not.toHaveProperty('data')
    await expect(seen!.data()).resolves.toBe(5)
  })

  it('ctx carries id, name, queue, attempt, createdAt and the setup state', async () => {
    const queue = makeQueue()
    const job = await queue.add('context', null)
    const ctx = await job.result()
    expect(ctx).toMatchObject({ id: job.id, name: 'context', queue: queue.name, attempt: 1, createdAt: job.createdAt })
    expect(ctx.state).toMatchObject({ ready: true })
  })

  it('progress is live on the handle and persisted; logs are persisted in order with live log events', async () => {
    const queue = makeQueue()
    const job = await queue.add('report', 5)
    const progress: unknown[] = []
    const logs: string[] = []
    const statuses: string[] = []
    job.on('progress', (p) => progress.push(p))
    job.on('log', (entry) => logs.push(entry.message))
    job.on('status', (s) => statuses.push(s.status))
    await expect(job.result()).resolves.toBe('reported')
    expect(progress.length).toBeGreaterThanOrEqual(2)
    expect(progress.at(-1)).toEqual({ phase: 'done' })
    expect(job.progress).toEqual({ phase: 'done' })
    expect(statuses).toContain('running')
    expect(statuses.at(-1)).toBe('completed')
    const stored = await job.logs()
    expect(stored.map((l) => l.message)).toEqual(['step 1', 'step 2', 'step 3', 'step 4', 'step 5', 'almost done'])
    expect(stored[0]).toMatchObject({ level: 'info', meta: { i: 1 } })
    expect(stored.at(-1)?.level).toBe('warn')
    expect(typeof stored[0]?.timestamp).toBe('number')
    // Live log events arrive once stored; every line seen live is also stored.
    await delay(20)
    expect(logs).toEqual(stored.map((l) => l.message))
    const fresh = await job.refresh()
    expect(fresh.progress).toEqual({ phase: 'done' })
  })

  it('queue events fire with the snapshot and the value, after the state is stored', async () => {
    const queue = makeQueue()
    const events: Array<[string, string, unknown]> = []
    const check: Array<Promise<void>> = []
    for (const name of ['added', 'started', 'completed'] as const) {
      queue.on(name, (job: JobSnapshot, value: unknown) => {
        events.push([name, job.status, value])
        check.push(
          queue.getJob(job.id).then(async (h) => {
            const stored = await h?.refresh()
            if (name === 'completed') expect(stored?.status).toBe('completed')
          }),
        )
      })
    }
    const job = await queue.add('double', 4)
    await job.result()
    await queue.idle()
    await Promise.all(check)
    expect(events).toEqual([
      ['added', 'waiting', undefined],
      ['started', 'running', 1],
      ['completed', 'completed', 8],
    ])
  })

  it('runs higher priority first, then in insertion order', async () => {
    const queue = makeQueue({ concurrency: 1, autostart: false })
    const order: string[] = []
    queue.on('started', (job) => order.push(job.data as string))
    await queue.add('echo', 'low-1', { priority: 0 })
    await queue.add('echo', 'high-1', { priority: 10 })
    await queue.add('echo', 'low-2', { priority: 0 })
    await queue.add('echo', 'high-2', { priority: 10 })
    await queue.add('echo', 'mid', { priority: 5 })
    queue.start()
    await queue.idle()
    expect(order).toEqual(['high-1', 'high-2', 'mid', 'low-1', 'low-2'])
  })

  it('delay and runAt hold a job as delayed until its time', async () => {
    const queue = makeQueue()
    // The worker loaded first (the first add waits for its task list): the delays below are the jobs' own.
    await (await queue.add('echo', 'warm up')).result()
    const t0 = Date.now()
    const delayed = await queue.add('echo', 'later', { delay: 400 })
    const at = await queue.add('echo', 'at', { runAt: new Date(t0 + 300) })
    expect(delayed.status).toBe('delayed')
    expect(at.status).toBe('delayed')
    expect(delayed.runAt).toBeGreaterThanOrEqual(t0 + 400)
    const done = await delayed.wait()
    expect(done.startedAt).toBeGreaterThanOrEqual(t0 + 400)
    const doneAt = await at.wait()
    expect(doneAt.startedAt).toBeGreaterThanOrEqual(t0 + 300)
  })

  it('an id that exists returns the existing job (idempotent add)', async () => {
    const queue = makeQueue({ autostart: false })
    const first = await queue.add('echo', 'one', { id: 'fixed-id' })
    const second = await queue.add('echo', 'two', { id: 'fixed-id' })
    expect(second).toBe(first)
    expect(second.toJSON().data).toBe('one')
    expect((await queue.counts()).waiting).toBe(1)
  })

  it('a dedup key returns the unfinished job that holds it, and is free again once it is final', async () => {
    const queue = makeQueue({ autostart: false })
    const first = await queue.add('echo', 'a', { key: 'k' })
    const dup = await queue.add('echo', 'b', { key: 'k' })
    expect(dup.id).toBe(first.id)
    queue.start()
    await first.result()
    const next = await queue.add('echo', 'c', { key: 'k' })
    expect(next.id).not.toBe(first.id)
    await expect(next.result()).resolves.toBe('c')
  })

  it('addBulk adds all jobs in one transaction and returns handles in order', async () => {
    const queue = makeQueue()
    const handles = await queue.addBulk([
      { name: 'double', data: 1 },
      { name: 'double', data: 2 },
      { name: 'echo', data: 'x' },
    ])
    expect(await Promise.all(handles.map((h) => h.result()))).toEqual([2, 4, 'x'])
  })

  it('getJob() gives back a live handle by id, the same object within a tab', async () => {
    const queue = makeQueue({ autostart: false })
    const job = await queue.add('double', 3)
    expect(await queue.getJob(job.id)).toBe(job)
    expect(await queue.getJob('missing')).toBeUndefined()
    const other = makeQueue({ name: queue.name, worker: undefined })
    const seen = await other.getJob(job.id)
    expect(seen?.id).toBe(job.id)
    expect(seen?.toJSON()).toMatchObject({ name: 'double', status: 'waiting' })
    await expect(seen!.data()).resolves.toBe(3)
    await expect(job.data()).resolves.toBe(3)
  })

  it('list() returns 100 jobs unless told otherwise; limit: Infinity returns them all', async () => {
    const queue = makeQueue({ autostart: false })
    await queue.addBulk(Array.from({ length: 130 }, (_, i) => ({ name: 'double' as const, data: i })))
    expect(await queue.list()).toHaveLength(100)
    expect(await queue.list({ limit: Infinity })).toHaveLength(130)
    expect(await queue.list({ offset: 120 })).toHaveLength(10)
  })

  it('list() filters by status and name, newest first, with limit and offset; counts() counts', async () => {
    const queue = makeQueue({ autostart: false })
    for (let i = 0; i < 5; i++) await queue.add('double', i)
    await queue.add('echo', 'e')
    const all = await queue.list({ data: true })
    expect(all.map((j) => j.data)).toEqual(['e', 4, 3, 2, 1, 0])
    expect((await queue.list({ name: 'double', limit: 2, offset: 1, data: true })).map((j) => j.data)).toEqual([3, 2])
    expect((await queue.list({ limit: 2 })).map((j) => j.id)).toEqual(all.slice(0, 2).map((j) => j.id))
    await expect(queue.list({ limit: -1 })).rejects.toThrow(/"limit"/)
    await expect(queue.list({ data: 'yes' as never })).rejects.toThrow(/"data"/)
    expect(await queue.list({ status: 'completed' })).toEqual([])
    const counts = await queue.counts()
    expect(counts).toMatchObject({ waiting: 6, running: 0, completed: 0, failed: 0 })
    queue.start()
    await queue.idle()
    expect((await queue.list({ status: ['completed'] })).length).toBe(6)
    expect((await queue.counts()).completed).toBe(6)
  })

  it('pause() stops taking jobs, resume() goes on; idle() waits for all', async () => {
    const queue = makeQueue()
    queue.pause()
    const job = await queue.add('double', 1)
    await delay(100)
    expect(job.status).toBe('waiting')
    queue.resume()
    await queue.idle()
    expect(job.status).toBe('completed')
  })

  it('clean() deletes finished jobs with their data, logs and errors', async () => {
    const queue = makeQueue()
    const ok = await queue.add('report', 1)
    const bad = await queue.add('fail', 'x')
    await ok.wait()
    await bad.wait()
    expect(await queue.clean({ status: 'completed' })).toBe(1)
    // Deleted: no handle any more, though this tab held a live one.
    expect(await queue.getJob(ok.id)).toBeUndefined()
    expect(await queue.list({ status: 'completed' })).toEqual([])
    expect(await ok.logs()).toEqual([])
    expect(await queue.clean({ status: 'failed', olderThan: 60_000 })).toBe(0)
    expect(await queue.clean({ status: ['failed', 'cancelled'] })).toBe(1)
    expect(await bad.errors()).toEqual([])
    expect(await queue.counts()).toMatchObject({ completed: 0, failed: 0 })
  })

  it('retention deletes completed jobs beyond the count kept', async () => {
    const queue = makeQueue({ retention: { completed: { count: 2 } } })
    const handles = await queue.addBulk([1, 2, 3, 4, 5].map((n) => ({ name: 'double' as const, data: n })))
    await Promise.all(handles.map((h) => h.result()))
    await expect.poll(async () => (await queue.counts()).completed, { timeout: 5000 }).toBe(2)
  })

  it('retry() re-queues a failed job with attempts starting again', async () => {
    const queue = makeQueue()
    const job = await queue.add('flaky', 1)
    await expect(job.result()).rejects.toMatchObject({ name: 'JobFailedError' })
    const again = await queue.retry(job.id)
    expect(again).toBe(job)
    // attempt 1 again, so flaky(1) fails again: the counter restarted.
    await expect(job.result()).rejects.toMatchObject({ name: 'JobFailedError' })
    expect((await job.errors()).map((e) => e.attempt)).toEqual([1, 1])
    await expect(queue.retry(job.id)).resolves.toBe(job)
    await job.wait()
    // A job already in line (waiting, running): nothing to do, its handle. A completed one: refused.
    const running = await queue.add('sleep', 200)
    await expect(queue.retry(running.id)).resolves.toBe(running)
    await running.result()
    await expect(queue.retry(running.id)).rejects.toThrow(/it is completed; only failed or cancelled/)
  })

  it('transfer moves buffers to the worker and back zero-copy', async () => {
    const queue = makeQueue()
    const buf = new ArrayBuffer(1024)
    const job = await queue.add('buffer', { buf }, { transfer: [buf] })
    const result = await job.result()
    expect(result.size).toBe(1024)
    expect(result.out.byteLength).toBe(2048)
    // Moved, not copied: the page's buffer is detached.
    expect(buf.byteLength).toBe(0)
    // The stored data is intact for a retry.
    const stored = await queue.list({ data: true })
    expect((stored[0]?.data as { buf: ArrayBuffer }).buf.byteLength).toBe(1024)
  })

  it('close() stops the queue: later calls reject with QueueClosedError', async () => {
    const queue = makeQueue()
    await queue.close()
    await expect(queue.add('double', 1)).rejects.toMatchObject({ name: 'QueueClosedError' })
  })

  it('close() interrupts a running job, which resumes on the next start', async () => {
    const queue = makeQueue()
    const job = await queue.add('sleep', 300)
    await expect.poll(() => job.status).toBe('running')
    await queue.close({ timeout: 0 })
    const next = makeQueue({ name: queue.name })
    const again = await next.getJob<number>(job.id)
    expect(again?.status).toBe('waiting')
    await expect(again?.result()).resolves.toBe(300)
    const errors = await again?.errors()
    expect(errors?.[0]).toMatchObject({ name: 'InterruptedError', attempt: 1 })
    expect(again?.attempt).toBe(1)
  })
})
