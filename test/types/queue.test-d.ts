// Type tests: checked by tsc, never executed. The queue is only built inside
// test callbacks, which the typecheck project does not run.
import { describe, expectTypeOf, it } from 'vitest'
import { createQueue, memoryStore, type JobHandle, type JobSnapshot, type Queue } from '../../src/index.js'
import { defineTasks, type TaskContext } from '../../src/worker.js'

interface State {
  multiplier: number
}

const tasks = defineTasks(
  {
    // short form
    async double(n: number, ctx) {
      expectTypeOf(ctx).toEqualTypeOf<TaskContext<State>>()
      expectTypeOf(ctx.state).toEqualTypeOf<State>()
      return n * 2 * ctx.state.multiplier
    },
    // short form, another output type
    upper(s: string) {
      return s.toUpperCase()
    },
    // long form
    length: {
      timeout: 1000,
      handler(input: { s: string }) {
        return input.s.length
      },
    },
  },
  { setup: async (): Promise<State> => ({ multiplier: 1 }) },
)

type Tasks = typeof tasks

function makeQueue(): Queue<Tasks> {
  return createQueue<Tasks>({ store: memoryStore(), autostart: false })
}

describe('defineTasks', () => {
  it('returns the task map unchanged in type', () => {
    expectTypeOf(tasks.double).parameter(0).toEqualTypeOf<number>()
    expectTypeOf(tasks.double).returns.toEqualTypeOf<Promise<number>>()
    expectTypeOf(tasks.length.timeout).toEqualTypeOf<1000>()
    expectTypeOf(tasks.length.handler).parameter(0).toEqualTypeOf<{ s: string }>()
  })

  it('types ctx as TaskContext with the state that setup returns', () => {
    defineTasks(
      {
        run(_input: null, ctx) {
          expectTypeOf(ctx).toEqualTypeOf<TaskContext<{ db: string }>>()
          expectTypeOf(ctx.state.db).toBeString()
        },
      },
      { setup: () => ({ db: 'x' }) },
    )
  })

  it('without setup, ctx.state is undefined', () => {
    defineTasks({
      run(_input: number, ctx) {
        expectTypeOf(ctx).toEqualTypeOf<TaskContext<undefined>>()
        expectTypeOf(ctx.state).toEqualTypeOf<undefined>()
      },
    })
  })

  it('rejects a setup state that does not match what handlers expect', () => {
    defineTasks(
      {
        // @ts-expect-error ctx.state is { n: number }, not { s: string }
        run(_input: number, ctx: TaskContext<{ s: string }>) {
          return ctx.state.s
        },
      },
      { setup: () => ({ n: 1 }) },
    )
  })
})

describe('releases', () => {
  it('ctx.version, job.version, queue.runner and queue.storage() are typed', async () => {
    defineTasks({
      read(input: { n: number } | { value: number }, ctx) {
        expectTypeOf(ctx.version).toEqualTypeOf<string | number | undefined>()
        return 'n' in input ? input.n : input.value
      },
    })
    const queue = createQueue<Tasks>({ store: memoryStore(), version: '2026.12.07', persist: true })
    const job = await queue.add('upper', 'a')
    expectTypeOf(job.toJSON().version).toEqualTypeOf<string | number | undefined>()
    expectTypeOf(job.toJSON().waitingFor).toEqualTypeOf<'release' | 'network' | 'sleep' | 'signal' | undefined>()
    expectTypeOf(queue.runner?.version).toEqualTypeOf<string | number | undefined>()
    expectTypeOf(await queue.storage()).toEqualTypeOf<{ persisted?: boolean; usage?: number; quota?: number }>()
    queue.on('outdated', (error) => expectTypeOf(error).toEqualTypeOf<Error>())
    // @ts-expect-error: a version is a string or a number
    createQueue({ version: true })
  })
})

describe('Queue<typeof tasks>', () => {
  it('add takes a task name and its input', async () => {
    const queue = makeQueue()
    expectTypeOf<Parameters<typeof queue.add>[0]>().toEqualTypeOf<'double' | 'upper' | 'length'>()
    await queue.add('double', 2)
    await queue.add('length', { s: 'abc' }, { priority: 1 })
    // @ts-expect-error double takes a number
    await queue.add('double', 'x')
    // @ts-expect-error length takes { s: string }
    await queue.add('length', 'abc')
    // @ts-expect-error no task is called nope
    await queue.add('nope', 1)
  })

  it('the handle of a short-form task resolves to the handler output', async () => {
    const queue = makeQueue()
    const handle = await queue.add('double', 2)
    expectTypeOf(handle).toEqualTypeOf<JobHandle<number>>()
    expectTypeOf(handle.result()).toEqualTypeOf<Promise<number>>()
    expectTypeOf(handle.wait()).toEqualTypeOf<Promise<JobSnapshot<number>>>()
    expectTypeOf((await queue.add('upper', 'a')).result()).toEqualTypeOf<Promise<string>>()
  })

  it('the handle of a long-form task resolves to its handler output', async () => {
    const queue = makeQueue()
    const handle = await queue.add('length', { s: 'abc' })
    expectTypeOf(handle.result()).toEqualTypeOf<Promise<number>>()
  })

  it('addBulk returns handles typed per entry', async () => {
    const queue = makeQueue()
    const handles = await queue.addBulk([
      { name: 'double', data: 2 },
      { name: 'upper', data: 'a' },
      { name: 'length', data: { s: 'abc' }, options: { priority: 2 } },
    ])
    expectTypeOf(handles[0]).toEqualTypeOf<JobHandle<number>>()
    expectTypeOf(handles[1]).toEqualTypeOf<JobHandle<string>>()
    expectTypeOf(handles[2]).toEqualTypeOf<JobHandle<number>>()
    expectTypeOf(handles[1].result()).toEqualTypeOf<Promise<string>>()
  })

  it('addBulk rejects an unknown task name', async () => {
    const queue = makeQueue()
    // @ts-expect-error no task is called nope
    await queue.addBulk([{ name: 'nope', data: 1 }])
  })

  it("addBulk checks each entry's data against its own task", async () => {
    const queue = makeQueue()
    // @ts-expect-error double takes a number, not a string
    await queue.addBulk([{ name: 'double', data: 'x' }])
  })
})
