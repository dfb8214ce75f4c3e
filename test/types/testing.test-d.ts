// Type tests: checked by tsc, never executed.
import { describe, expectTypeOf, it } from 'vitest'
import { runTask, type TaskRecord } from '../../src/testing.js'
import { defineTasks, type TaskContext, type Middleware, type MiddlewareContext, type MiddlewareNext } from '../../src/worker.js'

interface State {
  multiplier: number
}

const tasks = defineTasks(
  {
    async double(n: number, ctx) {
      return n * 2 * ctx.state.multiplier
    },
    upper(s: string) {
      return s.toUpperCase()
    },
    length: {
      timeout: 1000,
      handler(input: { s: string }) {
        return input.s.length
      },
    },
  },
  {
    setup: async (): Promise<State> => ({ multiplier: 1 }),
    middleware: [
      (ctx, next) => {
        expectTypeOf(ctx).toEqualTypeOf<MiddlewareContext<State>>()
        expectTypeOf(ctx.state).toEqualTypeOf<State>()
        expectTypeOf(ctx.input).toEqualTypeOf<unknown>()
        expectTypeOf(next).toEqualTypeOf<MiddlewareNext>()
        return next()
      },
    ],
  },
)

describe('runTask', () => {
  it('resolves to a record typed with the handler output', () => {
    expectTypeOf(runTask(tasks.double, 2, { state: { multiplier: 2 } })).toEqualTypeOf<Promise<TaskRecord<number>>>()
    expectTypeOf(runTask(tasks.upper, 'a')).toEqualTypeOf<Promise<TaskRecord<string>>>()
    expectTypeOf(runTask(tasks.length, { s: 'abc' })).toEqualTypeOf<Promise<TaskRecord<number>>>()
    expectTypeOf(runTask((_: null) => ({ ok: true as const }), null))
      .resolves.toHaveProperty('result')
      .toEqualTypeOf<{ ok: true } | undefined>()
  })

  it('types the record fields', () => {
    type R = TaskRecord<number>
    expectTypeOf<R['status']>().toEqualTypeOf<'completed' | 'failed' | 'retry' | 'sleeping' | 'waiting'>()
    expectTypeOf<R['result']>().toEqualTypeOf<number | undefined>()
    expectTypeOf<R['error']>().toEqualTypeOf<Error | undefined>()
    expectTypeOf<R['retry']>().toEqualTypeOf<{ delay?: number; reason?: string } | undefined>()
  })

  it('checks the input against the handler', () => {
    // @ts-expect-error: double takes a number
    void runTask(tasks.double, 'two')
    // @ts-expect-error: length takes { s }
    void runTask(tasks.length, 'abc')
  })

  it('types state, setup and middleware with the handler state', () => {
    void runTask(tasks.double, 1, { setup: () => ({ multiplier: 3 }) })
    // @ts-expect-error: the state must be a State
    void runTask(tasks.double, 1, { state: { multiplier: 'x' } })
    void runTask(tasks.double, 1, {
      middleware: [
        (ctx, next) => {
          expectTypeOf(ctx.state).toEqualTypeOf<State>()
          return next()
        },
      ],
    })
  })
})

describe('Middleware', () => {
  it('has the documented shape', () => {
    expectTypeOf<Middleware<State>>().parameters.toEqualTypeOf<[MiddlewareContext<State>, MiddlewareNext]>()
    expectTypeOf<MiddlewareNext>().toEqualTypeOf<(input?: unknown) => Promise<unknown>>()
    expectTypeOf<MiddlewareContext<State>>().toMatchTypeOf<TaskContext<State>>()
  })

  it('lets a state-agnostic middleware fit any module', () => {
    const logging: Middleware = async (ctx, next) => {
      expectTypeOf(ctx.state).toEqualTypeOf<unknown>()
      return next()
    }
    const withState = defineTasks(
      { read: (_: null, ctx) => ctx.state.multiplier },
      { setup: (): State => ({ multiplier: 2 }), middleware: [logging] },
    )
    expectTypeOf(withState.read).returns.toEqualTypeOf<number>()
    const withoutState = defineTasks({ echo: (x: string) => x }, { middleware: [logging] })
    expectTypeOf(withoutState.echo).returns.toEqualTypeOf<string>()
  })
})
