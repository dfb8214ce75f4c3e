/**
 * Vue composables over the queue's live views: a handle's `subscribe`,
 * `queue.watchJob(id)`, `queue.watch(query)`, `queue.watchCounts()` and the queue's
 * `role` and `error` events, each kept in a `shallowRef` that its store's listener sets.
 * The live views tell their listeners at most once per animation frame, so a component
 * re-renders at most once a frame however fast progress arrives.
 *
 * Each composable subscribes in the current effect scope (a component's `setup`, or an
 * `effectScope`) and unsubscribes when it is disposed (`onScopeDispose`). Under server
 * rendering (no `window`) nothing is subscribed: the refs hold a fixed loading state.
 * The refs are shallow and read-only: a snapshot keeps its identity (it is frozen), and a
 * job that did not change keeps its object, so a keyed `v-for` row does not render again.
 */
import { onScopeDispose, shallowReadonly, shallowRef, toRaw, toValue, watch, type MaybeRefOrGetter, type Ref, type ShallowRef } from 'vue'
import type { JobHandle } from '../queue/handle.js'
import { LOADING_JOB } from '../queue/live-job.js'
import type { JobLookup, JobLookupState, LiveState, LiveStore, WatchQuery } from '../queue/live.js'
import type { Queue } from '../queue/queue.js'
import type {
  AnySnapshot,
  JobSnapshot,
  JobStatus,
  Listed,
  Progress,
  QueueRole,
  TaskMap,
  TaskName,
  TaskOutput,
  TaskProgress,
} from '../shared/types.js'
import { isQueue, NO_ID, queryKey, ZERO_COUNTS } from './binding.js'
import { queueErrors } from './queue-errors.js'

export type { JobLookupState, LiveState } from '../queue/live.js'

/** A ref the composable sets and the component only reads. */
type ReadRef<V> = Readonly<ShallowRef<V>>

/** Whether this runs where live views can be followed (a browser, not a server render). */
const live = (): boolean => typeof window !== 'undefined'

/** The ref as its readers get it: read-only, and still the value itself (no proxy around it). */
const readOnly = <V>(ref: ShallowRef<V>): ReadRef<V> => shallowReadonly(ref)

/**
 * Follows the store `source()` gives, again whenever it gives another (a ref or getter
 * changed), and stops with the scope. `start` subscribes to one and returns its unsubscribe.
 */
function follow<S>(source: () => S, start: (store: S) => () => void): void {
  let off: (() => void) | undefined
  watch(
    source,
    (store) => {
      off?.()
      off = start(store)
    },
    { immediate: true },
  )
  onScopeDispose(() => {
    off?.()
    off = undefined
  })
}

/** What `useJob(queue, id)` gives: the job of an id, with where its look-up stands. */
export interface LiveJobRefs<R = unknown, P = Progress> {
  /** The job's snapshot while `state` is `'ready'`. */
  readonly job: ReadRef<JobSnapshot<R, P> | undefined>
  /** The job's live handle while `state` is `'ready'`: `cancel()`, `result()`, `logs()`… */
  readonly handle: ReadRef<JobHandle<R, P> | undefined>
  /** `'loading'` until read (and in a server render), `'ready'`, `'missing'`, `'deleted'` or `'error'`. */
  readonly state: ReadRef<JobLookupState>
  /** Why the read failed (`state: 'error'`). */
  readonly error: ReadRef<Error | undefined>
}

