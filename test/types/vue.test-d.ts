// Type tests of offthread/vue: checked by tsc, never executed (the composables are only
// called inside test callbacks, which the typecheck project does not run).
import { computed, ref, shallowRef, type ShallowRef } from 'vue'
import { describe, expectTypeOf, it } from 'vitest'
import { createQueue, memoryStore, type JobHandle, type JobSnapshot, type JobStatus, type Progress, type Queue } from '../../src/index.js'
import { useCounts, useJob, useJobs, useQueueError, useRole, type LiveJobRefs } from '../../src/vue.js'
import type { Tasks } from '../browser/fixtures/tasks.worker.js'
import type { ReactTasks } from '../browser/fixtures/react.worker.js'

const makeQueue = (): Queue<Tasks> => createQueue<Tasks>({ store: memoryStore(), autostart: false })
type Lookup = 'loading' | 'ready' | 'missing' | 'deleted' | 'error'

describe('useJob(handle)', () => {
  it('a read-only shallow ref of the snapshot, typed by the handle', async () => {
    const handle = await makeQueue().add('double', 21)
    const snap = useJob(handle)
    expectTypeOf(snap).toEqualTypeOf<Readonly<ShallowRef<JobSnapshot<number, Progress>>>>()
    expectTypeOf(snap.value.result).toEqualTypeOf<number | undefined>()
    // @ts-expect-error -- read-only
    snap.value = handle.getSnapshot()
  })

  it("carries a task's declared progress type (TaskContext<State, P>)", async () => {
    const queue = createQueue<ReactTasks>({ store: memoryStore(), autostart: false })
    const snap = useJob(await queue.add('steps', { steps: 3, every: 1 }))
    expectTypeOf(snap.value.result).toEqualTypeOf<string | undefined>()
    expectTypeOf(snap.value.progress).toEqualTypeOf<{ done: number; total: number } | undefined>()
  })

  it('a ref or a getter of a handle, maybe undefined', async () => {
    const handle = await makeQueue().add('double', 1)
    expectTypeOf(useJob(shallowRef(handle))).toEqualTypeOf<Readonly<ShallowRef<JobSnapshot<number, Progress>>>>()
    expectTypeOf(useJob(() => handle)).toEqualTypeOf<Readonly<ShallowRef<JobSnapshot<number, Progress>>>>()
    expectTypeOf(useJob(computed(() => handle))).toEqualTypeOf<Readonly<ShallowRef<JobSnapshot<number, Progress>>>>()
    const maybe = shallowRef<JobHandle<string> | undefined>()
    expectTypeOf(useJob(maybe)).toEqualTypeOf<Readonly<ShallowRef<JobSnapshot<string, Progress> | undefined>>>()
    // @ts-expect-error -- not a handle nor a queue
    useJob({ id: 'x' })
  })
})

