// Type tests of chain and group: checked by tsc, never executed.
import { describe, expectTypeOf, it } from 'vitest'
import { createQueue, memoryStore, type FlowHandle, type Queue } from '../../src/index.js'
import { defineTasks } from '../../src/worker.js'

const _tasks = defineTasks({
  double: (n: number) => n * 2,
  upper: (s: string) => s.toUpperCase(),
  size: (input: { s: string }) => ({ length: input.s.length }),
})
type Tasks = typeof _tasks

function makeQueue(): Queue<Tasks> {
  return createQueue<Tasks>({ store: memoryStore(), autostart: false })
}

describe('chain and group result types', () => {
  it('a chain resolves to its last step output', async () => {
    const queue = makeQueue()
    const flow = await queue.chain([
      { name: 'double', data: 1 },
      { name: 'upper', data: 'x' },
      { name: 'size', data: { s: 'abc' } },
    ])
    expectTypeOf(flow).toEqualTypeOf<FlowHandle<{ length: number }>>()
    expectTypeOf(flow.result()).resolves.toEqualTypeOf<{ length: number }>()
  })

  it('a group resolves to the tuple of its members outputs', async () => {
    const queue = makeQueue()
    const flow = await queue.group([
      { name: 'double', data: 1 },
      { name: 'upper', data: 'x' },
    ])
    expectTypeOf(flow.result()).resolves.toEqualTypeOf<[number, string]>()
  })

  it('nested flows compose their output types', async () => {
    const queue = makeQueue()
    const flow = await queue.chain([
      { name: 'double', data: 1 },
      {
        group: [
          { name: 'double' },
          {
            chain: [
              { name: 'upper', data: 'a' },
              { name: 'size', data: { s: 'b' } },
            ],
          },
        ],
      },
    ])
    expectTypeOf(flow.result()).resolves.toEqualTypeOf<[number, { length: number }]>()
  })

  it('a chain step without data must take the previous step output', async () => {
    const queue = makeQueue()
    // @ts-expect-error: upper takes a string, the step before gives a number
    await queue.chain([{ name: 'double', data: 1 }, { name: 'upper' }])
    // A step with its own data takes no input from the step before.
    const own = await queue.chain([
      { name: 'double', data: 1 },
      { name: 'upper', data: 'x' },
    ])
    expectTypeOf(own.result()).resolves.toEqualTypeOf<string>()
    // number → number: fine without data.
    const flow = await queue.chain([{ name: 'double', data: 1 }, { name: 'double' }])
    expectTypeOf(flow.result()).resolves.toEqualTypeOf<number>()
  })

  it('a step naming an unknown task or giving the wrong data is a type error', async () => {
    const queue = makeQueue()
    // @ts-expect-error: no such task
    await queue.chain([{ name: 'nope', data: 1 }])
    // @ts-expect-error: double takes a number
    await queue.group([{ name: 'double', data: 'one' }])
  })
})
