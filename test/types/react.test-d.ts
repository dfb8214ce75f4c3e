// Type tests of offthread/react: checked by tsc, never executed (the hooks are only
// called inside test callbacks, which the typecheck project does not run).
import { describe, expectTypeOf, it } from 'vitest'
import { createQueue, memoryStore, type JobHandle, type JobSnapshot, type JobStatus, type Progress, type Queue } from '../../src/index.js'
import { useCounts, useJob, useJobs, useQueueError, useRole, type JobLookup } from '../../src/react.js'
import type { Tasks } from '../browser/fixtures/tasks.worker.js'
import type { ReactTasks } from '../browser/fixtures/react.worker.js'

const makeQueue = (): Queue<Tasks> => createQueue<Tasks>({ store: memoryStore(), autostart: false })

describe('useJob', () => {
  it('types the snapshot by the handle: the task result, and progress by default number | object', async () => {
    const handle = await makeQueue().add('double', 21)
    expectTypeOf(handle).toEqualTypeOf<JobHandle<number, Progress>>()
    const snap = useJob(handle)
    expectTypeOf(snap).toEqualTypeOf<JobSnapshot<number, Progress>>()
    expectTypeOf(snap.result).toEqualTypeOf<number | undefined>()
    expectTypeOf(snap.progress).toEqualTypeOf<Progress | undefined>()
  })

  it("carries a task's declared progress type (TaskContext<State, P>)", async () => {
    const queue = createQueue<ReactTasks>({ store: memoryStore(), autostart: false })
    const snap = useJob(await queue.add('steps', { steps: 3, every: 1 }))
    expectTypeOf(snap.result).toEqualTypeOf<string | undefined>()
    expectTypeOf(snap.progress).toEqualTypeOf<{ done: number; total: number } | undefined>()
    expectTypeOf(useJob(await queue.add('burst', 5)).progress).toEqualTypeOf<number | undefined>()
  })

  it('an optional handle gives an optional snapshot', async () => {
    const handle: JobHandle<string> | undefined = await makeQueue().getJob<string>('x')
    expectTypeOf(useJob(handle)).toEqualTypeOf<JobSnapshot<string, Progress> | undefined>()
    expectTypeOf(useJob(undefined)).toEqualTypeOf<JobSnapshot<unknown, unknown> | undefined>()
  })

  it('by id: a lookup with its state, the snapshot and handle typed by the caller', () => {
    const queue = makeQueue()
    const lookup = useJob(queue, 'id')
    expectTypeOf(lookup).toEqualTypeOf<JobLookup>()
    expectTypeOf(lookup.state).toEqualTypeOf<'loading' | 'ready' | 'missing' | 'deleted' | 'error'>()
    expectTypeOf(lookup.job).toEqualTypeOf<JobSnapshot | undefined>()
    expectTypeOf(lookup.handle).toEqualTypeOf<JobHandle | undefined>()
    expectTypeOf(lookup.error).toEqualTypeOf<Error | undefined>()
    expectTypeOf(useJob<number>(queue, 'id').job).toEqualTypeOf<JobSnapshot<number> | undefined>()
    expectTypeOf(useJob(queue, undefined)).toEqualTypeOf<JobLookup>()
    // @ts-expect-error -- the id is a string
    useJob(queue, 42)
    // @ts-expect-error -- not a task of this queue
    useJob(queue, 'id', 'nope')
    // @ts-expect-error -- not a handle nor a queue
    useJob({ id: 'x' })
  })
})

describe('useJob(queue, id, name)', () => {
  it('is typed by the task, as getJob(id, name) is', () => {
    const lookup = useJob(makeQueue(), 'id', 'double')
    expectTypeOf(lookup).toEqualTypeOf<JobLookup<number, Progress>>()
    expectTypeOf(lookup.job?.result).toEqualTypeOf<number | undefined>()
    expectTypeOf(lookup.handle).toEqualTypeOf<JobHandle<number, Progress> | undefined>()
    const steps = useJob(createQueue<ReactTasks>(), 'id', 'steps')
    expectTypeOf(steps.job?.progress).toEqualTypeOf<{ done: number; total: number } | undefined>()
  })
})

describe('useJobs', () => {
  it('a readonly list of snapshots that `name` narrows, without the data and result a list does not read, with its state', () => {
    const { jobs, state, error } = useJobs(makeQueue(), { status: 'running' })
    expectTypeOf(state).toEqualTypeOf<'loading' | 'ready' | 'error'>()
    expectTypeOf(error).toEqualTypeOf<Error | undefined>()
    expectTypeOf(jobs).toExtend<readonly unknown[]>()
    // @ts-expect-error -- the list is readonly
    jobs.push(jobs[0]!)
    const job = jobs[0]
    if (job?.name === 'double') {
      expectTypeOf(job.progress).toEqualTypeOf<Progress | undefined>()
      expectTypeOf(job).not.toHaveProperty('data')
      expectTypeOf(job).not.toHaveProperty('result')
    }
  })

  it("a query's task name narrows the list to that task's snapshots", () => {
    const doubles = useJobs(makeQueue(), { name: 'double', status: ['completed', 'failed'] }).jobs
    expectTypeOf(doubles[0]!.name).toEqualTypeOf<'double'>()
    const steps = useJobs(createQueue<ReactTasks>(), { name: 'steps' }).jobs
    expectTypeOf(steps[0]!.progress).toEqualTypeOf<{ done: number; total: number } | undefined>()
  })

  it('a name that is only a string, or an untyped queue, gives plain snapshots', () => {
    const name: string = 'double'
    expectTypeOf(useJobs(makeQueue(), { name }).jobs[0]!.name).toEqualTypeOf<keyof Tasks & string>()
    expectTypeOf(useJobs(createQueue()).jobs).toEqualTypeOf<readonly Omit<JobSnapshot, 'data' | 'result'>[]>()
    // @ts-expect-error -- not a status
    useJobs(makeQueue(), { status: 'done' })
  })
})

describe('useCounts and useRole', () => {
  it('useCounts gives a count for every status', () => {
    const { counts, state } = useCounts(makeQueue())
    expectTypeOf(state).toEqualTypeOf<'loading' | 'ready' | 'error'>()
    expectTypeOf(counts).toEqualTypeOf<Readonly<Record<JobStatus, number>>>()
    expectTypeOf(counts).toExtend<Record<JobStatus, number>>()
    expectTypeOf(counts.running).toBeNumber()
  })

  it("useRole gives 'runner' or 'follower'; useQueueError the queue's trouble", () => {
    expectTypeOf(useQueueError(makeQueue())).toEqualTypeOf<Error | undefined>()
    expectTypeOf(useRole(makeQueue())).toEqualTypeOf<'runner' | 'follower'>()
    expectTypeOf(useRole(createQueue())).toEqualTypeOf<'runner' | 'follower'>()
  })
})
