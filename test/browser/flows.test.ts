import { describe, expect, expectTypeOf, it } from 'vitest'
import { JobCancelledError, JobFailedError } from '../../src/index.js'
import { delay, makeQueue } from './fixtures/queue.js'

describe('dependencies', () => {
  it('a job waits blocked until its dependencies complete, then runs', async () => {
    const queue = makeQueue()
    const first = await queue.add('sleep', 150)
    const second = await queue.add('double', 2, { dependsOn: [first] })
    expect(second.status).toBe('blocked')
    expect(second.dependencies).toEqual([first.id])
    expect(await first.dependents()).toEqual([second.id])
    await delay(50)
    expect(second.status).toBe('blocked')
    await expect(second.result()).resolves.toBe(4)
    const [a, b] = [await first.wait(), await second.wait()]
    expect(b.startedAt).toBeGreaterThanOrEqual(a.finishedAt ?? Infinity)
  })

  it('a dependency already completed does not block', async () => {
    const queue = makeQueue()
    const first = await queue.add('double', 1)
    await first.result()
    const second = await queue.add('double', 5, { dependsOn: [first.id] })
    expect(second.status).not.toBe('blocked')
    await expect(second.result()).resolves.toBe(10)
  })

  it('a failed dependency fails its dependents, in cascade, with the cause', async () => {
    const queue = makeQueue()
    const root = await queue.add('fail', 'root broke')
    const child = await queue.add('double', 1, { dependsOn: [root] })
    const grandchild = await queue.add('double', 2, { dependsOn: [child] })
    const error = (await grandchild.result().catch((e: unknown) => e)) as JobFailedError
    expect(error).toBeInstanceOf(JobFailedError)
    expect(child.status).toBe('failed')
    expect(child.error?.message).toContain(root.id)
    expect(child.error?.cause?.message).toBe('root broke')
    expect(grandchild.error?.message).toContain(child.id)
  })

  it('a cancelled dependency cancels its dependents', async () => {
    const queue = makeQueue({ autostart: false })
    const root = await queue.add('double', 1)
    const child = await queue.add('double', 2, { dependsOn: [root] })
    await root.cancel()
    await expect(child.result()).rejects.toBeInstanceOf(JobCancelledError)
    expect(child.status).toBe('cancelled')
  })

  it('unknown ids, a job depending on itself, and a job waiting for a later one in the same batch are refused, storing nothing', async () => {
    const queue = makeQueue({ autostart: false })
    await expect(queue.add('double', 1, { dependsOn: ['nope'] })).rejects.toThrow(/no job has the id "nope"/)
    await expect(queue.add('double', 1, { id: 'me', dependsOn: ['me'] })).rejects.toThrow(/cannot depend on itself/)
    await expect(
      queue.addBulk([
        { name: 'double', data: 1, options: { id: 'a', dependsOn: ['b'] } },
        { name: 'double', data: 2, options: { id: 'b', dependsOn: ['a'] } },
      ]),
    ).rejects.toThrow(/comes later in the same batch/)
    expect(await queue.list()).toEqual([])
  })

  it('a blocked job left by a runner that went away moves on when the next runner starts', async () => {
    const adder = makeQueue({ worker: undefined })
    const first = await adder.add('double', 3)
    const second = await adder.add('double', 0, { dependsOn: [first] })
    expect(second.status).toBe('blocked')
    const runner = makeQueue({ name: adder.name })
    await expect((await runner.getJob<number>(second.id))?.result()).resolves.toBe(0)
  })
})

describe('workflows: chain and group', () => {
  it('a chain passes each result to the next step', async () => {
    const queue = makeQueue()
    const flow = await queue.chain([{ name: 'double', data: 1 }, { name: 'double' }, { name: 'double' }])
    expectTypeOf(flow.result).returns.resolves.toEqualTypeOf<number>()
    await expect(flow.result()).resolves.toBe(8)
    expect(flow.jobs).toHaveLength(3)
    expect(flow.status).toBe('completed')
    // A step's input is the result of the step before it, also when read from another tab.
    const other = makeQueue({ name: queue.name, worker: undefined })
    const inputs = await Promise.all(flow.jobs.map(async (id) => (await other.getJob(id))!.data()))
    expect(inputs).toEqual([1, 2, 4])
  })

  it('a group runs its jobs in parallel and resolves to their results in order', async () => {
    const queue = makeQueue()
    const flow = await queue.group([
      { name: 'sleep', data: 80 },
      { name: 'double', data: 2 },
      { name: 'echo', data: 'x' },
    ])
    await expect(flow.result()).resolves.toEqual([80, 4, 'x'])
  })

  it('groups nest in chains and chains in groups', async () => {
    const queue = makeQueue()
    const flow = await queue.chain([
      { name: 'double', data: 3 },
      { group: [{ name: 'double' }, { name: 'echo' }, { chain: [{ name: 'double' }, { name: 'double' }] }] },
      { name: 'echo' },
    ])
    await expect(flow.result()).resolves.toEqual([12, 6, 24])
    const inGroup = await queue.group([{ chain: [{ name: 'double', data: 1 }, { name: 'double' }] }, { name: 'echo', data: 'z' }])
    await expect(inGroup.result()).resolves.toEqual([4, 'z'])
  })

  it('a failing step fails the flow with its error as the cause', async () => {
    const queue = makeQueue()
    const flow = await queue.chain([{ name: 'double', data: 1 }, { name: 'fail', data: 'step two broke' }, { name: 'double' }])
    const error = (await flow.result().catch((e: unknown) => e)) as JobFailedError
    expect(error).toBeInstanceOf(JobFailedError)
    expect(flow.status).toBe('failed')
    expect((error.cause as Error).message).toContain(flow.jobs[1])
  })

  it('cancel() cancels every unfinished step', async () => {
    const queue = makeQueue()
    const flow = await queue.chain([{ name: 'sleep', data: 5000 }, { name: 'double' }, { name: 'double' }])
    await expect.poll(() => flow.status).toBe('running')
    await expect(flow.cancel()).resolves.toBe(true)
    await expect(flow.result()).rejects.toBeInstanceOf(JobCancelledError)
    for (const id of flow.jobs) expect((await queue.getJob(id))?.status).toBe('cancelled')
  })

  it('a flow id finds the same flow again', async () => {
    const queue = makeQueue({ autostart: false })
    const first = await queue.chain([{ name: 'double', data: 1 }, { name: 'double' }], { id: 'my-flow' })
    const again = await queue.chain([{ name: 'double', data: 1 }, { name: 'double' }], { id: 'my-flow' })
    expect(again.jobs).toEqual(first.jobs)
    expect((await queue.counts()).waiting + (await queue.counts()).blocked).toBe(2)
    queue.start()
    await expect(again.result()).resolves.toBe(4)
  })

  it('a chain interrupted when its runner closes resumes at the step it reached', async () => {
    const first = makeQueue()
    const flow = await first.chain([{ name: 'double', data: 5 }, { name: 'sleep', data: 300 }, { name: 'echo' }], { id: 'resumable' })
    await expect.poll(async () => (await first.getJob(flow.jobs[1] as string))?.status).toBe('running')
    await first.close({ timeout: 0 })
    const next = makeQueue({ name: first.name })
    const again = await next.chain([{ name: 'double', data: 5 }, { name: 'sleep', data: 300 }, { name: 'echo' }], { id: 'resumable' })
    await expect(again.result()).resolves.toBe(300)
    const step1 = await next.getJob(flow.jobs[0] as string)
    expect(step1?.attempt).toBe(1)
    expect(await step1?.errors()).toEqual([])
  })
})
