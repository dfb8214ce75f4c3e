import { describe, expect, it } from 'vitest'
import { JobCancelledError, JobTimeoutError, RetryError, TimeoutError, WorkerError } from '../../src/shared/errors.js'
import { runTask } from '../../src/testing.js'
import { defineTasks, type TaskContext, type Middleware } from '../../src/worker.js'
import { sleep } from '../helpers/sleep.js'

interface State {
  factor: number
}

const tasks = defineTasks(
  {
    async scale(n: number, ctx) {
      ctx.progress(50)
      return n * ctx.state.factor
    },
    whoAmI(_: null, ctx) {
      return ctx.name
    },
    named: {
      timeout: 20,
      async handler(ms: number, ctx) {
        await sleep(ms, ctx.signal)
        return `slept ${ms}`
      },
    },
  },
  { setup: (): State => ({ factor: 3 }) },
)

describe('runTask', () => {
  it('records durable steps, and replays stored ones without running them (a test can start from stored steps)', async () => {
    let runs = 0
    const handler = async (_: null, ctx: TaskContext): Promise<number[]> => {
      const a = await ctx.step('a', () => (runs++, 1))
      if (ctx.attempt === 1) throw new Error('fails after a')
      const b = await ctx.step('b', () => (runs++, 2))
      return [a, b]
    }
    const first = await runTask(handler, null)
    expect(first.status).toBe('failed')
    expect(first.steps).toEqual({ a: 1 })
    expect(first.ran).toEqual(['a'])
    const second = await runTask(handler, null, { attempt: 2, steps: first.steps })
    expect(second.result).toEqual([1, 2])
    expect(second.ran).toEqual(['b'])
    expect(second.steps).toEqual({ a: 1, b: 2 })
    expect(runs).toBe(2)
    // A step result that cannot be stored fails the step, as in a queue.
    const bad = await runTask(async (_: null, ctx: TaskContext) => ctx.step('f', () => ({ fn: () => 1 })), null)
    expect(bad.error?.name).toBe('JobDataError')
    await expect(runTask(handler, null, { steps: 'a' as never })).rejects.toThrow(TypeError)
  })

  it('runs in Node without DOM globals', async () => {
    expect(typeof window).toBe('undefined')
    expect(typeof document).toBe('undefined')
    const run = await runTask((n: number) => n + 1, 1)
    expect(run).toEqual({ status: 'completed', result: 2, progress: [], logs: [], heartbeats: 0, steps: {}, ran: [] })
  })

  it('records every progress value, log entry and heartbeat, in order and not coalesced', async () => {
    const run = await runTask(async (steps: number, ctx: TaskContext) => {
      for (let i = 1; i <= steps; i++) {
        ctx.progress(i * 10)
        ctx.log.info(`step ${i}`, { i })
        ctx.heartbeat()
      }
      ctx.log.warn('almost')
      ctx.progress({ phase: 'done' })
      ctx.log.error('no meta')
      return 'ok'
    }, 5)
    expect(run.status).toBe('completed')
    expect(run.result).toBe('ok')
    expect(run.progress).toEqual([10, 20, 30, 40, 50, { phase: 'done' }])
    expect(run.logs.map((entry) => [entry.level, entry.message, entry.meta])).toEqual([
      ['info', 'step 1', { i: 1 }],
      ['info', 'step 2', { i: 2 }],
      ['info', 'step 3', { i: 3 }],
      ['info', 'step 4', { i: 4 }],
      ['info', 'step 5', { i: 5 }],
      ['warn', 'almost', undefined],
      ['error', 'no meta', undefined],
    ])
    expect(run.logs[6]).not.toHaveProperty('meta')
    expect(run.logs.every((entry) => typeof entry.timestamp === 'number')).toBe(true)
    expect(run.heartbeats).toBe(5)
  })

  it('records each progress value as it was when reported', async () => {
    const run = await runTask((_: null, ctx: TaskContext) => {
      const state = { done: 1 }
      ctx.progress(state)
      state.done = 2
      ctx.progress(state)
    }, null)
    expect(run.progress).toEqual([{ done: 1 }, { done: 2 }])
  })

  it('gives ctx the job fields from the options, with defaults', async () => {
    const describeCtx = (_: null, ctx: TaskContext) => ({
      id: ctx.id,
      name: ctx.name,
      queue: ctx.queue,
      attempt: ctx.attempt,
      createdAt: ctx.createdAt,
      version: ctx.version,
    })
    const defaults = await runTask(describeCtx, null)
    expect(defaults.result).toMatchObject({ id: 'test-job', name: 'describeCtx', queue: 'default', attempt: 1, version: undefined })
    expect(Math.abs((defaults.result?.createdAt ?? 0) - Date.now())).toBeLessThan(1000)
    const given = await runTask(describeCtx, null, { id: 'j7', name: 'thumb', queue: 'media', attempt: 3, createdAt: 42, version: '1.2' })
    expect(given.result).toEqual({ id: 'j7', name: 'thumb', queue: 'media', attempt: 3, createdAt: 42, version: '1.2' })
    await expect(runTask(describeCtx, null, { version: '' })).rejects.toThrow(/"version"/)
  })

  it('records a thrown error: status failed, the error with its name and message', async () => {
    class CustomError extends Error {
      override name = 'CustomError'
    }
    const run = await runTask(() => {
      throw new CustomError('bad input', { cause: new RangeError('inner') })
    }, null)
    expect(run.status).toBe('failed')
    expect(run.result).toBeUndefined()
    expect(run.error).toBeInstanceOf(CustomError)
    expect(run.error).toMatchObject({ name: 'CustomError', message: 'bad input' })
    expect((run.error?.cause as Error).name).toBe('RangeError')
  })

  it('turns a thrown non-Error into an Error with a readable message', async () => {
    const run = await runTask(() => Promise.reject('plain string'), null)
    expect(run.status).toBe('failed')
    expect(run.error).toBeInstanceOf(Error)
    expect(run.error?.message).toBe('plain string')
  })

  it('reports ctx.retry() as status retry, with its delay and reason', async () => {
    const run = await runTask((_: null, ctx: TaskContext) => {
      throw ctx.retry({ delay: 250, reason: 'rate limited' })
    }, null)
    expect(run.status).toBe('retry')
    expect(run.retry).toEqual({ delay: 250, reason: 'rate limited' })
    expect(run.error).toBeInstanceOf(RetryError)
    const noDelay = await runTask((_: null, ctx: TaskContext) => Promise.reject(ctx.retry()), null)
    expect(noDelay.status).toBe('retry')
    expect(noDelay.retry).not.toHaveProperty('delay')
  })

  it('offline: says when a queue would put a job that needs the network back to wait for it', async () => {
    const tasks = defineTasks({
      upload: {
        network: true,
        handler(_: null): string {
          throw new TypeError('Failed to fetch')
        },
      },
      plain(_: null, ctx: TaskContext): string {
        throw ctx.retry({ reason: 'offline' })
      },
    })
    expect((await runTask(tasks.upload, null, { offline: true })).waitsForNetwork).toBe(true)
    expect(await runTask(tasks.upload, null)).not.toHaveProperty('waitsForNetwork')
    // A task without `network`: only with the job's own option.
    expect(await runTask(tasks.plain, null, { offline: true })).not.toHaveProperty('waitsForNetwork')
    const own = await runTask(tasks.plain, null, { offline: true, network: true })
    expect([own.status, own.waitsForNetwork]).toEqual(['retry', true])
    await expect(runTask(tasks.plain, null, { offline: 'yes' as unknown as boolean })).rejects.toThrow('Invalid option "offline": expected a boolean')
  })

  it('ctx.sleep: status sleeping with its time; a run from its stored steps goes past it once its time came', async () => {
    const napper = async (_: null, ctx: TaskContext): Promise<string[]> => {
      const a = await ctx.step('a', () => 'a')
      await ctx.sleep('nap', 60_000)
      return [a, await ctx.step('b', () => 'b')]
    }
    const before = Date.now()
    const first = await runTask(napper, null)
    expect(first.status).toBe('sleeping')
    expect(first.sleep?.step).toBe('nap')
    expect(first.sleep?.until).toBeGreaterThanOrEqual(before + 60_000)
    expect(first).not.toHaveProperty('error')
    expect(first.ran).toEqual(['a', 'nap'])
    // Its time has not come: it sleeps again, its step not run again.
    const early = await runTask(napper, null, { steps: first.steps })
    expect([early.status, early.ran]).toEqual(['sleeping', []])
    const later = await runTask(napper, null, { steps: { ...first.steps, nap: { until: 0 } } })
    expect([later.status, later.result, later.ran]).toEqual(['completed', ['a', 'b'], ['b']])
    for (const [id, ms, message] of [
      ['', 5, 'expected a non-empty string id'],
      ['x', -1, 'expected a finite number of ms ≥ 0'],
      ['x', Infinity, 'expected a finite number of ms ≥ 0'],
    ] as const) {
      const bad = await runTask(async (_: null, ctx: TaskContext) => ctx.sleep(id, ms), null)
      expect([bad.status, bad.error?.message]).toEqual(['failed', expect.stringContaining(message)])
    }
  })

  it('ctx.waitFor: status waiting for its signal; a run given the signal goes on with its payload; a timeout is a TimeoutError', async () => {
    const approval = async (input: { timeout?: number }, ctx: TaskContext): Promise<unknown> => {
      const a = await ctx.step('a', () => 'a')
      try {
        return [a, await ctx.waitFor('approved', input.timeout === undefined ? undefined : { timeout: input.timeout })]
      } catch (error) {
        if (error instanceof TimeoutError) return [a, 'timed out']
        throw error
      }
    }
    const first = await runTask(approval, {})
    expect([first.status, first.waitFor, first.ran]).toEqual(['waiting', { signal: 'approved' }, ['a', 'offthread:wait:approved']])
    expect(first).not.toHaveProperty('error')
    // Given the signal: the wait returns its payload, the step before it not run again.
    const signalled = await runTask(approval, {}, { steps: first.steps, signals: { approved: { by: 'ann' } } })
    expect([signalled.status, signalled.result, signalled.ran]).toEqual(['completed', ['a', { by: 'ann' }], []])
    // A signal given before the first run: the wait returns it at once.
    expect((await runTask(approval, {}, { signals: { approved: 1 } })).result).toEqual(['a', 1])
    // With a timeout: waiting until then; past it, a TimeoutError the handler catches (and again on a later run).
    const before = Date.now()
    const timed = await runTask(approval, { timeout: 60_000 })
    expect(timed.status).toBe('waiting')
    expect(timed.waitFor?.until).toBeGreaterThanOrEqual(before + 60_000)
    const past = await runTask(approval, { timeout: 60_000 }, { steps: { ...timed.steps, 'offthread:wait:approved': { until: 0 } } })
    expect([past.status, past.result]).toEqual(['completed', ['a', 'timed out']])
    const again = await runTask(approval, { timeout: 60_000 }, { steps: past.steps, signals: { approved: 'too late' } })
    expect(again.result).toEqual(['a', 'timed out'])
    for (const [name, options, message] of [
      ['', undefined, 'expected a signal name'],
      ['x', { timeout: -1 }, 'expected a finite number of ms ≥ 0'],
      ['x', { timeout: Infinity }, 'expected a finite number of ms ≥ 0'],
    ] as const) {
      const bad = await runTask(async (_: null, ctx: TaskContext) => ctx.waitFor(name, options), null)
      expect([bad.status, bad.error?.message]).toEqual(['failed', expect.stringContaining(message)])
    }
    // offthread's own step ids are refused to ctx.step and ctx.sleep.
    const reserved = await runTask(async (_: null, ctx: TaskContext) => ctx.step('offthread:signal:x', () => 1), null)
    expect(reserved.error?.message).toMatch(/are offthread's own/)
    await expect(runTask(approval, {}, { signals: [] as unknown as Record<string, unknown> })).rejects.toThrow('Invalid option "signals"')
  })

  it('lets attempt-dependent code be tested through the attempt option', async () => {
    const flaky = (_: null, ctx: TaskContext): string => {
      if (ctx.attempt < 2) throw ctx.retry({ delay: 10 })
      return `ok on ${ctx.attempt}`
    }
    expect((await runTask(flaky, null)).status).toBe('retry')
    expect(await runTask(flaky, null, { attempt: 2 })).toMatchObject({ status: 'completed', result: 'ok on 2' })
  })

  it('aborts ctx.signal with a JobCancelledError after abortAfter ms', async () => {
    let reason: unknown
    const run = await runTask(
      async (_: null, ctx: TaskContext) => {
        ctx.signal.addEventListener('abort', () => (reason = ctx.signal.reason))
        await sleep(5_000, ctx.signal)
        return 'never'
      },
      null,
      { abortAfter: 10 },
    )
    expect(reason).toBeInstanceOf(JobCancelledError)
    expect(run.status).toBe('failed')
    expect(run.error).toBeInstanceOf(JobCancelledError)
    expect(run.abortReason).toBe(reason)
  })

  it('aborts ctx.signal with a JobCancelledError when the given signal aborts', async () => {
    const controller = new AbortController()
    const pending = runTask((_: null, ctx: TaskContext) => sleep(5_000, ctx.signal), null, { signal: controller.signal })
    controller.abort('user clicked stop')
    const run = await pending
    expect(run.status).toBe('failed')
    expect(run.error).toBeInstanceOf(JobCancelledError)
    expect(run.error?.cause).toBe('user clicked stop')
  })

  it('starts with an aborted ctx.signal when the given signal already aborted', async () => {
    const run = await runTask((_: null, ctx: TaskContext) => ctx.signal.aborted, null, { signal: AbortSignal.abort() })
    expect(run).toMatchObject({ status: 'completed', result: true })
    expect(run.abortReason).toBeInstanceOf(JobCancelledError)
  })

  it('aborts ctx.signal with a JobTimeoutError after timeout ms', async () => {
    const run = await runTask((_: null, ctx: TaskContext) => sleep(5_000, ctx.signal), null, { timeout: 10 })
    expect(run.status).toBe('failed')
    expect(run.error).toBeInstanceOf(JobTimeoutError)
    expect(run.error?.message).toBe('The job timed out after 10 ms')
  })

  it('applies a long-form task its own timeout unless the options set one', async () => {
    const timedOut = await runTask(tasks.named, 1_000)
    expect(timedOut.error).toBeInstanceOf(JobTimeoutError)
    const longer = await runTask(tasks.named, 30, { timeout: 1_000 })
    expect(longer).toMatchObject({ status: 'completed', result: 'slept 30' })
  })

  it('gives up on a handler that ignores its aborted signal after abortGrace', async () => {
    const run = await runTask(() => new Promise(() => {}), null, { abortAfter: 5, abortGrace: 20 })
    expect(run.status).toBe('failed')
    expect(run.error).toBeInstanceOf(WorkerError)
    expect(run.error?.message).toBe('The handler ignored its aborted signal for 20 ms')
    expect(run.error?.cause).toBeInstanceOf(JobCancelledError)
  })

  it('records what a handler returns after ignoring the abort, with the abort reason', async () => {
    const run = await runTask(() => sleep(30).then(() => 'finished anyway'), null, { abortAfter: 5 })
    expect(run).toMatchObject({ status: 'completed', result: 'finished anyway' })
    expect(run.abortReason).toBeInstanceOf(JobCancelledError)
  })

  it('puts the state option, or what setup returns, in ctx.state', async () => {
    const read = (_: null, ctx: TaskContext<State>) => ctx.state.factor
    expect((await runTask(read, null, { state: { factor: 2 } })).result).toBe(2)
    expect((await runTask(read, null, { setup: async () => ({ factor: 5 }) })).result).toBe(5)
  })

  it('ends failed with the error of a setup that throws, without running the handler', async () => {
    let ran = false
    const run = await runTask(
      () => {
        ran = true
      },
      null,
      {
        setup: () => {
          throw new Error('no wasm')
        },
      },
    )
    expect(run).toMatchObject({ status: 'failed', error: { message: 'no wasm' } })
    expect(ran).toBe(false)
  })

  it('runs a task taken from a defineTasks map, named after its key', async () => {
    const run = await runTask(tasks.scale, 7, { setup: () => ({ factor: 3 }) })
    expect(run).toMatchObject({ status: 'completed', result: 21, progress: [50] })
    expect((await runTask(tasks.whoAmI, null, { state: { factor: 1 } })).result).toBe('whoAmI')
    const anonymous = await runTask((_: null, ctx: TaskContext) => ctx.name, null)
    expect(anonymous.result).toBe('task')
  })

  it('runs a long-form definition', async () => {
    const definition = {
      retry: { attempts: 2 },
      handler: (s: string, ctx: TaskContext) => {
        ctx.log.info('upper')
        return s.toUpperCase()
      },
    }
    const run = await runTask(definition, 'abc', { name: 'upper' })
    expect(run).toMatchObject({ status: 'completed', result: 'ABC', logs: [{ level: 'info', message: 'upper' }] })
  })

  it('applies middleware around the handler, with the setup state', async () => {
    const seen: unknown[] = []
    const doubleInput: Middleware<State> = (ctx, next) => {
      seen.push(ctx.state.factor)
      return next((ctx.input as number) * 2)
    }
    const wrap: Middleware = async (ctx, next) => {
      try {
        return { value: await next() }
      } catch (error) {
        ctx.log.error('failed', { message: (error as Error).message })
        throw error
      }
    }
    const run = await runTask(tasks.scale, 5, { state: { factor: 3 }, middleware: [wrap, doubleInput] })
    expect(run).toMatchObject({ status: 'completed', result: { value: 30 } })
    expect(seen).toEqual([3])

    const failed = await runTask(
      () => {
        throw new Error('boom')
      },
      null,
      { middleware: [wrap] },
    )
    expect(failed.status).toBe('failed')
    expect(failed.logs).toMatchObject([{ level: 'error', message: 'failed', meta: { message: 'boom' } }])
  })

  it('records the transferables handed back with ctx.transfer', async () => {
    const run = await runTask((size: number, ctx: TaskContext) => {
      const buffer = new ArrayBuffer(size)
      return ctx.transfer({ buffer }, [buffer])
    }, 8)
    expect(run.transferred).toHaveLength(1)
    expect(run.transferred?.[0]).toBe(run.result?.buffer)
  })

  it('rejects invalid tasks and options at once', async () => {
    await expect(runTask(42 as never, null as never)).rejects.toThrow(/"task"/)
    await expect(runTask((x: null) => x, null, { timeout: -1 })).rejects.toThrow(RangeError)
    await expect(runTask((x: null) => x, null, { abortAfter: '5' as never })).rejects.toThrow(/"abortAfter"/)
    await expect(runTask((x: null) => x, null, { middleware: [null as never] })).rejects.toThrow(/"middleware\[0\]"/)
    await expect(runTask((x: null) => x, null, { timout: 5 } as never)).rejects.toThrow(/Unknown option "timout"/)
    await expect(runTask((x: null) => x, null, { state: 1, setup: () => 1 })).rejects.toThrow(/either "state" or "setup"/)
    await expect(runTask({ handler: (x: null) => x, timeout: 0 }, null)).rejects.toThrow(RangeError)
  })
})
