/**
 * Handlers that return or throw what the queue cannot handle naively: a result
 * the worker can post but IndexedDB cannot store, thrown values whose `name`
 * or `message` blow up when read, logs whose meta cannot be cloned, floods of
 * log lines. The job concerned settles (never left `running`), the others are
 * untouched, and the same worker keeps running later jobs.
 */
import { describe, expect, it } from 'vitest'
import { JobDataError, JobFailedError, type JobHandle } from '../../src/index.js'
import { makeQueue } from '../browser/fixtures/queue.js'
import { watchMainThread } from '../browser/fixtures/main-thread.js'
import { delay, makeAdvQueue, within } from './fixtures/queue.js'

describe('adversarial handlers', () => {
  it('a handler returning a WebAssembly.Module: that job fails with JobDataError; 100 others of the same bulk complete', async () => {
    const queue = makeAdvQueue({ concurrency: 2 })
    const errors: Error[] = []
    queue.on('error', (e) => errors.push(e))
    const jobs = Array.from({ length: 101 }, (_, i) =>
      i === 50 ? ({ name: 'returnWasm', data: null } as const) : ({ name: 'echo', data: i } as const),
    )
    const handles = (await queue.addBulk(jobs as never)) as JobHandle[]
    const finals = await within(3000, 'every job of the bulk to end', Promise.all(handles.map((h) => h.wait())))
    const wasm = finals[50]
    const others = finals.filter((_, i) => i !== 50)
    expect(others.filter((s) => s.status !== 'completed').map((s) => `${s.id}: ${s.status} ${s.error?.message ?? ''}`)).toEqual([])
    expect(others.map((s) => s.result)).toEqual(Array.from({ length: 101 }, (_, i) => i).filter((i) => i !== 50))
    expect(wasm?.status).toBe('failed')
    expect(wasm?.error?.name).toBe('JobDataError')
    const counts = await queue.counts()
    expect(counts).toMatchObject({ running: 0, waiting: 0, completed: 100, failed: 1 })
    // The queue may report the trouble, but not in a loop of failed commits.
    expect(errors.length, errors.map(String).slice(0, 3).join('\n')).toBeLessThanOrEqual(2)
  })

  it('a handler returning a nested WebAssembly.Module: result() rejects JobFailedError caused by a JobDataError naming the path', async () => {
    const queue = makeAdvQueue({ concurrency: 1 })
    queue.on('error', () => undefined)
    const bad = await queue.add('returnNestedWasm', null)
    const after = await queue.add('echo', 'after')
    const error = await within(
      2000,
      'the wasm job',
      bad.result().then(
        () => undefined,
        (e: unknown) => e,
      ),
    )
    expect(error).toBeInstanceOf(JobFailedError)
    expect((error as JobFailedError).cause).toBeInstanceOf(JobDataError)
    expect(((error as JobFailedError).cause as Error).message).toMatch(/result\.module/)
    await expect(within(3000, 'the job after it', after.result())).resolves.toBe('after')
    expect((await queue.counts()).running).toBe(0)
  })

  for (const task of ['throwRevokedProxy', 'throwNameGetter', 'throwMessageGetter', 'throwObjectNameGetter'] as const) {
    it(`a handler that throws a hostile value (${task}): the job fails, the same worker runs the next job`, async () => {
      const queue = makeAdvQueue({ concurrency: 1 })
      const bad = await queue.add(task, null)
      const next = await queue.add('echo', 'still alive')
      const outcome = await within(1500, `the ${task} job to settle`, bad.wait())
      expect(outcome.status).toBe('failed')
      expect(outcome.error?.message.length).toBeGreaterThan(0)
      await expect(within(2000, 'the job after it (same worker)', next.result())).resolves.toBe('still alive')
      expect((await queue.counts()).running).toBe(0)
    })
  }

  it('log lines with an uncloneable meta in between: the good lines are kept', async () => {
    const queue = makeAdvQueue()
    const job = await queue.add('logBadMeta', null)
    await expect(within(4000, 'the logging job', job.result())).resolves.toBe('logged')
    const messages = (await job.logs()).map((e) => e.message)
    expect(messages).toEqual(expect.arrayContaining(['good 1', 'good 2', 'good 3', 'good 4']))
    const byMessage = new Map((await job.logs()).map((e) => [e.message, e]))
    expect(byMessage.get('good 2')?.meta).toEqual({ n: 2 })
    expect(byMessage.get('good 4')?.meta).toEqual({ nested: { ok: true } })
  })

  it('a progress value that cannot be cloned does not hide the later good one', async () => {
    const queue = makeAdvQueue()
    const job = await queue.add('badProgress', null)
    await expect(within(4000, 'the job', job.result())).resolves.toBe('progressed')
    expect((await job.refresh()).progress).toBe(100)
  })

  it('a retry after a job added with transfer: the second attempt gets the original bytes', async () => {
    const queue = makeAdvQueue()
    const buf = new ArrayBuffer(1024)
    new Uint8Array(buf).fill(7)
    const job = await queue.add('failThenEchoBytes', { buf }, { transfer: [buf], retry: { attempts: 2, delay: 10 } })
    const outcome = await within(5000, 'the transferred job', job.wait())
    expect(outcome.status, `${outcome.error?.name}: ${outcome.error?.message}`).toBe('completed')
    // The first attempt's failure stays as the job's last error; the second attempt had the bytes.
    expect(outcome.error?.message).toBe('first attempt fails on purpose')
    expect(outcome.result).toBe(1024)
    expect(job.attempt).toBe(2)
  })

  it('a handler logging 100,000 lines: every line is stored, and the queue causes no main-thread long task on the way', async () => {
    const queue = makeAdvQueue({ concurrency: 1 })
    await queue.counts()
    await (await queue.add('echo', 'warm up')).result()
    // 50 ms is the contract; a shared test machine adds its own hiccups, hence the margins.
    const watch = watchMainThread({ longTask: 100, timerGap: 250 })
    let long: number[] = []
    const job = await queue.add('logMany', 100_000)
    try {
      await expect(within(15_000, 'the 100k-line job', job.result())).resolves.toBe(100_000)
      await delay(300)
    } finally {
      long = watch.stop()
    }
    // Reading them all back is the caller's own (one getAll of 100,000 records), so it comes after.
    expect((await job.logs()).length).toBe(100_000)
    expect(long, `main thread blocked (${watch.how}): ${long.join(', ')} ms`).toEqual([])
  }, 30_000)

  it('an unknown task name is refused at add with UnknownTaskError listing the known tasks; nothing stored', async () => {
    const queue = makeQueue()
    await (await queue.add('echo', 1)).result()
    const before = await queue.counts()
    const error = await queue.add('no-such-task' as never, null as never).then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    expect(error?.name).toBe('UnknownTaskError')
    expect(error?.message).toContain('no-such-task')
    expect(error?.message).toContain('echo')
    expect(await queue.counts()).toEqual(before)
  })

  it('cancel() of jobs already completed, failed or cancelled returns false and changes nothing', async () => {
    const queue = makeQueue()
    const done = await queue.add('echo', 'x')
    const failed = await queue.add('fail', 'boom')
    const waiting = await queue.add('sleep', 5000, { delay: 60_000 })
    await done.wait()
    await failed.wait()
    expect(await waiting.cancel()).toBe(true)
    for (const handle of [done, failed, waiting]) {
      const before = await handle.refresh()
      expect(await handle.cancel('again')).toBe(false)
      const after = await handle.refresh()
      expect(after.status).toBe(before.status)
      expect(after.finishedAt).toBe(before.finishedAt)
    }
    expect(await done.result()).toBe('x')
    expect((await queue.counts()).cancelled).toBe(1)
  })
})
