/**
 * React hooks over the queue's live views: a handle's `subscribe`/`getSnapshot`,
 * `queue.watch(query)`, `queue.watchCounts()` and the queue's `role` event, each
 * read through React's `useSyncExternalStore`. The live views tell their
 * listeners at most once per animation frame, so a component re-renders at most
 * once a frame however fast progress arrives.
 *
 * Hooks only, no JSX: the module needs no JSX transform, and no `react-dom`.
 */
import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from 'react'
import { report } from '../shared/events.js'
import type { JobHandle } from '../queue/handle.js'
import type { LiveStore, WatchQuery } from '../queue/live.js'
import type { Queue } from '../queue/queue.js'
import type { AnySnapshot, JobSnapshot, JobStatus, Progress, QueueRole, TaskMap, TaskName } from '../shared/types.js'

/** What a store gives `useSyncExternalStore`: bound, stable functions. */
interface Bound<V> {
  subscribe: (onChange: () => void) => () => void
  getSnapshot: () => V
}

const noop = (): void => undefined

/** `store`'s methods, bound once per store (a new pair each render would resubscribe each render). */
function bind<V>(store: LiveStore<V>): Bound<V> {
  return { subscribe: (onChange) => store.subscribe(() => onChange()), getSnapshot: () => store.getSnapshot() }
}

/** Reads a live store; `getSnapshot` serves the server render too (the store's value as it is then). */
function useStore<V>({ subscribe, getSnapshot }: Bound<V>): V {
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot)
}

/** Whether `useJob` was given a queue (then the second argument is a job id). */
function isQueue(value: unknown): value is Queue<TaskMap> {
  return typeof value === 'object' && value !== null && typeof (value as { getJob?: unknown }).getJob === 'function'
}

/** What `useJob(queue, id)` found, with what it looked up (so a new id never shows the old job). */
interface Found {
  queue: Queue<TaskMap>
  id: string
  handle: JobHandle | undefined
}

/**
 * The live handle of job `id` of `queue`: undefined until it is read, when there is
 * no such job, and once the job is deleted (a `removed` event, from any tab).
 */
function useLookup(queue: Queue<TaskMap> | undefined, id: string | undefined): JobHandle | undefined {
  const [found, setFound] = useState<Found | undefined>(undefined)
  useEffect(() => {
    if (queue === undefined || id === undefined) return undefined
    let active = true
    // Bumped by every look-up and every removal: only the latest one may answer.
    let turn = 0
    const lookUp = (): void => {
      const mine = ++turn
      queue.getJob(id).then(
        (handle) => {
          if (active && mine === turn) setFound({ queue, id, handle })
        },
        (error: unknown) => {
          // A closed queue has nothing to show; anything else is news.
          if (!(error instanceof Error && error.name === 'QueueClosedError')) report(error)
          if (active && mine === turn) setFound({ queue, id, handle: undefined })
        },
      )
    }
    // Listen first: a removal while the look-up reads is not missed.
    const offRemoved = queue.on('removed', (ids) => {
      if (!ids.includes(id)) return
      turn++
      setFound({ queue, id, handle: undefined })
    })
    // A job added under that id later (a chosen `id`, after it was deleted or before it existed).
    const offAdded = queue.on('added', (job) => {
      if (job.id === id) lookUp()
    })
    lookUp()
    return () => {
      active = false
      offRemoved()
      offAdded()
    }
  }, [queue, id])
  return found !== undefined && found.queue === queue && found.id === id ? found.handle : undefined
}

/** The live snapshot of `handle` (undefined without one). */
function useHandle<R, P>(handle: JobHandle<R, P> | undefined): JobSnapshot<R, P> | undefined {
  const subscribe = useCallback((onChange: () => void) => (handle ? handle.subscribe(() => onChange()) : noop), [handle])
  const getSnapshot = useCallback(() => handle?.getSnapshot(), [handle])
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot)
}

