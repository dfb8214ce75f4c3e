/**
 * JobHandle: a live view of one job. Its status and progress follow the
 * queue's events (no polling); `result()` and `wait()` settle on the event
 * that ends the job.
 */
import { JobCancelledError, JobFailedError, deserializeError } from '../shared/errors.js'
import type { JobRecord, StoredJob } from '../store/store.js'
import { clearLongTimeout, setLongTimeout, type LongTimer } from '../shared/timers.js'
import { FrameBatch } from '../shared/frame.js'
import { isFinal, type ErrorRecord, type JobSnapshot, type JobStatus, type LogEntry, type Progress, type SerializedError } from '../shared/types.js'

/** Listeners of a handle's events. */
export interface JobHandleEvents<R = unknown, P = Progress> {
  /** The status changed; the listener gets the new snapshot. */
  status: (snapshot: JobSnapshot<R, P>) => void
  /** New progress. */
  progress: (progress: P, snapshot: JobSnapshot<R, P>) => void
  /** A log line, once it is stored. */
  log: (entry: LogEntry, snapshot: JobSnapshot<R, P>) => void
}

/** Options of `result()` and `wait()`. */
export interface WaitOptions {
  /** Reject with a `TimeoutError` `DOMException` after this many ms. */
  timeout?: number
  /** Reject with the signal's reason when it aborts. */
  signal?: AbortSignal
}

/**
 * A live handle on one job, from `add`, `addBulk` or `getJob`.
 *
 * @typeParam R - the task's result
 * @typeParam P - the task's progress (`TaskContext<State, P>` in its handler), else `number | object`
 */
export interface JobHandle<R = unknown, P = Progress> {
  readonly id: string
  readonly name: string
  /** Live: kept current by events. */
  readonly status: JobStatus
  readonly progress: P | undefined
  readonly attempt: number
  readonly createdAt: number
  readonly runAt: number
  /** The last failure. */
  readonly error: SerializedError | undefined
  readonly dependencies: readonly string[]
  /** The job's output; rejects `JobFailedError` (cause: the worker's error), `JobCancelledError`, or a `TimeoutError`. */
  result(options?: WaitOptions): Promise<R>
  /** The final snapshot, whatever the outcome. */
  wait(options?: WaitOptions): Promise<JobSnapshot<R, P>>
  /** Cancels the job; false when it was already final. */
  cancel(reason?: string): Promise<boolean>
  /** Whether the job is final. */
  isDone(): boolean
  /** The persisted log. */
  logs(): Promise<LogEntry[]>
  /** One record per failed (or interrupted) attempt. */
  errors(): Promise<ErrorRecord[]>
  /** Ids of jobs that depend on this one. */
  dependents(): Promise<string[]>
  /** Re-reads the job's state (not its data) from the store. */
  refresh(): Promise<JobSnapshot<R, P>>
  /** The job's input, read from the store on demand (a handle from `add` has it in hand). */
  data(): Promise<unknown>
  /** The stored results of the job's durable steps (`ctx.step`), by step id. */
  steps(): Promise<Record<string, unknown>>
  /** Listens to `status`, `progress` or `log`; returns the unsubscribe function. */
  on<K extends keyof JobHandleEvents<R, P>>(event: K, listener: JobHandleEvents<R, P>[K]): () => void
  /**
   * Store contract (React's `useSyncExternalStore`, Svelte's stores): calls `listener`
   * at once with the current snapshot, then on every change, at most once per animation
   * frame. Returns the unsubscribe function.
   */
  subscribe(listener: (snapshot: JobSnapshot<R, P>) => void): () => void
  /** The current snapshot: the same object until the job changes (and, while subscribed, until the next frame tells it). */
  getSnapshot(): JobSnapshot<R, P>
  /** The current snapshot. */
  toJSON(): JobSnapshot<R, P>
}

