import { describe, expect, it } from 'vitest'
import { JobCancelledError, JobFailedError, JobTimeoutError } from '../../src/index.js'
import { delay, makeQueue } from './fixtures/queue.js'

describe('failures, retries, timeouts and cancellation', () => {
  it('a failed job rejects JobFailedError whose cause is the worker error rebuilt with name, message, stack and cause', async () => {
    const queue = makeQueue()
    const job = await queue.add('fail', 'it broke')
    const error = await job.result().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(JobFailedError)
    const failed = error as JobFailedError
    expect(failed.code).toBe('ERR_JOB_FAILED')
    expect(failed.message).toContain('it broke')
    const cause = failed.cause as Error & { code?: string }
    expect(cause.name).toBe('CustomError')
    expect(cause.message).toBe('it broke')
    expect(cause.code).toBe('E_CUSTOM')
    expect(cause.stack).toContain('tasks.worker')
    expect((cause.cause as Error).name).toBe('RangeError')
    expect((cause.cause as Error).message).toBe('inner cause')
    expect(job.status).toBe('failed')
    expect(job.error?.name).toBe('CustomError')
    const errors = await job.errors()
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({ attempt: 1, name: 'CustomError', message: 'it broke' })
    expect(typeof errors[0]?.failedAt).toBe('number')
    expect(errors[0]?.stack).toContain('CustomError')
  })

  it.each([
    ['string', 'plain string thrown'],
    ['undefined', 'The handler threw undefined'],
    ['null', 'The handler threw null'],
    ['object', 'The handler threw a non-Error object: {"reason":"an object","n":1}'],
  ] as const)('a handler throwing a non-Error (%s) fails with a readable message', async (kind, message) => {
    const queue = makeQueue()
    const job = await queue.add('throwValue', kind)
    const error = (await job.result().catch((e: unknown) => e)) as JobFailedError
    expect((error.cause as Error).message).toBe(message)
    expect(error.message).toContain(message)
  })

  it('retries with attempts and records one error per failed attempt', async () => {
    const queue = makeQueue()
    const job = await queue.add('flaky', 2, { retry: { attempts: 3, delay: 10, backoff: 'fixed' } })
    const retrying: number[] = []
    queue.on('retrying', (_job, info) => retrying.push(info.attempt))
    await expect(job.result()).resolves.toBe('ok on attempt 3')
    expect(job.attempt).toBe(3)
    expect(retrying).toEqual([2, 3])
    const errors = await job.errors()
    expect(errors.map((e) => [e.attempt, e.message])).toEqual([
      [1, 'flaky failure 1'],
      [2, 'flaky failure 2'],
    ])
  })

  it('fails for good once attempts are used up', async () => {
    const queue = makeQueue()
    const job = await queue.add('flaky', 5, { retry: { attempts: 2, delay: 1 } })
    await expect(job.result()).rejects.toBeInstanceOf(JobFailedError)
    expect(job.attempt).toBe(2)
    expect(await job.errors()).toHaveLength(2)
  })

  it('exponential backoff with jitter off waits delay × 2^(attempt−1) between attempts', async () => {
    const queue = makeQueue()
    const job = await queue.add('flaky', 2, { retry: { attempts: 3, backoff: 'exponential', delay: 60, jitter: false } })
    const delays: number[] = []
    queue.on('retrying', (_job, info) => delays.push(info.delay))
    await job.result()
    expect(delays).toEqual([60, 120])
    const errors = await job.errors()
    const finished = await job.wait()
    // Each attempt started no earlier than its backoff after the previous failure.
    expect((finished.startedAt ?? 0) - (errors[1]?.failedAt ?? 0)).toBeGreaterThanOrEqual(120 - 5)
  })

  it('noRetryOn stops retries for matching errors; retryOn limits them to matching ones', async () => {
    const queue = makeQueue()
    const typed = await queue.add('typeError', null, { retry: { attempts: 5, delay: 1, noRetryOn: ['TypeError'] } })
    await expect(typed.result()).rejects.toBeInstanceOf(JobFailedError)
    expect(typed.attempt).toBe(1)
    const other = await queue.add('flaky', 3, { retry: { attempts: 5, delay: 1, retryOn: ['TypeError'] } })
    await expect(other.result()).rejects.toBeInstanceOf(JobFailedError)
    expect(other.attempt).toBe(1)
  })

  it('task-level retry options (with a predicate function) apply', async () => {
    const queue = makeQueue()
    const ok = await queue.add('retried', 2)
    await expect(ok.result()).resolves.toBe(3)
    const transient = await queue.add('predicate', 'transient glitch')
    await expect(transient.result()).rejects.toBeInstanceOf(JobFailedError)
    expect(transient.attempt).toBe(3)
    const permanent = await queue.add('predicate', 'permanent')
    await expect(permanent.result()).rejects.toBeInstanceOf(JobFailedError)
    expect(permanent.attempt).toBe(1)
  })

  it('ctx.retry({ delay }) asks for another attempt after that delay, even without a retry policy', async () => {
    const queue = makeQueue()
    const job = await queue.add('askRetry', 80, { retry: { attempts: 2 } })
    const t0 = Date.now()
    await expect(job.result()).resolves.toBe(2)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(75)
    expect((await job.errors())[0]).toMatchObject({ name: 'RetryError', message: 'try again' })
  })

  it('a per-attempt timeout aborts ctx.signal with JobTimeoutError and fails the attempt', async () => {
    const queue = makeQueue()
    const job = await queue.add('sleep', 5000, { timeout: 50 })
    const error = (await job.result().catch((e: unknown) => e)) as JobFailedError
    expect(error).toBeInstanceOf(JobFailedError)
    expect(error.cause).toBeInstanceOf(JobTimeoutError)
    expect((error.cause as Error).message).toContain('50 ms')
    const slow = await queue.add('slowDefault', 5000)
    await expect(slow.result()).rejects.toMatchObject({ cause: { name: 'JobTimeoutError' } })
  })

  it('cancel() of a waiting job ends it cancelled at once', async () => {
    const queue = makeQueue({ autostart: false })
    const job = await queue.add('double', 1)
    await expect(job.cancel('not needed')).resolves.toBe(true)
    expect(job.status).toBe('cancelled')
    const error = await job.result().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(JobCancelledError)
    expect((error as Error).message).toBe('not needed')
    await expect(job.cancel()).resolves.toBe(false)
    queue.start()
    await queue.idle()
    expect((await job.refresh()).status).toBe('cancelled')
  })

  it('cancel() of a running job aborts its signal and ends it cancelled quickly', async () => {
    const queue = makeQueue()
    const job = await queue.add('sleep', 10_000)
    await expect.poll(() => job.status).toBe('running')
    const t0 = performance.now()
    await expect(job.cancel()).resolves.toBe(true)
    expect(performance.now() - t0).toBeLessThan(500)
    expect(job.status).toBe('cancelled')
    await expect(job.result()).rejects.toBeInstanceOf(JobCancelledError)
  })

  it('a running job ends cancelled whatever its handler then returns', async () => {
    const queue = makeQueue()
    const job = await queue.add('finishAnyway', 10)
    await expect.poll(() => job.status).toBe('running')
    await job.cancel()
    expect(job.status).toBe('cancelled')
    expect((await job.refresh()).result).toBeUndefined()
  })

  it('a handler that ignores its signal gets its worker terminated after abortGrace, and a fresh worker runs the next job', async () => {
    const queue = makeQueue({ concurrency: 1, abortGrace: 200 })
    const stuck = await queue.add('spin', 60_000)
    await expect.poll(() => stuck.status).toBe('running')
    const t0 = performance.now()
    await stuck.cancel()
    const took = performance.now() - t0
    expect(stuck.status).toBe('cancelled')
    expect(took).toBeGreaterThanOrEqual(150)
    const next = await queue.add('double', 4)
    await expect(next.result()).resolves.toBe(8)
  })

  it('a timed-out handler that ignores its signal is terminated too: no job stays running', async () => {
    const queue = makeQueue({ concurrency: 1, abortGrace: 100 })
    const stuck = await queue.add('spin', 60_000, { timeout: 50 })
    await expect(stuck.result()).rejects.toMatchObject({ name: 'JobFailedError' })
    expect(stuck.status).toBe('failed')
    await expect(queue.add('double', 2).then((j) => j.result())).resolves.toBe(4)
  })

  it('result() and wait() take a timeout (TimeoutError) and a signal', async () => {
    const queue = makeQueue({ autostart: false })
    const job = await queue.add('double', 1)
    const timedOut = await job.result({ timeout: 30 }).catch((e: unknown) => e)
    expect(timedOut).toBeInstanceOf(DOMException)
    expect((timedOut as DOMException).name).toBe('TimeoutError')
    const controller = new AbortController()
    const waiting = job.wait({ signal: controller.signal })
    controller.abort(new Error('gave up'))
    await expect(waiting).rejects.toThrow('gave up')
    queue.start()
    await expect(job.wait()).resolves.toMatchObject({ status: 'completed', result: 2 })
  })

  it('a worker that dies mid-job (uncaught error, self.close()) fails only that attempt and is replaced', async () => {
    const queue = makeQueue({ concurrency: 1 })
    const errors: Error[] = []
    queue.on('error', (e) => errors.push(e))
    const crashed = await queue.add('crash', null)
    await expect(crashed.result()).rejects.toMatchObject({ cause: { name: 'WorkerError' } })
    const closed = await queue.add('selfClose', null, { retry: { attempts: 2, delay: 1 } })
    await expect(closed.result()).rejects.toMatchObject({ cause: { name: 'WorkerError', message: expect.stringContaining('self.close') } })
    expect(closed.attempt).toBe(2)
    const thrown = await queue.add('throwInOnmessage', null)
    await expect(thrown.result()).rejects.toMatchObject({ cause: { name: 'WorkerError', message: expect.stringContaining('thrown from onmessage') } })
    await expect(queue.add('double', 5).then((j) => j.result())).resolves.toBe(10)
  })

  it('a handler stuck in while(true) is cancelled and timed out by terminating its worker', async () => {
    const queue = makeQueue({ concurrency: 1, abortGrace: 100 })
    const stuck = await queue.add('hang', null)
    await expect.poll(() => stuck.status).toBe('running')
    await expect(stuck.cancel()).resolves.toBe(true)
    const timed = await queue.add('hang', null, { timeout: 50 })
    await expect(timed.result()).rejects.toMatchObject({ cause: { name: 'JobTimeoutError' } })
    await expect(queue.add('double', 6).then((j) => j.result())).resolves.toBe(12)
  })

  it('stallTimeout fails a job that sends no progress or heartbeat; heartbeats keep one alive', async () => {
    // Margins for a loaded machine: heartbeats every 20 ms against a 300 ms watchdog.
    const queue = makeQueue({ stallTimeout: 300, abortGrace: 50 })
    const alive = await queue.add('heartbeat', 700)
    const silent = await queue.add('silent', 1000)
    await expect(alive.result()).resolves.toBe('alive')
    await expect(silent.result()).rejects.toMatchObject({ cause: { message: expect.stringContaining('stalled') } })
  })

  it('a result that cannot be cloned fails the job with a JobDataError naming the path', async () => {
    const queue = makeQueue()
    const job = await queue.add('returnFunction', null)
    const error = (await job.result().catch((e: unknown) => e)) as JobFailedError
    expect(error.cause).toMatchObject({ name: 'JobDataError' })
    expect((error.cause as Error).message).toContain('result.fn')
  })
})