/**
 * A job's live snapshot, re-rendered when the job changes (at most once per
 * animation frame, however fast its progress comes).
 *
 * - `useJob(handle)`: the snapshot of a handle (from `add`, `addBulk`, `getJob`),
 *   typed by it (`JobHandle<R, P>` gives `JobSnapshot<R, P>`); undefined for an
 *   undefined handle.
 * - `useJob(queue, id)`: the job of that id, looked up with `queue.getJob(id)`:
 *   undefined until it is read, when there is no such job, and once it is
 *   deleted (`remove`, `clean` or retention, in any tab).
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
 *   const job = useJob(queue, id)
 *   return h('p', null, job ? job.status : 'no such job')
 * }
 * ```
 */
export function useJob<R, P>(handle: JobHandle<R, P>): JobSnapshot<R, P>
export function useJob<R, P>(handle: JobHandle<R, P> | undefined): JobSnapshot<R, P> | undefined
// `Queue<any>`: any typed queue, with `R` still given by the caller (a `Queue<TaskMap>` would refuse a `Queue<Tasks>`).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function useJob<R = unknown>(queue: Queue<any>, id: string | undefined): JobSnapshot<R> | undefined
export function useJob(source: JobHandle | Queue<TaskMap> | undefined, id?: string): JobSnapshot | undefined {
  // The same hooks, in the same order, whichever form is used.
  const byId = isQueue(source)
  const found = useLookup(byId ? source : undefined, byId ? id : undefined)
  return useHandle<unknown, Progress>(byId ? found : source)
}

/** A key that is the same for queries that are the same (so the hook watches once, not once a render). */
function queryKey({ status, name, limit }: WatchQuery): string {
  return JSON.stringify([status ?? null, name ?? null, limit === undefined ? null : String(limit)])
}

/**
 * A live job list: `queue.watch(query)` (the jobs `queue.list(query)` gives,
 * newest first), re-read on every change of membership in any tab, with progress
 * patched in; re-rendered at most once per animation frame. The list is empty
 * until it has been read.
 *
 * A query with a task `name` narrows the snapshots to that task's; without it,
 * test `job.name` to narrow each one.
 *
 * @param query - `status` (one or several), `name`, `limit` (100 by default); compared
 *   by value, so an inline object literal does not resubscribe on each render
 * @example
 * ```ts
 * import { createElement as h } from 'react'
 * import { useJobs } from 'offthread/react'
 *
 * function Running() {
 *   const running = useJobs(queue, { status: 'running' })
 *   return h('ul', null, running.map((job) => h('li', { key: job.id }, `${job.name}: ${String(job.progress ?? '')}`)))
 * }
 * ```
 */
export function useJobs<T extends TaskMap, K extends TaskName<T>>(
  queue: Queue<T>,
  query: WatchQuery & { name: K },
): readonly AnySnapshot<Pick<T, K>>[]
export function useJobs<T extends TaskMap>(queue: Queue<T>, query?: WatchQuery): readonly AnySnapshot<T>[]
export function useJobs<T extends TaskMap>(queue: Queue<T>, query: WatchQuery = {}): readonly AnySnapshot<T>[] {
  const key = queryKey(query)
  // Keyed by the query's value, not its identity: `query` itself is read only when the key changes.
  const store = useMemo(() => bind(queue.watch(query)), [queue, key])
  return useStore(store)
}

/**
 * The queue's job counts by status (`queue.watchCounts()`), live across tabs,
 * re-rendered at most once per animation frame. All zero until first read.
 *
 * @example
 * ```ts
 * import { createElement as h } from 'react'
 * import { useCounts } from 'offthread/react'
 *
 * function Badge() {
 *   const counts = useCounts(queue)
 *   return h('span', null, `${counts.running} running, ${counts.waiting} waiting`)
 * }
 * ```
 */
export function useCounts<T extends TaskMap>(queue: Queue<T>): Readonly<Record<JobStatus, number>> {
  const store = useMemo(() => bind(queue.watchCounts()), [queue])
  return useStore(store)
}

/**
 * Whether this tab runs the queue's jobs: `'runner'` (it holds the runner lock)
 * or `'follower'`; re-rendered when it takes over.
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
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot)
}