describe('useJob(queue, id, name?)', () => {
  it('refs of the job, its handle, the state and the error; the result typed by the caller', () => {
    const queue = makeQueue()
    const refs = useJob(queue, 'id')
    expectTypeOf(refs).toEqualTypeOf<LiveJobRefs>()
    expectTypeOf(refs.state.value).toEqualTypeOf<Lookup>()
    expectTypeOf(refs.job.value).toEqualTypeOf<JobSnapshot | undefined>()
    expectTypeOf(refs.handle.value).toEqualTypeOf<JobHandle | undefined>()
    expectTypeOf(refs.error.value).toEqualTypeOf<Error | undefined>()
    expectTypeOf(refs.state).toEqualTypeOf<Readonly<ShallowRef<Lookup>>>()
    expectTypeOf(useJob<number>(queue, 'id').job.value).toEqualTypeOf<JobSnapshot<number> | undefined>()
    // @ts-expect-error -- read-only
    refs.state.value = 'ready'
  })

  it('the id may be a ref, a getter or undefined', () => {
    const queue = makeQueue()
    expectTypeOf(useJob(queue, ref<string | undefined>())).toEqualTypeOf<LiveJobRefs>()
    expectTypeOf(useJob(queue, () => 'id')).toEqualTypeOf<LiveJobRefs>()
    expectTypeOf(useJob(queue, undefined)).toEqualTypeOf<LiveJobRefs>()
    // @ts-expect-error -- the id is a string
    useJob(queue, 42)
    // @ts-expect-error -- the id is a string
    useJob(queue, ref(42))
  })

  it('with a task name: typed by the task, as getJob(id, name) is', () => {
    const refs = useJob(makeQueue(), ref('id'), 'double')
    expectTypeOf(refs).toEqualTypeOf<LiveJobRefs<number, Progress>>()
    expectTypeOf(refs.job.value?.result).toEqualTypeOf<number | undefined>()
    expectTypeOf(refs.handle.value).toEqualTypeOf<JobHandle<number, Progress> | undefined>()
    const steps = useJob(createQueue<ReactTasks>(), 'id', 'steps')
    expectTypeOf(steps.job.value?.progress).toEqualTypeOf<{ done: number; total: number } | undefined>()
    // @ts-expect-error -- not a task of this queue
    useJob(makeQueue(), 'id', 'nope')
  })
})

describe('useJobs', () => {
  it('refs of a readonly list, its state and error; a query name narrows it', () => {
    const { jobs, state, error } = useJobs(makeQueue(), { status: 'running' })
    expectTypeOf(jobs.value).toExtend<readonly unknown[]>()
    expectTypeOf(state.value).toEqualTypeOf<'loading' | 'ready' | 'error'>()
    expectTypeOf(error.value).toEqualTypeOf<Error | undefined>()
    // @ts-expect-error -- the list is readonly
    jobs.value.push(jobs.value[0]!)
    const job = jobs.value[0]
    if (job?.name === 'double') expectTypeOf(job.progress).toEqualTypeOf<Progress | undefined>()
    const doubles = useJobs(makeQueue(), { name: 'double', status: ['completed', 'failed'] })
    expectTypeOf(doubles.jobs.value[0]!.name).toEqualTypeOf<'double'>()
    // A getter or a ref narrows too.
    const steps = useJobs(createQueue<ReactTasks>(), () => ({ name: 'steps' }))
    expectTypeOf(steps.jobs.value[0]!.progress).toEqualTypeOf<{ done: number; total: number } | undefined>()
    const bursts = useJobs(createQueue<ReactTasks>(), ref({ name: 'burst' as const, limit: 5 }))
    expectTypeOf(bursts.jobs.value[0]!.progress).toEqualTypeOf<number | undefined>()
  })

  it('the query may be a ref or a getter; a bad status is refused', () => {
    const status = ref<JobStatus>('waiting')
    useJobs(makeQueue(), () => ({ status: status.value }))
    useJobs(makeQueue(), ref({ status: 'waiting' as const, limit: 10 }))
    useJobs(makeQueue())
    // @ts-expect-error -- not a status
    useJobs(makeQueue(), { status: 'done' })
  })
})

describe('useCounts, useRole and useQueueError', () => {
  it('useCounts gives refs of a count for every status, the state and the error', () => {
    const { counts, state } = useCounts(makeQueue())
    expectTypeOf(counts.value).toEqualTypeOf<Readonly<Record<JobStatus, number>>>()
    expectTypeOf(state.value).toEqualTypeOf<'loading' | 'ready' | 'error'>()
  })

  it("useRole gives a ref of 'runner' or 'follower'; useQueueError of an error", () => {
    expectTypeOf(useRole(makeQueue())).toEqualTypeOf<Readonly<ShallowRef<'runner' | 'follower'>>>()
    expectTypeOf(useQueueError(createQueue())).toEqualTypeOf<Readonly<ShallowRef<Error | undefined>>>()
  })
})
