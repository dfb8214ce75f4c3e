// Type tests: checked by tsc, never executed. Batch tasks (task option `batch`).
import { describe, expectTypeOf, it } from 'vitest'
import { createQueue, memoryStore, type JobHandle, type Queue } from '../../src/index.js'
import { defineTasks, type BatchContext, type TaskBatch } from '../../src/worker.js'
import { runTask, type BatchRecord } from '../../src/testing.js'

interface State {
  model: string
}

const tasks = defineTasks(
  {
    embed: {
      batch: { size: 50, wait: 100 },
      retry: { attempts: 3 },
      async handler(texts: string[], ctx: BatchContext<State>) {
        expectTypeOf(ctx).toEqualTypeOf<BatchContext<State>>()
        expectTypeOf(ctx.batch).toEqualTypeOf<TaskBatch>()
        expectTypeOf(ctx.batch.ids).toEqualTypeOf<readonly string[]>()
        expectTypeOf(ctx.state.model).toBeString()
        ctx.batch.fail(0, new Error('too long'))
        ctx.batch.log(1).info('one item')
        return texts.map((text) => ({ vector: [text.length] }))
      },
    },
    upload: {
      batch: { size: 10 },
      handler: (files: Array<{ name: string }>) => files.map((f) => f.name.length),
    },
    plain(n: number) {
      return n * 2
    },
  },
  { setup: (): State => ({ model: 'm' }) },
)

type Tasks = typeof tasks

function makeQueue(): Queue<Tasks> {
  return createQueue<Tasks>({ store: memoryStore(), autostart: false })
}

describe('batch tasks', () => {
  it('add takes one input; the handle resolves to one result', async () => {
    const queue = makeQueue()
    const handle = await queue.add('embed', 'a text')
    expectTypeOf(handle).toEqualTypeOf<JobHandle<{ vector: number[] }>>()
    expectTypeOf((await queue.add('upload', { name: 'a' })).result()).toEqualTypeOf<Promise<number>>()
    expectTypeOf((await queue.add('plain', 2)).result()).toEqualTypeOf<Promise<number>>()
    // @ts-expect-error one input, not an array
    await queue.add('embed', ['a', 'b'])
    // @ts-expect-error embed takes a string
    await queue.add('embed', 1)
    const [first] = await queue.addBulk([{ name: 'embed', data: 'x' }])
    expectTypeOf(first.result()).toEqualTypeOf<Promise<{ vector: number[] }>>()
    expectTypeOf(handle.getSnapshot().batch).toEqualTypeOf<number | undefined>()
  })

  it('a batch handler returns an array', () => {
    defineTasks({
      // @ts-expect-error a batch handler returns one result per input (an array)
      bad: { batch: { size: 2 }, handler: (inputs: number[]) => inputs.length },
    })
    defineTasks({
      // @ts-expect-error size is required
      bad: { batch: { wait: 2 }, handler: (inputs: number[]) => inputs },
    })
  })

  it('runTask takes the inputs of a batch and records each job', async () => {
    const run = runTask(tasks.embed, ['a', 'b'], { state: { model: 'x' } })
    expectTypeOf(run).toEqualTypeOf<Promise<BatchRecord<{ vector: number[] }>>>()
    const record = await run
    expectTypeOf(record.items[0]!.result).toEqualTypeOf<{ vector: number[] } | undefined>()
    // @ts-expect-error the inputs of a batch: an array of strings
    void runTask(tasks.embed, 'a', { state: { model: 'x' } })
    expectTypeOf(runTask(tasks.plain, 2)).resolves.toHaveProperty('result').toEqualTypeOf<number | undefined>()
  })
})