describe('bad input stores nothing', () => {
  it.each([
    ['a function', { f: () => 1 }, 'data.f (a function)'],
    ['a symbol', { nested: [1, Symbol('s')] }, 'data.nested[1] (a symbol)'],
    ['a DOM node', { el: document.createElement('div') }, 'data.el (a DOM node)'],
  ])('data holding %s rejects JobDataError naming the task and path', async (_kind, data, path) => {
    const queue = makeQueue({ autostart: false })
    const error = (await queue.add('echo', data).catch((e: unknown) => e)) as Error
    expect(error.name).toBe('JobDataError')
    expect(error.message).toContain('"echo"')
    expect(error.message).toContain(path)
    expect((error.cause as Error).name).toBe('DataCloneError')
    expect(await queue.list()).toEqual([])
  })

  it('addBulk with one bad item stores none of them', async () => {
    const queue = makeQueue({ autostart: false })
    const error = (await queue
      .addBulk([
        { name: 'echo', data: 1 },
        { name: 'echo', data: { f: () => 1 } },
      ])
      .catch((e: unknown) => e)) as Error
    expect(error.name).toBe('JobDataError')
    expect(error.message).toContain('jobs[1]')
    expect(await queue.counts()).toMatchObject({ waiting: 0 })
  })

  it('an unknown task name rejects UnknownTaskError at add (the worker module is known)', async () => {
    const queue = makeQueue()
    // @ts-expect-error: not a task of the module
    const error = (await queue.add('nope', 1).catch((e: unknown) => e)) as Error
    expect(error.name).toBe('UnknownTaskError')
    expect(error.message).toContain('"nope"')
    expect(error.message).toContain('double')
    expect(await queue.list()).toEqual([])
  })

  it('without a worker module to ask, an unknown task ends failed with UnknownTaskError when run', async () => {
    const adder = makeQueue({ worker: undefined })
    // @ts-expect-error: not a task of the module
    const job = await adder.add('nope', 1)
    const runner = makeQueue({ name: adder.name })
    const handle = await runner.getJob(job.id)
    await expect(handle?.result()).rejects.toMatchObject({ cause: { name: 'UnknownTaskError' } })
  })

  it.each([
    [{ timeout: -1 }, RangeError, 'timeout'],
    [{ timeout: 'soon' }, TypeError, 'timeout'],
    [{ priority: Number.NaN }, TypeError, 'priority'],
    [{ retry: { attempts: 0 } }, RangeError, 'retry.attempts'],
    [{ retry: { backoff: 'sometimes' } }, TypeError, 'retry.backoff'],
    [{ delay: -5 }, RangeError, 'delay'],
    [{ runAt: new Date('nope') }, TypeError, 'runAt'],
    [{ timout: 5 }, TypeError, 'timout'],
  ])('invalid job options %j throw %o naming the option, storing nothing', async (options, Kind, name) => {
    const queue = makeQueue({ autostart: false })
    const error = (await queue.add('echo', 1, options as never).catch((e: unknown) => e)) as Error
    expect(error).toBeInstanceOf(Kind)
    expect(error.message).toContain(`"${name}"`)
    expect(await queue.list()).toEqual([])
  })

  it('invalid queue options throw at createQueue, naming the option', () => {
    expect(() => makeQueue({ concurrency: 0 })).toThrow(/"concurrency".*received 0/)
    expect(() => makeQueue({ abortGrace: -1 })).toThrow(RangeError)
    expect(() => makeQueue({ worker: 'tasks.js' as never })).toThrow(/"worker"/)
  })

  it('a worker script that throws at top level: a queue error event, and the job stays waiting', async () => {
    const queue = makeQueue({
      worker: () => new Worker(new URL('./fixtures/broken.worker.ts', import.meta.url), { type: 'module' }),
    })
    const errors: Error[] = []
    queue.on('error', (e) => errors.push(e))
    const job = await queue.add('double', 1)
    await expect.poll(() => errors.length, { timeout: 5000 }).toBeGreaterThan(0)
    expect(errors[0]?.name).toBe('WorkerError')
    expect(errors[0]?.message).toContain('could not start')
    await delay(50)
    expect(job.status).toBe('waiting')
    expect((await job.refresh()).status).toBe('waiting')
  })

  it('a worker script that fails to load: a queue error event, and the job stays waiting', async () => {
    const queue = makeQueue({ worker: () => new Worker('/no-such-worker.js', { type: 'module' }) })
    const errors: Error[] = []
    queue.on('error', (e) => errors.push(e))
    const job = await queue.add('double', 1)
    await expect.poll(() => errors.length, { timeout: 5000 }).toBeGreaterThan(0)
    expect(job.status).toBe('waiting')
  })
})
