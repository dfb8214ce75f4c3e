/**
 * React hooks over the queue's live views: a handle's `subscribe`/`getSnapshot`,
 * `queue.watch(query)`, `queue.watchCounts()` and the queue's `role` event, each
 * read through React's `useSyncExternalStore`. The live views tell their
 * listeners at most once per animation frame, so a component re-renders at most
 * once a frame however fast progress arrives.
 *
 * Hooks only, no JSX: the module needs no JSX transform, and no `react-dom`.
 */
import { useCallback, useMemo, useSyncExternalStore } from 'react'
import type { JobHandle } from '../queue/handle.js'
import { LOADING_JOB } from '../queue/live-job.js'
import type { JobLookup, LiveResult, LiveState, LiveStore, WatchQuery } from '../queue/live.js'
import type { Queue } from '../queue/queue.js'
import { isQueue, NO_ID, queryKey, ZERO_COUNTS } from './binding.js'
import { queueErrors } from './queue-errors.js'
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

export type { JobLookup, JobLookupState, LiveState } from '../queue/live.js'

const noop = (): void => undefined

/** What a server render shows (and a hydrating client first): nothing read yet. */
const serverLookup = (): JobLookup => LOADING_JOB

/** The live snapshot of `handle` (undefined without one). */
function useHandle<R, P>(handle: JobHandle<R, P> | undefined): JobSnapshot<R, P> | undefined {
  const subscribe = useCallback((onChange: () => void) => (handle ? handle.subscribe(() => onChange()) : noop), [handle])
  const getSnapshot = useCallback(() => handle?.getSnapshot(), [handle])
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot)
}

/**
 * A job, live, re-rendered when it changes (at most once per animation frame, however
 * fast its progress comes).
 *
 * - `useJob(handle)`: the snapshot of a handle (from `add`, `addBulk`, `getJob`),
 *   typed by it (`JobHandle<R, P>` gives `JobSnapshot<R, P>`); undefined for an
 *   undefined handle.
 * - `useJob(queue, id, name?)`: the job of that id (`queue.watchJob(id, name)`), as
 *   `{ state, job, handle, error }`: `state` is `'loading'` until it is read (and in a
 *   server render), `'ready'` with its snapshot `job` and live `handle` (for
 *   `handle.cancel()`), `'missing'` (no such job; with `name`, none of that task, and
 *   the snapshot is typed by it, as `getJob(id, name)` is), `'deleted'` once deleted
 *   in any tab, or `'error'` when the read failed (`error` says why).
 *
 * @example
 * ```ts
 * import { createElement as h } from 'react'
 * import { useJob } from 'offthread/react'
 *
 * function Upload({ handle }: { handle: JobHandle<string, number> }) {
 *   const job = useJob(handle)
 *   return h('p', null, job.status === 'completed' ? job.result : `${job.progress ?? 0} %`)
 * }
 *
 * function JobById({ id }: { id: string }) {
 *   const { state, job, handle } = useJob(queue, id, 'resize')
 *   if (state !== 'ready') return h('p', null, state)
 *   return h('button', { onClick: () => void handle.cancel() }, `Cancel (${job.progress ?? 0} %)`)
 * }
 * ```
 */
export function useJob<R, P>(handle: JobHandle<R, P>): JobSnapshot<R, P>
export function useJob<R, P>(handle: JobHandle<R, P> | undefined): JobSnapshot<R, P> | undefined
export function useJob<T extends TaskMap, K extends TaskName<T>>(
  queue: Queue<T>,
  id: string | undefined,
  name: K,
): JobLookup<TaskOutput<T[K]>, TaskProgress<T[K]>>
// `Queue<any>`: any typed queue, with `R` still given by the caller (a `Queue<TaskMap>` would refuse a `Queue<Tasks>`).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function useJob<R = unknown>(queue: Queue<any>, id: string | undefined): JobLookup<R>
export function useJob(source: JobHandle | Queue<TaskMap> | undefined, id?: string, name?: string): JobSnapshot | JobLookup | undefined {
  // The same hooks, in the same order, whichever form is used.
  const queue = isQueue(source) ? source : undefined
  const store = useMemo(() => (queue && id !== undefined ? queue.watchJob(id, name as string) : undefined), [queue, id, name])
  const subscribe = useCallback((onChange: () => void) => (store ? store.subscribe(() => onChange()) : noop), [store])
  const getSnapshot = useCallback((): JobLookup => (store ? store.getSnapshot() : NO_ID), [store])
  const lookup = useSyncExternalStore(subscribe, getSnapshot, store ? serverLookup : getSnapshot)
  const snapshot = useHandle<unknown, Progress>(queue ? undefined : (source as JobHandle | undefined))
  return queue ? lookup : snapshot
}

/** A live value with its state, read through `useSyncExternalStore` (the server and a hydrating client: `server`). */
function useLive<V>(store: LiveStore<V>, server: LiveResult<V>): LiveResult<V> {
  const subscribe = useCallback((onChange: () => void) => store.subscribeResult(() => onChange()), [store])
  const getSnapshot = useCallback(() => store.getResult(), [store])
  return useSyncExternalStore(subscribe, getSnapshot, () => server)
}