/**
 * A job, live, in refs that change at most once per animation frame, however fast its
 * progress comes.
 *
 * - `useJob(handle)`: the snapshot of a handle (from `add`, `addBulk`, `getJob`), typed by
 *   it (`JobHandle<R, P>` gives `JobSnapshot<R, P>`). The handle may be a ref or a getter
 *   (a prop: `() => props.handle`): the snapshot follows it; undefined for no handle.
 * - `useJob(queue, id, name?)`: the job of that id (`queue.watchJob(id, name)`), as refs
 *   `{ job, handle, state, error }`: `state` is `'loading'` until it is read (and in a
 *   server render), `'ready'` with its snapshot `job` and live `handle` (for
 *   `handle.cancel()`), `'missing'` (no such job, or no id; with `name`, none of that
 *   task, and the snapshot is typed by it, as `getJob(id, name)` is), `'deleted'` once
 *   deleted in any tab, or `'error'` when the read failed (`error` says why). The id may be
 *   a ref or a getter: the refs follow it.
 *
 * @param source - a job handle (or a ref or getter of one), or the queue
 * @param id - with a queue: the job id (or a ref or getter of it)
 * @param name - with a queue: the job's task, to type the snapshot and match only jobs of that task
 * @example
 * ```ts
 * import { defineComponent, h } from 'vue'
 * import { useJob } from 'offthread/vue'
 *
 * const Upload = defineComponent({
 *   props: { handle: { type: Object as PropType<JobHandle<string, number>>, required: true } },
 *   setup(props) {
 *     const job = useJob(() => props.handle)
 *     return () => h('p', job.value.status === 'completed' ? job.value.result : `${job.value.progress ?? 0} %`)
 *   },
 * })
 *
 * const JobById = defineComponent({
 *   props: { id: String },
 *   setup(props) {
 *     const { state, job, handle } = useJob(queue, () => props.id, 'resize')
 *     return () =>
 *       state.value !== 'ready'
 *         ? h('p', state.value)
 *         : h('button', { onClick: () => void handle.value?.cancel() }, `Cancel (${job.value?.progress ?? 0} %)`)
 *   },
 * })
 * ```
 */
export function useJob<R, P>(handle: MaybeRefOrGetter<JobHandle<R, P>>): ReadRef<JobSnapshot<R, P>>
export function useJob<R, P>(handle: MaybeRefOrGetter<JobHandle<R, P> | undefined>): ReadRef<JobSnapshot<R, P> | undefined>
export function useJob<T extends TaskMap, K extends TaskName<T>>(
  queue: Queue<T>,
  id: MaybeRefOrGetter<string | undefined>,
  name: K,
): LiveJobRefs<TaskOutput<T[K]>, TaskProgress<T[K]>>
// `Queue<any>`: any typed queue, with `R` still given by the caller (a `Queue<TaskMap>` would refuse a `Queue<Tasks>`).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function useJob<R = unknown>(queue: Queue<any>, id: MaybeRefOrGetter<string | undefined>): LiveJobRefs<R>
export function useJob(
  source: MaybeRefOrGetter<JobHandle | undefined> | Queue<TaskMap>,
  id?: MaybeRefOrGetter<string | undefined>,
  name?: string,
): ReadRef<JobSnapshot | undefined> | LiveJobRefs {
  const queue = toRaw(source)
  if (isQueue(queue)) return useJobById(queue, id, name)
  // A handle kept in a deep `ref()` is a reactive proxy, which its #private fields refuse: use the handle itself.
  const handle = (): JobHandle | undefined => {
    const value = toValue(source as MaybeRefOrGetter<JobHandle | undefined>)
    return value === undefined ? undefined : toRaw(value)
  }
  const snapshot = shallowRef(handle()?.getSnapshot())
  if (live()) {
    follow(handle, (job) => {
      if (!job) {
        snapshot.value = undefined
        return () => undefined
      }
      return job.subscribe((next) => (snapshot.value = next))
    })
  }
  return readOnly(snapshot)
}

