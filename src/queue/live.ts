/**
 * Live queries for UI code: `queue.watch(query)` (a job list) and
 * `queue.watchCounts()`, each a store in the shape React's
 * `useSyncExternalStore` and Svelte's stores take: `getSnapshot()` returns the
 * same value until something changes, `subscribe(listener)` calls the listener
 * at once and then on every change, at most once per animation frame.
 *
 * They follow the queue's events, so they hear of changes made in any tab:
 * progress is patched into the list in memory; a change of status, an added
 * or a removed job re-reads the query (an indexed read of one page: list()).
 */
import { report } from '../shared/events.js'
import { FrameBatch } from '../shared/frame.js'
import type { JobHandle } from './handle.js'
import {
  DEFAULT_LIST_LIMIT,
  JOB_STATUSES,
  type JobSnapshot,
  type JobStatus,
  type ListOptions,
  type Progress,
  type QueueEvents,
} from '../shared/types.js'

/** Where a live value stands: not read yet, read, or its last read failed (it keeps its last value). */
export type LiveState = 'loading' | 'ready' | 'error'

/** A live value with where it stands: one object, the same until any of the three changes. */
export interface LiveResult<V> {
  readonly value: V
  readonly state: LiveState
  /** Why the last read failed (`state: 'error'`); cleared by the next read that succeeds. */
  readonly error: Error | undefined
}

/** A value that changes, in the store contract UI frameworks share. */
export interface LiveStore<V> {
  /** The current value: the same object until it changes. */
  getSnapshot(): V
  /**
   * Calls `listener` with the current value now, then after each change (at most once a
   * frame; a change of `state` or `error` counts); returns the unsubscribe function.
   */
  subscribe(listener: (value: V) => void): () => void
  /** Whether the value has been read from the store once (before that it is empty). */
  readonly loaded: boolean
  /** Why the last read failed, until a read succeeds. */
  readonly error: Error | undefined
  /** The value with its state, for views that show loading and errors: the same object until one of them changes. */
  getResult(): LiveResult<V>
  /** As `subscribe`, with {@link getResult}'s object, told of a change of state or error too. */
  subscribeResult(listener: (result: LiveResult<V>) => void): () => void
}

/** A live job list: `queue.watch(query)`. */
export type LiveList<S = JobSnapshot> = LiveStore<readonly S[]>

/** The filters of `queue.watch`: `list()`'s, without `offset` and `data`. */
export type WatchQuery = Pick<ListOptions, 'status' | 'name' | 'limit'>

/** What a live query needs of its queue. */
export interface LiveHost {
  list(query: ListOptions): Promise<JobSnapshot[]>
  counts(): Promise<Record<JobStatus, number>>
  on<K extends keyof QueueEvents>(event: K, listener: QueueEvents[K]): () => void
}

/** The events that tell a job's new status (its snapshot as committed). */
const MOVES = ['started', 'retrying', 'requeued', 'completed', 'failed', 'cancelled'] as const

/** The events after which a list or the counts may have changed. */
const MEMBERSHIP = ['added', 'started', 'retrying', 'requeued', 'completed', 'failed', 'cancelled', 'removed', 'role'] as const

/** Shared by both kinds: listeners, frames, one read at a time. */
abstract class LiveQuery<V> implements LiveStore<V> {
  protected host: LiveHost
  #value: V
  #loaded = false
  #error: Error | undefined
  #result: LiveResult<V> | undefined
  /** The state or error changed since listeners were last told. */
  #restated = false
  #listeners = new Set<(value: V) => void>()
  #offs: Array<() => void> = []
  /** A re-read is needed (a change of membership), beyond in-memory patches. */
  protected stale = true
  #reading = false
  #frame = new FrameBatch(() => this.#flush())

  constructor(host: LiveHost, empty: V) {
    this.host = host
    this.#value = empty
  }

  get loaded(): boolean {
    return this.#loaded
  }

  /** Whether anyone listens. */
  get watched(): boolean {
    return this.#listeners.size > 0
  }

  get error(): Error | undefined {
    return this.#error
  }

  getSnapshot(): V {
    return this.#value
  }

