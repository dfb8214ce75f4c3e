/**
 * Live queries for UI code: the store contract they keep (`getSnapshot()` returns the
 * same value until something changes, `subscribe(listener)` calls the listener at once
 * and then on every change, at most once per animation frame: React's
 * `useSyncExternalStore` and Svelte's stores take that shape), the reading machinery
 * they share (LiveQuery), and `queue.watchCounts()`. The list is live-list.ts
 * (`queue.watch`), a job by id live-job.ts (`queue.watchJob`).
 *
 * They follow the queue's events, so they hear of changes made in any tab, and re-read
 * the store (an indexed read of one page) when what they show may have changed.
 */
import { report } from '../shared/events.js'
import { FrameBatch } from '../shared/frame.js'
import type { JobHandle } from './handle.js'
import { JOB_STATUSES, type JobSnapshot, type JobStatus, type ListOptions, type Progress, type QueueEvents } from '../shared/types.js'

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

/**
 * The key of a watched query, by value: queries with the same filters share it (a
 * `status` alone or in an array alike), as they share the queue's view.
 */
export function queryKey({ status, name, limit }: WatchQuery): string {
  return JSON.stringify([typeof status === 'string' ? [status] : (status ?? null), name ?? null, limit === undefined ? null : String(limit)])
}

/** What a live query needs of its queue. */
export interface LiveHost {
  list(query: ListOptions): Promise<JobSnapshot[]>
  counts(): Promise<Record<JobStatus, number>>
  on<K extends keyof QueueEvents>(event: K, listener: QueueEvents[K]): () => void
}

/** The events after which a list or the counts may have changed. */
const MEMBERSHIP = ['added', 'started', 'retrying', 'requeued', 'completed', 'failed', 'cancelled', 'removed', 'role'] as const

/** Shared by both kinds: listeners, frames, one read at a time. */
export abstract class LiveQuery<V> implements LiveStore<V> {
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

export const EMPTY: readonly never[] = Object.freeze([])

/** How long (ms) a live view waits to read again after `failures` failed reads in a row: 1 s, doubling, 30 s at most. */
export function retryDelay(failures: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.min(failures - 1, 5))
}

/**
 * Whether two progress values read alike: a re-read of the list brings new objects for the
 * same progress (`{ phase: 'done' }` again), which must not make a new value for the listeners.
 */
export function sameProgress(a: unknown, b: unknown): boolean {
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
