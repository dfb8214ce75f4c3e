// @ts-nocheck: plain JS that Node, Deno, Bun and Chromium run as is (the repo typechecks JS strictly).
// The conformance suite, written once: the same cases run on Node (nodeWorker),
// Deno, Bun and Chromium. Each runner supplies the library it tests (`lib`,
// for the error classes), a `makeQueue(options)` factory (memoryStore or any
// store, a worker factory for ./tasks.worker.js, plus `options`), and an
// assertion helper with ok/equal/deepEqual/instanceOf (./assert.js has one).
import { sleep as delay } from '../helpers/sleep.js'

const CASE_TIMEOUT = 15_000

async function waitFor(check, what, timeout = 5000) {
  const end = Date.now() + timeout
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await delay(5)
  }
}

async function settle(promise) {
  try {
    return { value: await promise }
  } catch (error) {
    return { error }
  }
}

/**
 * @param {{ lib: Record<string, any>, makeQueue: (options?: object) => any, assert: Record<string, Function> }} env
 * @returns {Array<{ name: string, run: () => Promise<void> }>}
 */
export function conformanceCases({ lib, makeQueue, assert }) {
  const { JobFailedError, JobCancelledError, JobTimeoutError } = lib

  /** Runs `body` with a fresh queue and closes it after, whatever happens. */
  const withQueue = (options, body) => async () => {
    const queue = makeQueue({ concurrency: 2, ...options })
    let timer
    try {
      await Promise.race([
        body(queue),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`case timed out after ${CASE_TIMEOUT} ms`)), CASE_TIMEOUT)
        }),
      ])
    } finally {
      clearTimeout(timer)
      await queue.close({ timeout: 0 }).catch(() => undefined)
    }
  }

  const cases = []
  const test = (name, options, body) => cases.push({ name, run: withQueue(options, body) })

  test('add() and result(): a job runs in a worker and returns its value', {}, async (queue) => {
    const job = await queue.add('double', 21)
    assert.equal(await job.result(), 42, 'double(21)')
    assert.equal(job.status, 'completed')
    const echo = await queue.add('echo', { nested: [1, 'two', { three: true }] })
    assert.deepEqual(await echo.result(), { nested: [1, 'two', { three: true }] }, 'echo')
  })

  test(
    'a batch task: one call of its handler for the jobs due together, each job its own result; one failed alone retries alone',
    {},
    async (queue) => {
      const handles = await queue.addBulk([1, 2, 3, 4].map((n) => ({ name: 'batched', data: { n, fail: n === 3 } })))
      const results = await Promise.all(handles.map((handle) => handle.result()))
      assert.deepEqual(
        results.map((r) => r.doubled),
        [2, 4, 6, 8],
        'each job its own result',
      )
      const [a, b, c, d] = results
      assert.ok(a.call === b.call && b.call === d.call, 'the three that completed first share one call')
      assert.deepEqual([a.size, a.attempt, b.attempt, d.attempt], [4, 1, 1, 1], 'a call of the four, their first attempt')
      assert.ok(c.call !== a.call, 'the one that failed ran again in a call of its own')
      assert.deepEqual([c.size, c.attempt, handles[2].attempt], [1, 2, 2], 'alone, on its second attempt')
      assert.deepEqual(
        (await handles[2].errors()).map((e) => e.message),
        ['item 3 failed'],
        'its error recorded',
      )
      assert.deepEqual(
        (await handles[0].errors()).map((e) => e.message),
        [],
        'no error for the others',
      )
    },
  )

  test('progress events reach the job handle and the queue', {}, async (queue) => {
    const seen = []
    const onQueue = []
    queue.on('progress', (_job, value) => onQueue.push(value))
    const job = await queue.add('report', 4)
    job.on('progress', (value) => seen.push(value))
    assert.equal(await job.result(), 'reported')
    assert.ok(seen.length >= 1, 'at least one progress event on the handle')
    assert.ok(onQueue.length >= 1, 'at least one progress event on the queue')
    assert.equal(onQueue[onQueue.length - 1], 100, 'last progress on the queue')
    assert.equal(job.progress, 100, 'handle.progress')
    for (let i = 1; i < onQueue.length; i++) assert.ok(onQueue[i] >= onQueue[i - 1], 'progress only grows')
  })

  test('logs are stored in order with level, message and meta', {}, async (queue) => {
    const live = []
    queue.on('log', (_job, entry) => live.push(entry.message))
    const job = await queue.add('report', 3)
    await job.result()
    const logs = await job.logs()
    assert.deepEqual(
      logs.map((entry) => [entry.level, entry.message]),
      [
        ['info', 'step 1'],
        ['info', 'step 2'],
        ['info', 'step 3'],
        ['warn', 'almost done'],
      ],
      'logs',
    )
    assert.deepEqual(logs[0].meta, { i: 1 }, 'meta')
    assert.equal(typeof logs[0].timestamp, 'number', 'timestamp')
    assert.deepEqual(live, ['step 1', 'step 2', 'step 3', 'almost done'], 'live log events')
  })

  test('retries: attempts with a fixed backoff, one error recorded per failed attempt', {}, async (queue) => {
    const retrying = []
    queue.on('retrying', (_job, info) => retrying.push([info.attempt, info.delay]))
    const job = await queue.add('flaky', 2, { retry: { attempts: 3, backoff: 'fixed', delay: 20, jitter: false } })
    assert.equal(await job.result(), 'ok on attempt 3')
    assert.equal(job.attempt, 3, 'attempt')
    assert.deepEqual(
      retrying,
      [
        [2, 20],
        [3, 20],
      ],
      'retrying events',
    )
    const errors = await job.errors()
    assert.deepEqual(
      errors.map((e) => [e.attempt, e.message]),
      [
        [1, 'flaky failure 1'],
        [2, 'flaky failure 2'],
      ],
      'errors',
    )
  })

  test('retries: exponential backoff waits delay × 2^(attempt−1); attempts used up fail the job', {}, async (queue) => {
    const delays = []
    queue.on('retrying', (_job, info) => delays.push(info.delay))
    const job = await queue.add('flaky', 2, { retry: { attempts: 3, backoff: 'exponential', delay: 40, jitter: false } })
    await job.result()
    assert.deepEqual(delays, [40, 80], 'delays')
    const errors = await job.errors()
    const finished = await job.wait()
    assert.ok(finished.startedAt - errors[1].failedAt >= 80 - 5, 'third attempt waited its backoff')
    const spent = await queue.add('flaky', 5, { retry: { attempts: 2, delay: 1 } })
    const { error } = await settle(spent.result())
    assert.instanceOf(error, JobFailedError, 'attempts used up')
    assert.equal(spent.attempt, 2, 'attempt')
    assert.equal((await spent.errors()).length, 2, 'errors recorded')
  })

  test('timeout: an attempt longer than its timeout fails with JobTimeoutError', {}, async (queue) => {
    const t0 = Date.now()
    const job = await queue.add('sleep', 5000, { timeout: 50 })
    const { error } = await settle(job.result())
    assert.instanceOf(error, JobFailedError)
    assert.instanceOf(error.cause, JobTimeoutError, 'cause')
    assert.ok(error.cause.message.includes('50 ms'), `message names the timeout: ${error.cause.message}`)
    assert.ok(Date.now() - t0 < 2000, 'failed quickly')
    assert.equal(job.status, 'failed')
  })

  test('cancel() of a waiting job ends it cancelled at once', { autostart: false }, async (queue) => {
    const job = await queue.add('double', 1)
    assert.equal(await job.cancel('not needed'), true, 'cancel()')
    assert.equal(job.status, 'cancelled')
    const { error } = await settle(job.result())
    assert.instanceOf(error, JobCancelledError)
    assert.equal(error.message, 'not needed')
    assert.equal(await job.cancel(), false, 'second cancel()')
    queue.start()
    await queue.idle()
    assert.equal((await job.refresh()).status, 'cancelled')
  })

  test('cancel() of a running job aborts its signal and ends it cancelled quickly', {}, async (queue) => {
    const job = await queue.add('sleep', 10_000)
    await waitFor(() => job.status === 'running', 'the job to run')
    const t0 = Date.now()
    assert.equal(await job.cancel('stop'), true, 'cancel()')
    const { error } = await settle(job.result())
    assert.instanceOf(error, JobCancelledError)
    assert.ok(Date.now() - t0 < 1000, 'cancelled quickly')
    assert.equal(job.status, 'cancelled')
  })

  test(
    'cancel() of a handler that ignores its signal terminates its worker after abortGrace; the next job runs',
    { concurrency: 1, abortGrace: 100 },
    async (queue) => {
      const job = await queue.add('spin', 8000)
      await waitFor(() => job.status === 'running', 'the job to run')
      const t0 = Date.now()
      assert.equal(await job.cancel(), true, 'cancel()')
      const { error } = await settle(job.result())
      assert.instanceOf(error, JobCancelledError)
      const next = await queue.add('double', 6)
      assert.equal(await next.result(), 12, 'next job')
      assert.ok(Date.now() - t0 < 4000, `worker replaced well before the spin ended (${Date.now() - t0} ms)`)
    },
  )

  test(
    'ctx.yield() lets a cancel into a loop that only awaits microtasks: the handler stops itself, its worker lives on',
    // abortGrace far beyond the case's timeout: only the handler itself can end this job in time.
    { concurrency: 1, abortGrace: 60_000 },
    async (queue) => {
      const before = await (await queue.add('whoami', null)).result()
      const job = await queue.add('microtaskLoop', null)
      await waitFor(() => job.progress === 1, 'the loop to run')
      assert.equal(await job.cancel('stop'), true, 'cancel()')
      const { error } = await settle(job.result())
      assert.instanceOf(error, JobCancelledError)
      assert.equal(await (await queue.add('whoami', null)).result(), before, 'the same worker runs the next job')
    },
  )

  test('ctx.step: a retry returns the stored results of completed steps without running them again', { concurrency: 1 }, async (queue) => {
    const job = await queue.add('stepped', null, { retry: { attempts: 2, delay: 0 } })
    const { out, runs } = await job.result()
    assert.deepEqual(out, ['a1', 'b1', 'c2'], 'a and b from attempt 1, c from attempt 2')
    assert.deepEqual(runs, [1, 1, 1], 'each step ran once')
  })

  test('errors are rebuilt on the main thread with name, message, own fields and cause', {}, async (queue) => {
    const job = await queue.add('fail', 'it broke')
    const { error } = await settle(job.result())
    assert.instanceOf(error, JobFailedError)
    assert.equal(error.code, 'ERR_JOB_FAILED')
    assert.ok(error.message.includes('it broke'), 'message')
    assert.equal(error.cause.name, 'CustomError')
    assert.equal(error.cause.message, 'it broke')
    assert.equal(error.cause.code, 'E_CUSTOM')
    assert.equal(error.cause.cause.name, 'RangeError')
    assert.equal(error.cause.cause.message, 'inner cause')
    assert.equal(job.error.name, 'CustomError')
    const errors = await job.errors()
    assert.equal(errors.length, 1)
    assert.equal(errors[0].name, 'CustomError')
  })

  test('priorities: with concurrency 1, higher priority first, then insertion order', { concurrency: 1, autostart: false }, async (queue) => {
    const order = []
    queue.on('completed', (_job, result) => order.push(result))
    await queue.add('echo', 'low-1', { priority: 0 })
    await queue.add('echo', 'high-1', { priority: 10 })
    await queue.add('echo', 'low-2', { priority: 0 })
    await queue.add('echo', 'high-2', { priority: 10 })
    await queue.add('echo', 'mid', { priority: 5 })
    queue.start()
    await queue.idle()
    assert.deepEqual(order, ['high-1', 'high-2', 'mid', 'low-1', 'low-2'])
  })

  test('a worker that exits mid-job fails the attempt with WorkerError; a new worker runs the next job', {}, async (queue) => {
    const job = await queue.add('exit', null, { retry: { attempts: 2, delay: 1 } })
    const { error } = await settle(job.result())
    assert.instanceOf(error, JobFailedError)
    assert.equal(error.cause.name, 'WorkerError', `cause: ${error.cause?.message}`)
    assert.equal(job.attempt, 2, 'retried once')
    const next = await queue.add('double', 5)
    assert.equal(await next.result(), 10)
  })

  return cases
}