/** What a handle asks of its queue. */
export interface HandleHost {
  cancel(id: string, reason: string | undefined): Promise<boolean>
  logs(id: string): Promise<LogEntry[]>
  errors(id: string): Promise<ErrorRecord[]>
  /** The job's metadata and result, without its data. */
  read(id: string): Promise<StoredJob | undefined>
  /** The job's input, read from the store (a chain step's: the result of the step before it). */
  data(job: JobRecord): Promise<unknown>
  /** As {@link HandleHost.data}, each large binary read only up to its first `items` elements (a `BinaryHead`). */
  dataHead(job: JobRecord, items: number): Promise<unknown>
  /** The job's stored durable steps. */
  steps(id: string): Promise<Record<string, unknown>>
  dependents(id: string): Promise<string[]>
  /** Holds the handle strongly while it has waiters or listeners. */
  pin(handle: object, pinned: boolean): void
  /** Why waiting cannot go on (the queue closed), or undefined. */
  closedError(): Error | undefined
}

interface Waiter {
  resolve: (snapshot: JobSnapshot) => void
  reject: (error: unknown) => void
}

/** Builds a snapshot from a stored record and the values held beside it. */
export function toSnapshot<R>(job: JobRecord, data: unknown, result?: unknown): JobSnapshot<R> {
  const snapshot: JobSnapshot<R> = {
    id: job.id,
    name: job.name,
    queue: job.queue,
    status: job.status,
    attempt: job.attempt,
    priority: job.priority,
    createdAt: job.createdAt,
    runAt: job.runAt,
    dependencies: [...job.dependencies],
  }
  // The data only where it is in hand (read on demand otherwise: `handle.data()`, `list({ data: true })`).
  if (data !== undefined) snapshot.data = data
  if (job.status === 'completed' && result !== undefined) snapshot.result = result as R
  if (job.error !== undefined) snapshot.error = job.error
  if (job.progress !== undefined) snapshot.progress = job.progress
  if (job.key !== undefined) snapshot.key = job.key
  if (job.seq !== undefined) snapshot.seq = job.seq
  if (job.startedAt !== undefined) snapshot.startedAt = job.startedAt
  if (job.finishedAt !== undefined) snapshot.finishedAt = job.finishedAt
  if (job.version !== undefined) snapshot.version = job.version
  // Why it does not start: a reason of its status only (one written while waiting is stale once it runs).
  const why = job.waitingFor
  if (
    why &&
    (job.status === 'waiting'
      ? why === 'release' || why === 'network' || why === 'group'
      : job.status === 'delayed' && (why === 'sleep' || why === 'signal'))
  ) {
    snapshot.waitingFor = why
    if (why === 'signal' && job.signal !== undefined) snapshot.signal = job.signal
  }
  if (job.options.group !== undefined) snapshot.group = job.options.group
  if (job.batch !== undefined) snapshot.batch = job.batch
  return snapshot
}

/** The error `result()` rejects with for a job that did not complete. */
export function outcomeError(snapshot: JobSnapshot): Error {
  if (snapshot.status === 'cancelled') {
    const error = snapshot.error ? deserializeError(snapshot.error) : undefined
    return error instanceof JobCancelledError ? error : new JobCancelledError('The job was cancelled', { cause: error })
  }
  const cause = snapshot.error ? deserializeError(snapshot.error) : undefined
  return new JobFailedError(`Job ${snapshot.id} (${snapshot.name}) failed${cause ? `: ${cause.name}: ${cause.message}` : ''}`, { cause }, snapshot.id)
}