/** `useJob(queue, id, name?)`: the refs of `queue.watchJob(id, name)`, following the id. */
function useJobById(queue: Queue<TaskMap>, id: MaybeRefOrGetter<string | undefined>, name: string | undefined): LiveJobRefs {
  const first = toValue(id)
  const start = first === undefined ? NO_ID : LOADING_JOB
  const job = shallowRef(start.job)
  const handle = shallowRef(start.handle)
  const state = shallowRef(start.state)
  const error = shallowRef(start.error)
  const show = (lookup: JobLookup): void => {
    job.value = lookup.job
    handle.value = lookup.handle
    state.value = lookup.state
    error.value = lookup.error
  }
  if (live()) {
    follow(
      () => toValue(id),
      (key) => {
        if (key === undefined) {
          show(NO_ID)
          return () => undefined
        }
        const store = queue.watchJob(key, name as string)
        return store.subscribe(show)
      },
    )
  }
  return { job: readOnly(job), handle: readOnly(handle), state: readOnly(state), error: readOnly(error) }
}

/** Refs of a live value with its state, set from `store` (fixed at `empty` and `'loading'` in a server render). */
function useLive<V>(
  store: () => LiveStore<V>,
  key: () => unknown,
  empty: V,
): { value: ReadRef<V>; state: ReadRef<LiveState>; error: ReadRef<Error | undefined> } {
  const value = shallowRef(empty)
  const state = shallowRef<LiveState>('loading')
  const error = shallowRef<Error | undefined>(undefined)
  if (live()) {
    follow(key, () => {
      const view = store()
      // subscribeResult: told of a change of state alone too (a first read that finds nothing).
      return view.subscribeResult((result) => {
        value.value = result.value
        state.value = result.state
        error.value = result.error
      })
    })
  }
  return { value: readOnly(value), state: readOnly(state), error: readOnly(error) }
}

/** What `useJobs` gives: the list, with where it stands. */
export interface LiveJobsRefs<S> {
  /** The jobs, newest first: empty until read; the last list read while `state` is `'error'`. */
  readonly jobs: ReadRef<readonly S[]>
  /** `'loading'` until first read (and in a server render), `'ready'`, or `'error'` when the last read failed. */
  readonly state: ReadRef<LiveState>
  readonly error: ReadRef<Error | undefined>
}

const EMPTY: readonly never[] = Object.freeze([])

/** A query of one task's jobs. */
type NamedQuery<K> = WatchQuery & { name: K }

/** A plain copy of a query (a reactive one would reach the store as proxies), with only the fields it has. */
function plainQuery(query: WatchQuery): WatchQuery {
  const { status, name, limit } = toRaw(query)
  const out: WatchQuery = {}
  if (status !== undefined) out.status = Array.isArray(status) ? [...(toRaw(status) as JobStatus[])] : status
  if (name !== undefined) out.name = name
  if (limit !== undefined) out.limit = limit
  return out
}

/**
 * A live job list: `queue.watch(query)` (the jobs `queue.list(query)` gives, newest first,
 * without `data` and `result`), re-read on every change of membership in any tab, with
 * progress patched in; the refs change at most once per animation frame. A job that did not
 * change keeps its snapshot object, so a keyed `v-for` row of another job does not render
 * again; components watching the same query share one read.
 *
 * A query with a task `name` narrows the snapshots to that task's; without it, test
 * `job.name` to narrow each one.
 *
 * @param query - `status` (one or several), `name`, `limit` (100 by default); a ref, a
 *   getter or a reactive object is followed, compared by value
 * @returns refs `{ jobs, state, error }` (see {@link LiveJobsRefs})
 * @example
 * ```ts
 * import { defineComponent, h } from 'vue'
 * import { useJobs } from 'offthread/vue'
 *
 * const Running = defineComponent(() => {
 *   const { jobs, state } = useJobs(queue, { status: 'running' })
 *   return () =>
 *     state.value === 'loading'
 *       ? h('p', 'Loading…')
 *       : h('ul', jobs.value.map((job) => h('li', { key: job.id }, `${job.name}: ${String(job.progress ?? '')}`)))
 * })
 * ```
 */
