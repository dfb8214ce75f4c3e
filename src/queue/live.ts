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
import { JOB_STATUSES, type JobSnapshot, type JobStatus, type ListOptions, type Progress, type QueueEvents } from '../shared/types.js'

/** A value that changes, in the store contract UI frameworks share. */
export interface LiveStore<V> {
  /** The current value: the same object until it changes. */
  getSnapshot(): V
  /** Calls `listener` with the current value now, then after each change (at most once a frame); returns the unsubscribe function. */
  subscribe(listener: (value: V) => void): () => void
  /** Whether the value has been read from the store once (before that it is empty). */
  readonly loaded: boolean
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

/** The events after which a list or the counts may have changed. */
const MEMBERSHIP = ['added', 'started', 'retrying', 'requeued', 'completed', 'failed', 'cancelled', 'removed', 'role'] as const

/** Shared by both kinds: listeners, frames, one read at a time. */
abstract class LiveQuery<V> implements LiveStore<V> {
  protected host: LiveHost
  #value: V
  #loaded = false
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

  getSnapshot(): V {
    return this.#value
  }

  subscribe(listener: (value: V) => void): () => void {
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
    this.#show(this.patch(next))
  }

  /** When the next read may start: reads take at most a fifth of the time (see #read). */
  #nextReadAt = 0

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
      this.#loaded = true
    } catch (error) {
      // A closed queue, a store in trouble: the queue reports it; the view keeps its last value.
      if (!(error instanceof Error && error.name === 'QueueClosedError')) report(error)
    } finally {
      const took = performance.now() - started
      this.#nextReadAt = performance.now() + 4 * took
      this.#reading = false
      this.#frame.schedule()
    }
  }

  #show(next: V): void {
    if (next === this.#value || this.same(this.#value, next)) return
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

const EMPTY: readonly never[] = Object.freeze([])

/** `queue.watch(query)`. */
export class LiveJobList extends LiveQuery<readonly JobSnapshot[]> {
  #query: ListOptions
  /** Progress heard since the last frame, by job id. */
  #progress = new Map<string, Progress>()

  constructor(host: LiveHost, query: WatchQuery) {
    super(host, EMPTY)
    this.#query = { ...query }
  }

  protected override listen(): () => void {
    return this.host.on('progress', (job, progress) => {
      this.#progress.set(job.id, progress)
      this.patched()
    })
  }

  protected override async read(): Promise<readonly JobSnapshot[]> {
    // Progress heard before this read is in what it reads.
    this.#progress.clear()
    return Object.freeze(await this.host.list(this.#query))
  }

  /**
   * Progress heard since the last read began goes onto the list (and stays until the next
   * read begins: a read that began before a report may come back with an older value).
   */
  protected override patch(jobs: readonly JobSnapshot[]): readonly JobSnapshot[] {
    if (this.#progress.size === 0) return jobs
    let out: JobSnapshot[] | undefined
    const listed = new Set<string>()
    for (const [i, job] of jobs.entries()) {
      listed.add(job.id)
      const progress = this.#progress.get(job.id)
      if (progress === undefined || progress === job.progress || job.status !== 'running') continue
      out ??= [...jobs]
      out[i] = { ...job, progress }
    }
    // A job not listed joins the list only by a read, which reads its progress.
    for (const id of this.#progress.keys()) if (!listed.has(id)) this.#progress.delete(id)
    return out ? Object.freeze(out) : jobs
  }

  protected override same(a: readonly JobSnapshot[], b: readonly JobSnapshot[]): boolean {
    if (a.length !== b.length) return false
    return a.every((job, i) => {
      const other = b[i] as JobSnapshot
      return (
        job.id === other.id &&
        job.name === other.name &&
        job.status === other.status &&
        sameProgress(job.progress, other.progress) &&
        job.attempt === other.attempt &&
        job.priority === other.priority &&
        job.runAt === other.runAt &&
        job.startedAt === other.startedAt &&
        job.error?.message === other.error?.message &&
        job.finishedAt === other.finishedAt
      )
    })
  }
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