/** The one handle object of a job id in this tab. */
export class Handle<R = unknown> implements JobHandle<R> {
  #host: HandleHost
  #job: JobRecord
  #data: unknown
  #result: unknown
  #waiters = new Set<Waiter>()
  /** What `getSnapshot()` returns: kept until the job changes (and, while subscribed, until the frame that tells it). */
  #snapshot: JobSnapshot<R> | undefined
  #subscribers = new Set<(snapshot: JobSnapshot<R>) => void>()
  #frame = new FrameBatch(() => this.#publish())
  #listeners = {
    status: new Set<JobHandleEvents<R>['status']>(),
    progress: new Set<JobHandleEvents<R>['progress']>(),
    log: new Set<JobHandleEvents<R>['log']>(),
  }

  constructor(host: HandleHost, job: JobRecord, data: unknown, result?: unknown) {
    this.#host = host
    this.#job = job
    this.#data = data
    this.#result = result
  }

  get id(): string {
    return this.#job.id
  }
  get name(): string {
    return this.#job.name
  }
  get status(): JobStatus {
    return this.#job.status
  }
  get progress(): Progress | undefined {
    return this.#job.progress
  }
  get attempt(): number {
    return this.#job.attempt
  }
  get createdAt(): number {
    return this.#job.createdAt
  }
  get runAt(): number {
    return this.#job.runAt
  }
  get error(): SerializedError | undefined {
    return this.#job.error
  }
  get dependencies(): readonly string[] {
    return this.#job.dependencies
  }

  isDone(): boolean {
    return isFinal(this.#job.status)
  }

  toJSON(): JobSnapshot<R> {
    return toSnapshot<R>(this.#job, this.#data, this.#result)
  }

  getSnapshot(): JobSnapshot<R> {
    return (this.#snapshot ??= this.toJSON())
  }

  subscribe(listener: (snapshot: JobSnapshot<R>) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError(`subscribe(listener): expected a function, received ${typeof listener}`)
    this.#subscribers.add(listener)
    this.#repin()
    safely(() => listener(this.getSnapshot()))
    return () => {
      this.#subscribers.delete(listener)
      this.#repin()
    }
  }

  /** The job changed: subscribers hear of it at the next frame; without any, the next `getSnapshot()` is fresh. */
  #changed(): void {
    if (this.#subscribers.size === 0) this.#snapshot = undefined
    else this.#frame.schedule()
  }

  #publish(): void {
    const next = this.toJSON()
    const before = this.#snapshot
    if (before && sameSnapshot(before, next)) return
    this.#snapshot = next
    for (const listener of [...this.#subscribers]) safely(() => listener(next))
  }

  /**
   * Takes a newer view of the job (by revision) and tells listeners and waiters.
   * Internal: called by the queue on every committed change.
   */
  update(job: JobRecord, extra: { data?: unknown; result?: unknown; hasData?: boolean } = {}): void {
    if (job.rev < this.#job.rev) return
    const before = this.#job
    this.#job = job
    if (extra.hasData) this.#data = extra.data
    if (job.status === 'completed' && 'result' in extra) this.#result = extra.result
    this.#changed()
    if (job.progress !== before.progress && job.progress !== undefined) {
      for (const listener of this.#listeners.progress) safely(() => listener(job.progress as Progress, this.toJSON()))
    }
    if (job.status !== before.status) {
      for (const listener of this.#listeners.status) safely(() => listener(this.toJSON()))
    }
    if (this.isDone()) this.#settle()
  }

  /** Internal: a log line was stored. */
  logged(entry: LogEntry): void {
    for (const listener of this.#listeners.log) safely(() => listener(entry, this.toJSON()))
  }

  /** Internal: the queue closed; waiting cannot go on. */
  abandon(error: Error): void {
    for (const waiter of this.#waiters) waiter.reject(error)
    this.#waiters.clear()
    this.#repin()
  }

  wait(options: WaitOptions = {}): Promise<JobSnapshot<R>> {
    if (this.isDone()) return Promise.resolve(this.toJSON())
    const closed = this.#host.closedError()
    if (closed) return Promise.reject(closed)
    const { signal, timeout } = options
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout >= 0))) {
      return Promise.reject(new RangeError(`Invalid option "timeout": expected a number of ms ≥ 0, received ${String(timeout)}`))
    }
    return new Promise<JobSnapshot<R>>((resolve, reject) => {
      let timer: LongTimer | undefined
      const onAbort = (): void => done(() => reject(signal?.reason))
      const done = (fn: () => void): void => {
        clearLongTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        this.#waiters.delete(waiter)
        this.#repin()
        fn()
      }
      const waiter: Waiter = {
        resolve: (snapshot) => done(() => resolve(snapshot as JobSnapshot<R>)),
        reject: (error) => done(() => reject(error)),
      }
      this.#waiters.add(waiter)
      this.#repin()
      signal?.addEventListener('abort', onAbort, { once: true })
      if (timeout !== undefined) {
        timer = setLongTimeout(
          () => done(() => reject(new DOMException(`Job ${this.id} did not finish within ${timeout} ms`, 'TimeoutError'))),
          timeout,
        )
      }
    })
  }

  async result(options?: WaitOptions): Promise<R> {
    const snapshot = await this.wait(options)
    if (snapshot.status === 'completed') return snapshot.result as R
    throw outcomeError(snapshot)
  }

  cancel(reason?: string): Promise<boolean> {
    if (reason !== undefined && typeof reason !== 'string') {
      return Promise.reject(new TypeError(`cancel(reason): expected a string, received ${typeof reason}`))
    }
    if (this.isDone()) return Promise.resolve(false)
    return this.#host.cancel(this.id, reason)
  }

  logs(): Promise<LogEntry[]> {
    return this.#host.logs(this.id)
  }

  errors(): Promise<ErrorRecord[]> {
    return this.#host.errors(this.id)
  }

  dependents(): Promise<string[]> {
    return this.#host.dependents(this.id)
  }

  async refresh(): Promise<JobSnapshot<R>> {
    const stored = await this.#host.read(this.id)
    if (stored) {
      const { data: _data, result, ...job } = stored
      this.update(job, { result })
    }
    return this.toJSON()
  }

  /** The job's input: the one this handle holds (the adding tab's), else read from the store now (a chain step's is the result of the step before it). */
  async data(): Promise<unknown> {
    return this.#data !== undefined ? this.#data : this.#host.data(this.#job)
  }

  /**
   * The input for a preview (the inspector's detail): the one in hand, else read from the
   * store with each large binary (a Blob there) read only up to its first `items` elements.
   */
  dataHead(items: number): Promise<unknown> {
    return this.#data !== undefined ? Promise.resolve(this.#data) : this.#host.dataHead(this.#job, items)
  }

  steps(): Promise<Record<string, unknown>> {
    return this.#host.steps(this.id)
  }

  on<K extends keyof JobHandleEvents<R>>(event: K, listener: JobHandleEvents<R>[K]): () => void {
    const set = this.#listeners[event] as Set<JobHandleEvents<R>[K]> | undefined
    if (!set) throw new TypeError(`Unknown handle event "${String(event)}": expected status, progress or log`)
    set.add(listener)
    this.#repin()
    return () => {
      set.delete(listener)
      this.#repin()
    }
  }

  #settle(): void {
    if (this.#waiters.size === 0) return
    const snapshot = this.toJSON()
    for (const waiter of [...this.#waiters]) waiter.resolve(snapshot)
  }

  #repin(): void {
    const l = this.#listeners
    this.#host.pin(this, this.#waiters.size + l.status.size + l.progress.size + l.log.size + this.#subscribers.size > 0)
  }
}

/** Whether two snapshots show the same state (a re-read that changed nothing keeps the old object). */
function sameSnapshot(a: JobSnapshot, b: JobSnapshot): boolean {
  return (
    a.status === b.status &&
    a.progress === b.progress &&
    a.attempt === b.attempt &&
    a.error === b.error &&
    a.result === b.result &&
    a.data === b.data &&
    a.runAt === b.runAt &&
    a.startedAt === b.startedAt &&
    a.finishedAt === b.finishedAt
  )
}

function safely(fn: () => void): void {
  try {
    fn()
  } catch (error) {
    if (typeof reportError === 'function') reportError(error)
  }
}