// A getter, a ref and an object each have an overload: through `MaybeRefOrGetter`, TypeScript infers no `K` from a getter or a
// ref, and a getter tried against the object's overload first keeps its name widened to `string`.
export function useJobs<T extends TaskMap, K extends TaskName<T>>(
  queue: Queue<T>,
  query: () => NamedQuery<K>,
): LiveJobsRefs<Listed<AnySnapshot<Pick<T, K>>>>
export function useJobs<T extends TaskMap, K extends TaskName<T>>(
  queue: Queue<T>,
  query: Ref<NamedQuery<K>>,
): LiveJobsRefs<Listed<AnySnapshot<Pick<T, K>>>>
export function useJobs<T extends TaskMap, K extends TaskName<T>>(
  queue: Queue<T>,
  query: NamedQuery<K>,
): LiveJobsRefs<Listed<AnySnapshot<Pick<T, K>>>>
export function useJobs<T extends TaskMap>(queue: Queue<T>, query?: MaybeRefOrGetter<WatchQuery>): LiveJobsRefs<Listed<AnySnapshot<T>>>
export function useJobs<T extends TaskMap>(queue: Queue<T>, query: MaybeRefOrGetter<WatchQuery> = {}): LiveJobsRefs<Listed<AnySnapshot<T>>> {
  const raw = toRaw(queue)
  // Keyed by the query's value: a new object with the same filters keeps the same list.
  const key = (): string => queryKey(toValue(query))
  const { value, state, error } = useLive(() => raw.watch(plainQuery(toValue(query))), key, EMPTY)
  return { jobs: value, state, error }
}

/** What `useCounts` gives: the counts, with where they stand. */
export interface LiveCountsRefs {
  /** Jobs by status: all zero until read. */
  readonly counts: ReadRef<Readonly<Record<JobStatus, number>>>
  readonly state: ReadRef<LiveState>
  readonly error: ReadRef<Error | undefined>
}

/**
 * The queue's job counts by status (`queue.watchCounts()`), live across tabs, changing at
 * most once per animation frame.
 *
 * @returns refs `{ counts, state, error }`: all zero and `'loading'` until first read
 * @example
 * ```ts
 * const { counts } = useCounts(queue)
 * return () => h('span', `${counts.value.running} running, ${counts.value.waiting} waiting`)
 * ```
 */
export function useCounts<T extends TaskMap>(queue: Queue<T>): LiveCountsRefs {
  const raw = toRaw(queue)
  const { value, state, error } = useLive(
    () => raw.watchCounts(),
    () => raw,
    ZERO_COUNTS,
  )
  return { counts: value, state, error }
}

/**
 * Whether this tab runs the queue's jobs: `'runner'` (it holds the runner lock) or
 * `'follower'`; changes when it takes over. A server render says `'follower'`: only a tab
 * can hold the lock.
 *
 * @example
 * ```ts
 * const role = useRole(queue)
 * return () => h('small', role.value === 'runner' ? 'running jobs here' : 'another tab runs the jobs')
 * ```
 */
export function useRole<T extends TaskMap>(queue: Queue<T>): ReadRef<QueueRole> {
  const raw = toRaw(queue)
  const role = shallowRef<QueueRole>('follower')
  if (live()) {
    const off = raw.on('role', (next) => (role.value = next))
    role.value = raw.role
    onScopeDispose(off)
  }
  return readOnly(role)
}

/**
 * The queue's latest trouble (its `error` event: a worker that cannot start, storage that
 * is full or held by another tab), until it clears: a `StorageBlockedError` with
 * `blocked: false` clears the one it answers. Undefined while all is well (and in a server
 * render).
 *
 * @example
 * ```ts
 * const error = useQueueError(queue)
 * return () => (error.value ? h('p', { role: 'alert' }, error.value.message) : null)
 * ```
 */
export function useQueueError<T extends TaskMap>(queue: Queue<T>): ReadRef<Error | undefined> {
  const error = shallowRef<Error | undefined>(undefined)
  if (live()) {
    const store = queueErrors(toRaw(queue) as unknown as Queue<TaskMap>)
    const off = store.subscribe(() => (error.value = store.getSnapshot()))
    error.value = store.getSnapshot()
    onScopeDispose(off)
  }
  return readOnly(error)
}
