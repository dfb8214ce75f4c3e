import { describe, expect, it } from 'vitest'
import { defineTasks, type Middleware } from '../../src/worker.js'
import { composeMiddleware, validateMiddleware } from '../../src/worker/middleware.js'
import { createContext, type ReportSink } from '../../src/worker/context.js'
import type { TaskContext, LogEntry } from '../../src/shared/types.js'

function makeCtx<S>(state: S): { ctx: TaskContext<S>; logs: LogEntry[] } {
  const logs: LogEntry[] = []
  const sink: ReportSink = { progress: () => undefined, log: (entry) => logs.push(entry), heartbeat: () => undefined, step: async () => undefined }
  const job = { id: 'j1', name: 'task', queue: 'q', attempt: 1, createdAt: 0 }
  return { ctx: createContext(job, new AbortController().signal, state, sink), logs }
}

const run = <S>(middleware: Array<Middleware<S>>, handler: (input: any, ctx: TaskContext<S>) => unknown, input: unknown, state?: S) => {
  const { ctx, logs } = makeCtx(state as S)
  return { out: Promise.resolve(composeMiddleware(middleware, handler)(input, ctx)), logs }
}

describe('composeMiddleware', () => {
  it('returns the handler itself when there is no middleware', () => {
    const handler = (n: number): number => n
    expect(composeMiddleware([], handler)).toBe(handler)
  })

  it('runs the first listed middleware outermost, like an onion', async () => {
    const order: string[] = []
    const layer =
      (label: string): Middleware =>
      async (_ctx, next) => {
        order.push(`${label} in`)
        const out = await next()
        order.push(`${label} out`)
        return out
      }
    const { out } = run([layer('a'), layer('b'), layer('c')], () => order.push('handler'), null)
    await out
    expect(order).toEqual(['a in', 'b in', 'c in', 'handler', 'c out', 'b out', 'a out'])
  })

  it('lets a middleware replace the input with next(input), and shows each layer its input on ctx.input', async () => {
    const seen: unknown[] = []
    const { out } = run(
      [
        (ctx, next) => {
          seen.push(ctx.input)
          return next((ctx.input as number) + 1)
        },
        (ctx, next) => {
          seen.push(ctx.input)
          return next((ctx.input as number) * 10)
        },
        (ctx, next) => {
          seen.push(ctx.input)
          return next()
        },
      ],
      (n: number) => n,
      1,
    )
    expect(await out).toBe(20)
    expect(seen).toEqual([1, 2, 20])
  })

  it('passes an explicit next(undefined) on as the new input', async () => {
    const { out } = run([(_ctx, next) => next(undefined)], (input: unknown) => ({ input }), 'data')
    expect(await out).toEqual({ input: undefined })
  })

  it('lets a middleware replace the result', async () => {
    const { out } = run([async (_ctx, next) => ({ wrapped: await next() })], (n: number) => n * 2, 21)
    expect(await out).toEqual({ wrapped: 42 })
  })

  it('lets a middleware see the handler error and rethrow it', async () => {
    const { out, logs } = run(
      [
        async (ctx, next) => {
          try {
            return await next()
          } catch (error) {
            ctx.log.error('task failed', { message: (error as Error).message })
            throw error
          }
        },
      ],
      () => {
        throw new RangeError('boom')
      },
      null,
    )
    await expect(out).rejects.toThrow(RangeError)
    expect(logs).toMatchObject([{ level: 'error', message: 'task failed', meta: { message: 'boom' } }])
  })

  it('lets a middleware turn an error into a result', async () => {
    const { out } = run([(_ctx, next) => next().catch(() => 'fallback')], () => Promise.reject(new Error('boom')), null)
    expect(await out).toBe('fallback')
  })

  it('short-circuits when a middleware returns without calling next', async () => {
    let handlerRan = false
    let innerRan = false
    const { out } = run(
      [
        (ctx) => `cached:${String(ctx.input)}`,
        (_ctx, next) => {
          innerRan = true
          return next()
        },
      ],
      () => {
        handlerRan = true
      },
      'key',
    )
    expect(await out).toBe('cached:key')
    expect(handlerRan).toBe(false)
    expect(innerRan).toBe(false)
  })

  it('rejects a second next() call in the same middleware with a clear error', async () => {
    let calls = 0
    const { out } = run(
      [
        (_ctx, next) => next(),
        async (_ctx, next) => {
          await next()
          return next()
        },
      ],
      () => ++calls,
      null,
    )
    await expect(out).rejects.toThrow('middleware[1] called next() more than once')
    expect(calls).toBe(1)
  })

  it('turns a synchronous throw in a middleware into a rejection', async () => {
    const { out } = run(
      [
        () => {
          throw new Error('sync')
        },
      ],
      () => 1,
      null,
    )
    await expect(out).rejects.toThrow('sync')
  })

  it('gives middleware the job context, with setup state, read-only', async () => {
    const { out } = run<{ n: number }>(
      [
        (ctx, next) => {
          expect(Object.isFrozen(ctx)).toBe(true)
          expect(() => {
            ;(ctx as { input: unknown }).input = 'changed'
          }).toThrow(TypeError)
          return next({ id: ctx.id, name: ctx.name, queue: ctx.queue, attempt: ctx.attempt, n: ctx.state.n })
        },
      ],
      (input: unknown, ctx) => ({ input, handlerSeesInput: 'input' in ctx }),
      null,
      { n: 7 },
    )
    expect(await out).toEqual({
      input: { id: 'j1', name: 'task', queue: 'q', attempt: 1, n: 7 },
      handlerSeesInput: false,
    })
  })
})

describe('middleware validation', () => {
  it('accepts undefined and an array of functions, and copies the array', () => {
    expect(validateMiddleware(undefined)).toEqual([])
    const list = [(_: unknown, next: () => Promise<unknown>) => next()]
    const copy = validateMiddleware(list)
    expect(copy).toEqual(list)
    expect(copy).not.toBe(list)
  })

  it('rejects a non-array with a TypeError naming middleware', () => {
    expect(() => validateMiddleware(() => undefined)).toThrow(TypeError)
    expect(() => validateMiddleware({})).toThrow(/"middleware": expected an array of functions, received \{\}/)
  })

  it('rejects a non-function entry with a TypeError naming its index', () => {
    expect(() => validateMiddleware([() => undefined, 'nope'])).toThrow(TypeError)
    expect(() => validateMiddleware([() => undefined, 'nope'])).toThrow(/"middleware\[1\]": expected a function, received "nope"/)
  })

  it('defineTasks validates middleware outside a worker too', () => {
    expect(() => defineTasks({ echo: (x: unknown) => x }, { middleware: [42] as never })).toThrow(/middleware\[0\]/)
    expect(() => defineTasks({ echo: (x: unknown) => x }, { middleware: 'log' as never })).toThrow(TypeError)
    const tasks = { echo: (x: unknown) => x }
    expect(defineTasks(tasks, { middleware: [(_ctx, next) => next()] })).toBe(tasks)
  })
})