  getResult(): LiveResult<V> {
    const state: LiveState = this.#error ? 'error' : this.#loaded ? 'ready' : 'loading'
    const last = this.#result
    if (last && last.value === this.#value && last.state === state && last.error === this.#error) return last
    this.#result = Object.freeze({ value: this.#value, state, error: this.#error })
    return this.#result
  }

  subscribe(listener: (value: V) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError(`subscribe(listener): expected a function, received ${typeof listener}`)
    return this.#listen(listener, () => listener(this.#value))
  }

  subscribeResult(listener: (result: LiveResult<V>) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError(`subscribeResult(listener): expected a function, received ${typeof listener}`)
    const told = (): void => listener(this.getResult())
    this.#onResult.add(told)
    const off = this.#listen(told, told)
    return () => {
      this.#onResult.delete(told)
      off()
    }
  }

  /** Listeners told of a change of state or error too (subscribeResult's). */
  #onResult = new Set<(value: V) => void>()

  #listen(listener: (value: V) => void, first: () => void): () => void {
    this.#listeners.add(listener)
    if (this.#listeners.size === 1) this.#start()
    try {
      first()
    } catch (error) {
      report(error)
    }
    return () => {
      if (!this.#listeners.delete(listener) || this.#listeners.size > 0) return
      for (const off of this.#offs.splice(0)) off()
      // Unwatched, it may miss changes: the next subscriber reads again.
      this.stale = true
    }
  }

  /** Listens to the queue's events; reads at the next frame. */
  #start(): void {
    for (const event of MEMBERSHIP) this.#offs.push(this.host.on(event, () => this.invalidate()))
    this.#offs.push(this.listen())
    this.stale = true
    this.#frame.schedule()
  }

  /** A change that needs a re-read. */
  protected invalidate(): void {
    this.stale = true
    this.#frame.schedule()
  }

  /** A change patched in memory: tell at the next frame. */
  protected patched(): void {
    this.#frame.schedule()
  }

  /** Extra listeners of a kind (progress, for a list); returns what removes them. */
  protected listen(): () => void {
    return () => undefined
  }

  /** Reads the query from the store. */
  protected abstract read(): Promise<V>
  /** What a read gave, with the parts that did not change taken from `old` (so views keep their objects). */
  protected keep(_old: V, fresh: V): V {
    return fresh
  }
  /** Applies in-memory patches to `value`; returns it unchanged when there are none. */
  protected abstract patch(value: V): V
  /** Whether two values show the same thing (then listeners are not called). */
  protected abstract same(a: V, b: V): boolean

  /** What the last read gave, not yet shown: it is shown at the next frame (one notice per frame at most). */
  #fresh: { value: V } | undefined

  #flush(): void {
    if (this.#listeners.size === 0) return
    if (this.stale && !this.#reading) void this.#read()
    let next = this.#value
    if (this.#fresh) {
      next = this.#fresh.value
      this.#fresh = undefined
    }
    const patched = this.patch(next)
    this.#show(patched === this.#value ? patched : this.keep(this.#value, patched))
  }

  /** When the next read may start: reads take at most a fifth of the time (see #read). */
  #nextReadAt = 0
  /** Reads failed in a row. */
  #failures = 0

  /**
   * Reads the query; its value is shown at the next frame, with what was patched since it
   * began. A read that took `d` ms is followed by the next one no sooner than `4 d` later:
   * with 100,000 jobs in an on-disk Chromium profile one `counts()` takes about a second,
   * and back-to-back reads would hold up the runner's writes (ten times fewer jobs/s).
   */
  async #read(): Promise<void> {
    const wait = this.#nextReadAt - performance.now()
    if (wait > 0) {
      this.#reading = true
      setTimeout(() => {
        this.#reading = false
        this.#frame.schedule()
      }, wait)
      return
    }
    this.stale = false
    this.#reading = true
    const started = performance.now()
    try {
      this.#fresh = { value: await this.read() }
      if (!this.#loaded || this.#error) this.#restated = true
      this.#loaded = true
      this.#error = undefined
      this.#failures = 0
    } catch (error) {
      // A closed queue, a store in trouble: the view keeps its last value, and says why.
      if (!(error instanceof Error && error.name === 'QueueClosedError')) report(error)
      this.#error = error instanceof Error ? error : new Error(String(error))
      this.#restated = true
      // Read again a moment later (sooner if something changes meanwhile), while watched.
      this.stale = true
      this.#nextReadAt = performance.now() + retryDelay(++this.#failures)
    } finally {
      const took = performance.now() - started
      this.#nextReadAt = Math.max(this.#nextReadAt, performance.now() + 4 * took)
      this.#reading = false
      this.#frame.schedule()
    }
  }

  #show(next: V): void {
    const restated = this.#restated
    this.#restated = false
    const same = next === this.#value || this.same(this.#value, next)
    if (same && !restated) return
    if (!same) this.#value = next
    for (const listener of [...this.#listeners]) {
      // A new state with the same value: only who asked for the state hears of it.
      if (same && !this.#onResult.has(listener)) continue
      try {
        listener(next)
      } catch (error) {
        report(error)
      }
    }
  }
}

const EMPTY: readonly never[] = Object.freeze([])

/** How long (ms) a live view waits to read again after `failures` failed reads in a row: 1 s, doubling, 30 s at most. */
function retryDelay(failures: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.min(failures - 1, 5))
}

/** `queue.watch(query)`. */
export class LiveJobList extends LiveQuery<readonly JobSnapshot[]> {
  #query: ListOptions
  /** Progress heard since the last read began, by job id. */
  #progress = new Map<string, Progress>()
  /** Jobs as the status events since the last read began tell them (committed before each event), by id. */
  #moved = new Map<string, JobSnapshot>()
  /** Jobs added since the last read began that the query takes, in the order they were added. */
  #added = new Map<string, JobSnapshot>()
  #statuses: ReadonlySet<string> | undefined

  constructor(host: LiveHost, query: WatchQuery) {
    super(host, EMPTY)
    this.#query = { ...query }
    const { status } = query
    if (status !== undefined) this.#statuses = new Set(typeof status === 'string' ? [status] : status)
  }

  protected override listen(): () => void {
    const moved = (job: JobSnapshot): void => {
      const { data: _data, result: _result, ...listed } = job
      this.#moved.set(job.id, listed)
      this.#progress.delete(job.id)
    }
    const offs = [
      this.host.on('progress', (job, progress) => {
        this.#progress.set(job.id, progress)
        this.patched()
      }),
      ...MOVES.map((event) => this.host.on(event, moved)),
      this.host.on('added', (job) => {
        const { data: _data, result: _result, ...listed } = job
        if (this.#takes(listed)) this.#added.set(job.id, listed)
      }),
    ]
    return () => {
      for (const off of offs) off()
    }
  }

  protected override async read(): Promise<readonly JobSnapshot[]> {
    // What was heard before this read began is in what it reads: dropped once it is back (not
    // before: until then the view shows it), unless heard anew meanwhile.
    const heard = [new Map(this.#progress), new Map(this.#moved), new Map(this.#added)] as const
    const jobs = Object.freeze(await this.host.list(this.#query))
    for (const [i, map] of [this.#progress, this.#moved, this.#added].entries()) {
      for (const [id, value] of heard[i] as Map<string, unknown>) if ((map as Map<string, unknown>).get(id) === value) map.delete(id)
    }
    return jobs
  }

  /** Whether the query takes `job` (its limit aside). */
  #takes(job: JobSnapshot): boolean {
    return (this.#statuses === undefined || this.#statuses.has(job.status)) && (this.#query.name === undefined || this.#query.name === job.name)
  }

  /**
   * What was heard since the last read began goes onto the list at once: a job's new
   * status (it leaves a list filtered by status it no longer has; one that joins comes
   * with the re-read the event asked for, which a slow store may make wait), and its
   * progress. It stays until the next read begins: a read that began before an event
   * may come back with an older value.
   */
  protected override patch(jobs: readonly JobSnapshot[]): readonly JobSnapshot[] {
    if (this.#progress.size === 0 && this.#moved.size === 0 && this.#added.size === 0) return jobs
    let out: JobSnapshot[] | undefined
    let dropped = false
    const listed = new Set(jobs.map((job) => job.id))
    // Added since: newest first, ahead of the rest (a job added later has a greater seq), as far as the limit.
    const added = [...this.#added.values()].filter((job) => !listed.has(job.id)).reverse()
    if (added.length > 0) {
      const limit = this.#query.limit ?? DEFAULT_LIST_LIMIT
      jobs = [...added, ...jobs].slice(0, limit)
      out = [...jobs]
      for (const job of added) listed.add(job.id)
    }
    for (const [i, listedJob] of jobs.entries()) {
      let job = listedJob
      const moved = this.#moved.get(job.id)
      if (moved !== undefined && (moved.status !== job.status || moved.attempt !== job.attempt)) {
        out ??= [...jobs]
        if (this.#statuses && !this.#statuses.has(moved.status)) {
          out[i] = undefined as unknown as JobSnapshot
          dropped = true
          continue
        }
        job = out[i] = moved
      }
      const progress = this.#progress.get(job.id)
      if (progress === undefined || progress === job.progress || job.status !== 'running') continue
      out ??= [...jobs]
      out[i] = { ...job, progress }
    }
    // A job not listed joins the list only by a read, which reads its progress.
    for (const id of this.#progress.keys()) if (!listed.has(id)) this.#progress.delete(id)
    if (!out) return jobs
    return Object.freeze(dropped ? out.filter((job) => job !== undefined) : out)
  }

  /**
   * A job that reads as it did keeps its snapshot object (so a `React.memo` row, a keyed
   * Vue or Svelte item, does not render again), and a list that reads as it did keeps its array.
   */
  protected override keep(old: readonly JobSnapshot[], fresh: readonly JobSnapshot[]): readonly JobSnapshot[] {
    if (old.length === 0) return fresh
    const before = new Map(old.map((job) => [job.id, job]))
    let changed = old.length !== fresh.length
    const out = fresh.map((job, i) => {
      const was = before.get(job.id)
      const kept = was !== undefined && sameSnapshot(was, job) ? was : job
      if (kept !== old[i]) changed = true
      return kept
    })
    return changed ? Object.freeze(out) : old
  }

  protected override same(a: readonly JobSnapshot[], b: readonly JobSnapshot[]): boolean {
    return a.length === b.length && a.every((job, i) => job === b[i])
  }
}

/** Whether two snapshots of a job read alike, field by field (a re-read brings new objects for the same values). */
export function sameSnapshot(a: JobSnapshot, b: JobSnapshot): boolean {
  if (a === b) return true
  const keys = Object.keys(a) as Array<keyof JobSnapshot>
  if (keys.length !== Object.keys(b).length) return false
  for (const key of keys) {
    const x = a[key]
    const y = b[key]
    if (x === y) continue
    if (key === 'dependencies') {
      const xs = x as readonly string[]
      const ys = y as readonly string[] | undefined
      if (!ys || xs.length !== ys.length || xs.some((id, i) => id !== ys[i])) return false
      continue
    }
    // Progress, an error, data or a result: values compared by what they read as.
    if (!sameProgress(x, y)) return false
  }
  return true
}

/**
 * Whether two progress values read alike: a re-read of the list brings new objects for the
 * same progress (`{ phase: 'done' }` again), which must not make a new value for the listeners.
 */
function sameProgress(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  try {
    return JSON.stringify(a) === JSON.stringify(b)
  } catch {
    // A BigInt or a cycle: not comparable this way, so told as a change.
    return false
  }
}

const ZERO = Object.freeze(Object.fromEntries(JOB_STATUSES.map((s) => [s, 0]))) as Readonly<Record<JobStatus, number>>

/** `queue.watchCounts()`. */
export class LiveCounts extends LiveQuery<Readonly<Record<JobStatus, number>>> {
  constructor(host: LiveHost) {
    super(host, ZERO)
  }

  protected override async read(): Promise<Readonly<Record<JobStatus, number>>> {
    return Object.freeze(await this.host.counts())
  }

  protected override patch(counts: Readonly<Record<JobStatus, number>>): Readonly<Record<JobStatus, number>> {
    return counts
  }

  protected override same(a: Readonly<Record<JobStatus, number>>, b: Readonly<Record<JobStatus, number>>): boolean {
    return JOB_STATUSES.every((s) => a[s] === b[s])
  }
}

/** Where a job looked up by id stands: being read, found, no such job, deleted since, or the read failed. */
export type JobLookupState = 'loading' | 'ready' | 'missing' | 'deleted' | 'error'

/** A job looked up by id, live: `queue.watchJob(id)`. The same object until something in it changes. */
export interface JobLookup<R = unknown, P = Progress> {
  readonly state: JobLookupState
  /** The job's snapshot while `state` is `'ready'`. */
  readonly job: JobSnapshot<R, P> | undefined
  /** The job's live handle while `state` is `'ready'`: `cancel()`, `result()`, `logs()`… */
  readonly handle: JobHandle<R, P> | undefined
  /** Why the read failed (`state: 'error'`). */
  readonly error: Error | undefined
}

/** `queue.watchJob(id)`: a job by id, live, in the store contract of the other live views. */
export interface LiveJobStore<R = unknown, P = Progress> {
  readonly id: string
  /** The lookup as it stands: the same object until something in it changes. */
  getSnapshot(): JobLookup<R, P>
  /** Calls `listener` with the lookup now, then after each change (the job's own changes at most once a frame). */
  subscribe(listener: (value: JobLookup<R, P>) => void): () => void
}

/** What a job lookup needs of its queue. */
export interface LiveJobHost {
  getJob(id: string): Promise<JobHandle | undefined>
  on<K extends keyof QueueEvents>(event: K, listener: QueueEvents[K]): () => void
}

const lookup = (state: JobLookupState, handle?: JobHandle, error?: Error): JobLookup =>
  Object.freeze({ state, job: handle?.getSnapshot(), handle, error })

/** Before any read, and what a server render shows. */
export const LOADING_JOB: JobLookup = lookup('loading')

/**
 * `queue.watchJob(id)`: the job of that id, looked up once subscribed, then followed
 * through its handle; `deleted` once a `removed` event (from any tab) names it, and
 * looked up again when a job of that id is added (a chosen `id`, after it was deleted).
 * In the store contract of the other live views (Svelte's `$store`, React's
 * `useSyncExternalStore`); it reads only while subscribed.
 */
export class LiveJob implements LiveJobStore {
  readonly id: string
  #host: LiveJobHost
  #value: JobLookup = LOADING_JOB
  #listeners = new Set<(value: JobLookup) => void>()
  #offs: Array<() => void> = []
  #offHandle: (() => void) | undefined
  /** Bumped by each look-up and each removal: only the latest may answer. */
  #turn = 0

  constructor(host: LiveJobHost, id: string) {
    this.#host = host
    this.id = id
  }

  get watched(): boolean {
    return this.#listeners.size > 0
  }

  getSnapshot(): JobLookup {
    return this.#value
  }

  subscribe(listener: (value: JobLookup) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError(`subscribe(listener): expected a function, received ${typeof listener}`)
    this.#listeners.add(listener)
    if (this.#listeners.size === 1) this.#start()
    try {
      listener(this.#value)
    } catch (error) {
      report(error)
    }
    return () => {
      if (!this.#listeners.delete(listener) || this.#listeners.size > 0) return
      for (const off of this.#offs.splice(0)) off()
      this.#follow(undefined)
      this.#turn++
    }
  }

  #start(): void {
    // Listen first: a removal while the look-up reads is not missed.
    this.#offs.push(
      this.#host.on('removed', (ids) => {
        if (!ids.includes(this.id)) return
        this.#turn++
        this.#follow(undefined)
        if (this.#value.state === 'ready') this.#set(lookup('deleted'))
      }),
      this.#host.on('added', (job) => {
        if (job.id === this.id) this.#lookUp()
      }),
    )
    this.#lookUp()
  }

  #lookUp(): void {
    const turn = ++this.#turn
    this.#host.getJob(this.id).then(
      (handle) => {
        if (turn !== this.#turn) return
        this.#failures = 0
        this.#follow(handle)
        this.#set(handle ? lookup('ready', handle) : lookup('missing'))
      },
      (error: unknown) => {
        if (turn !== this.#turn) return
        this.#follow(undefined)
        this.#set(lookup('error', undefined, error instanceof Error ? error : new Error(String(error))))
        // Look again a moment later, while watched (an `added` or `removed` of it looks sooner).
        setTimeout(() => {
          if (turn === this.#turn && this.watched) this.#lookUp()
        }, retryDelay(++this.#failures))
      },
    )
  }

  /** Look-ups failed in a row. */
  #failures = 0

  /** Follows `handle`'s changes (at most once a frame: the handle's own pace). */
  #follow(handle: JobHandle | undefined): void {
    this.#offHandle?.()
    this.#offHandle = handle?.subscribe((job) => {
      if (this.#value.handle === handle && this.#value.job !== job) this.#set(Object.freeze({ ...this.#value, job }))
    })
  }

  #set(next: JobLookup): void {
    const last = this.#value
    if (next.state === last.state && next.job === last.job && next.handle === last.handle && next.error === last.error) return
    this.#value = next
    for (const listener of [...this.#listeners]) {
      try {
        listener(next)
      } catch (error) {
        report(error)
      }
    }
  }
}

/**
 * Live views shared by key, so that views of the same query share one read: kept while
 * watched, and at most {@link SHARED} of them unwatched.
 */
export class LiveViews {
  #views = new Map<string, { readonly watched: boolean }>()

  get<V extends { readonly watched: boolean }>(key: string, make: () => V): V {
    let view = this.#views.get(key) as V | undefined
    if (!view) {
      view = make()
      this.#views.set(key, view)
      if (this.#views.size > SHARED) {
        for (const [k, v] of this.#views) if (!v.watched && k !== key) this.#views.delete(k)
      }
    }
    return view
  }
}

/** Unwatched live views kept for reuse, at most. */
const SHARED = 64