/** What `useJobs` gives: the list, with where it stands. */
export interface LiveJobs<S> {
  /** The jobs, newest first: empty until read; the last list read while `state` is `'error'`. */
  readonly jobs: readonly S[]
  /** `'loading'` until first read (and in a server render), `'ready'`, or `'error'` when the last read failed. */
  readonly state: LiveState
  readonly error: Error | undefined
}

const EMPTY_LIST: LiveResult<readonly never[]> = Object.freeze({ value: Object.freeze([]), state: 'loading', error: undefined })

/**
 * A live job list: `queue.watch(query)` (the jobs `queue.list(query)` gives,
 * newest first, without `data` and `result`), re-read on every change of membership
 * in any tab, with progress patched in; re-rendered at most once per animation frame.
 * A job that did not change keeps its snapshot object, so `React.memo` rows of other
 * jobs do not render again; components watching the same query share one read.
 *
 * A query with a task `name` narrows the snapshots to that task's; without it,
 * test `job.name` to narrow each one.
 *
 * @param query - `status` (one or several), `name`, `limit` (100 by default); compared
 *   by value, so an inline object literal does not resubscribe on each render
 * @returns `{ jobs, state, error }` (see {@link LiveJobs})
 * @example
 * ```ts
 * import { createElement as h } from 'react'
 * import { useJobs } from 'offthread/react'
 *
 * function Running() {
 *   const { jobs, state } = useJobs(queue, { status: 'running' })
 *   if (state === 'loading') return h('p', null, 'Loading…')
 *   return h('ul', null, jobs.map((job) => h('li', { key: job.id }, `${job.name}: ${String(job.progress ?? '')}`)))
 * }
 * ```
 */
export function useJobs<T extends TaskMap, K extends TaskName<T>>(
  queue: Queue<T>,
  query: WatchQuery & { name: K },
): LiveJobs<Listed<AnySnapshot<Pick<T, K>>>>
export function useJobs<T extends TaskMap>(queue: Queue<T>, query?: WatchQuery): LiveJobs<Listed<AnySnapshot<T>>>
export function useJobs<T extends TaskMap>(queue: Queue<T>, query: WatchQuery = {}): LiveJobs<Listed<AnySnapshot<T>>> {
  const key = queryKey(query)
  // Keyed by the query's value, not its identity: `query` itself is read only when the key changes.
  const store = useMemo(() => queue.watch(query), [queue, key])
  const result = useLive(store, EMPTY_LIST)
  return useMemo(() => ({ jobs: result.value, state: result.state, error: result.error }), [result])
}

/** What `useCounts` gives: the counts, with where they stand. */
export interface LiveCounts {
  /** Jobs by status: all zero until read. */
  readonly counts: Readonly<Record<JobStatus, number>>
  readonly state: LiveState
  readonly error: Error | undefined
}

const LOADING_COUNTS: LiveResult<Readonly<Record<JobStatus, number>>> = Object.freeze({ value: ZERO_COUNTS, state: 'loading', error: undefined })

/**
 * The queue's job counts by status (`queue.watchCounts()`), live across tabs,
 * re-rendered at most once per animation frame.
 *
 * @returns `{ counts, state, error }`: all zero and `'loading'` until first read
 * @example
 * ```ts
 * import { createElement as h } from 'react'
 * import { useCounts } from 'offthread/react'
 *
 * function Badge() {
 *   const { counts } = useCounts(queue)
 *   return h('span', null, `${counts.running} running, ${counts.waiting} waiting`)
 * }
 * ```
 */
export function useCounts<T extends TaskMap>(queue: Queue<T>): LiveCounts {
  const store = useMemo(() => queue.watchCounts(), [queue])
  const result = useLive(store, LOADING_COUNTS)
  return useMemo(() => ({ counts: result.value, state: result.state, error: result.error }), [result])
}

/**
 * Whether this tab runs the queue's jobs: `'runner'` (it holds the runner lock)
 * or `'follower'`; re-rendered when it takes over. A server render (and a hydrating
 * client's first render) says `'follower'`: only a tab can hold the lock.
 *
 * @example
 * ```ts
 * import { createElement as h } from 'react'
 * import { useRole } from 'offthread/react'
 *
 * function RoleBadge() {
 *   return h('small', null, useRole(queue) === 'runner' ? 'running jobs here' : 'another tab runs the jobs')
 * }
 * ```
 */
export function useRole<T extends TaskMap>(queue: Queue<T>): QueueRole {
  const subscribe = useCallback((onChange: () => void) => queue.on('role', () => onChange()), [queue])
  const getSnapshot = useCallback(() => queue.role, [queue])
  return useSyncExternalStore(subscribe, getSnapshot, serverRole)
}

const serverRole = (): QueueRole => 'follower'

/**
 * The queue's latest trouble (its `error` event: a worker that cannot start, storage
 * that is full or held by another tab), until it clears: a `StorageBlockedError` with
 * `blocked: false` clears the one it answers. Undefined while all is well (and in a
 * server render).
 *
 * @example
 * ```ts
 * const error = useQueueError(queue)
 * return error ? h('p', { role: 'alert' }, error.message) : null
 * ```
 */
export function useQueueError<T extends TaskMap>(queue: Queue<T>): Error | undefined {
  const store = useMemo(() => queueErrors(queue as unknown as Queue<TaskMap>), [queue])
  return useSyncExternalStore(store.subscribe, store.getSnapshot, serverError)
}

const serverError = (): Error | undefined => undefined
