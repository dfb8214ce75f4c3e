// Type tests of the live core: typed progress, getJob(id, name), event snapshots typed by task, watch().
import { describe, expectTypeOf, it } from 'vitest'
import { createQueue, memoryStore, type JobHandle, type JobSnapshot, type Progress, type TaskContext } from '../../src/index.js'
import { defineTasks } from '../../src/worker.js'

const _tasks = defineTasks({
  resize(input: { width: number }, ctx: TaskContext<undefined, { done: number; total: number }>) {
    ctx.progress({ done: 1, total: 2 })
    // @ts-expect-error: this task's progress is { done, total }
    ctx.progress(50)
    return new Blob([String(input.width)])
  },
  plain: (n: number) => String(n),
})
type Tasks = typeof _tasks

describe('typed live state', () => {
  it('a task declaring its progress type gives it to its handles; others keep number | object', async () => {
    const queue = createQueue<Tasks>({ store: memoryStore(), autostart: false })
    const job = await queue.add('resize', { width: 10 })
    expectTypeOf(job).toEqualTypeOf<JobHandle<Blob, { done: number; total: number }>>()
    expectTypeOf(job.progress).toEqualTypeOf<{ done: number; total: number } | undefined>()
    expectTypeOf(job.getSnapshot().result).toEqualTypeOf<Blob | undefined>()
    const plain = await queue.add('plain', 1)
    expectTypeOf(plain.progress).toEqualTypeOf<Progress | undefined>()
  })

  it('getJob(id, name) is typed by the task; getJob(id) is not', async () => {
    const queue = createQueue<Tasks>({ store: memoryStore(), autostart: false })
    expectTypeOf(await queue.getJob('x', 'plain')).toEqualTypeOf<JobHandle<string, Progress> | undefined>()
    expectTypeOf(await queue.getJob('x')).toEqualTypeOf<JobHandle | undefined>()
    // @ts-expect-error: no such task
    await queue.getJob('x', 'nope')
  })

  it('event snapshots narrow by task name', () => {
    const queue = createQueue<Tasks>({ store: memoryStore(), autostart: false })
    queue.on('completed', (job) => {
      if (job.name === 'resize') expectTypeOf(job.result).toEqualTypeOf<Blob | undefined>()
      else expectTypeOf(job.result).toEqualTypeOf<string | undefined>()
    })
    queue.on('progress', (job) => {
      if (job.name === 'resize') expectTypeOf(job.progress).toEqualTypeOf<{ done: number; total: number } | undefined>()
    })
    const untyped = createQueue({ store: memoryStore(), autostart: false })
    untyped.on('completed', (job) => expectTypeOf(job).toEqualTypeOf<JobSnapshot>())
  })

  it('watch() lists snapshots typed by task, without the data and result a list does not read; watchCounts() counts', () => {
    const queue = createQueue<Tasks>({ store: memoryStore(), autostart: false })
    const [first] = queue.watch({ status: 'running' }).getSnapshot()
    if (first?.name === 'plain') {
      expectTypeOf(first.progress).toEqualTypeOf<Progress | undefined>()
      expectTypeOf(first).not.toHaveProperty('data')
      expectTypeOf(first).not.toHaveProperty('result')
    }
    expectTypeOf(queue.watchCounts().getSnapshot().running).toEqualTypeOf<number>()
  })

  it('watchJob(id, name) is typed by task as getJob(id, name) is', () => {
    const queue = createQueue<Tasks>({ store: memoryStore(), autostart: false })
    const lookup = queue.watchJob('some-id', 'resize').getSnapshot()
    expectTypeOf(lookup.state).toEqualTypeOf<'loading' | 'ready' | 'missing' | 'deleted' | 'error'>()
    expectTypeOf(lookup.job?.result).toEqualTypeOf<Blob | undefined>()
    expectTypeOf(lookup.job?.progress).toEqualTypeOf<{ done: number; total: number } | undefined>()
    expectTypeOf(lookup.handle).toEqualTypeOf<JobHandle<Blob, { done: number; total: number }> | undefined>()
    expectTypeOf(queue.watchJob('some-id').getSnapshot().job?.result).toEqualTypeOf<unknown>()
  })
})
