/**
 * The Queue users hold: a thin facade over engines (built in engines.ts, each given
 * what it uses): the queue's state (state.ts), adding jobs (insert.ts), reads and live
 * views (reads.ts), schedules (schedules.ts), other tabs (remote.ts), live handles
 * (live-handles.ts), the one change path (changes.ts), releases (releases.ts) and the
 * runner's seat (seat.ts: the election, and while this tab holds the runner lock, the
 * runner, runner/dispatcher.ts); its close and the waits on it are closing.ts's. Which
 * queue holds a name in this page is open-queues.ts's.
 */
import { Committer } from '../store/committer.js'
import type { FlowHandle } from './flow-handle.js'
import type { ChainOutput, ChainRest, FlowStep, GroupOutput } from './flow.js'
import { QueueClosedError } from '../shared/errors.js'
import { Emitter } from '../shared/events.js'
import type { JobHandle } from './handle.js'
import type { BulkHandles } from './insert.js'
import { invalidOption } from '../shared/options.js'
import { DEFAULTS, resolveQueueOptions, type QueueOptions, type ResolvedQueueOptions } from './options.js'
import { QueueState } from './state.js'
import { resolveClean } from '../runner/retention.js'
import type { Schedule, ScheduleOptions } from '../runner/scheduler.js'
import type { Store } from '../store/store.js'
import { defaultStore, makeEngines, type Engines } from './engines.js'
import { leaveName, observe, takeName } from './open-queues.js'
import type { RunnerRelease } from './releases.js'
import type { LiveJobStore, LiveList, LiveStore, WatchQuery } from './live.js'
import { Closing } from './closing.js'
import { storageFigures } from './reads.js'
import { Channel } from '../tabs/channel.js'
import type {
  AnySnapshot,
  Listed,
  TaskProgress,
  BulkJob,
  JobOptions,
  JobSnapshot,
  ListOptions,
  JobStatus,
  QueueEvents,
  QueueRole,
  TaskInput,
  TaskMap,
  TaskName,
  TaskOutput,
} from '../shared/types.js'

export type { BulkJob, ListOptions, QueueEvents, QueueRole } from '../shared/types.js'

/**
 * Creates a queue. With a `worker` factory this tab runs the jobs on a pool of
 * workers; without one it only adds and observes them.
 *
 * @typeParam T - the worker module's `typeof tasks`, for typed names, data and results
 * @param options - see {@link QueueOptions}; invalid ones throw a `TypeError`/`RangeError` naming the option
 *
 * @example
 * ```ts
 * import { createQueue } from 'offthread'
 * import type { Tasks } from './tasks.worker'
 *
 * const queue = createQueue<Tasks>({
 *   name: 'media',
 *   worker: () => new Worker(new URL('./tasks.worker.ts', import.meta.url), { type: 'module' }),
 * })
 * const job = await queue.add('thumbnail', { image, width: 256 })
 * job.on('progress', (p) => console.log(p))
 * const blob = await job.result()
 * ```
 */
export function createQueue<T extends TaskMap = TaskMap>(options?: QueueOptions): Queue<T> {
  return new Queue<T>(options)
}

/**
 * The queue of `name` open in this page, or else a new one that only observes
 * (no worker: it runs nothing and replaces nothing). For tools that are given a
 * queue's name only (`<offthread-inspector name>`).
 *
 * @returns the queue, and whether the caller made it (and so closes it when done)
 */
export function observeQueue(name: string): { queue: Queue; owned: boolean } {
  return observe(name, () => new Queue({ name }))
}

/** A persistent job queue. Create it with {@link createQueue}. */
export class Queue<T extends TaskMap = TaskMap> {
  #options: ResolvedQueueOptions
  #store: Store
  #committer: Committer
  #events = new Emitter<QueueEvents>()
  #state: QueueState
  #started: boolean
  /** The engines behind the facade (engines.ts). */
  #engines: Engines
  #closing: Closing

  constructor(options?: QueueOptions) {
    this.#options = resolveQueueOptions(options)
    this.#store = this.#options.store ?? defaultStore()
    this.#committer = new Committer(this.#store)
    this.#state = new QueueState(this.#options.name, this.#events, (closed) => void this.#closing.shutdown(0, closed))
    this.#started = this.#options.autostart
    const channel = new Channel(this.#options.name)
    const base = { options: this.#options, store: this.#store, committer: this.#committer, state: this.#state, events: this.#events, channel }
    const engines = (this.#engines = makeEngines(base, () => this.#started))
    this.#closing = new Closing({ ...base, ...engines, leave: () => leaveName(this) })
    // Hot reload: the queue of this name open in this page closes and hands its jobs over, as a closed tab would.
    const replaced = takeName(this, this.#options.replace)
    const open = async (): Promise<void> => {
      await replaced
      await engines.seat.open()
    }
    // Without IndexedDB and without a store of the app's (a server render, a script), nothing
    // stored can wait to be resumed: the queue opens at its first use, and a queue never used
    // (made at module scope, rendered on a server) starts nothing that keeps the process alive.
    if (this.#options.store === undefined && typeof indexedDB === 'undefined') this.#state.deferOpen(open)
    else this.#state.open(open)
  }

  /** The queue's name. */
  get name(): string {
    return this.#options.name
  }

  /** Whether this tab runs the queue's jobs now (it holds the queue's runner lock). */
  get role(): QueueRole {
    return this.#state.runner ? 'runner' : 'follower'
  }

  /** Whether the queue is taking new jobs to run (not paused, not closed). */
  get isRunning(): boolean {
    return this.#state.runner?.active ?? false
  }

  /**
   * Whether this tab's calls are waiting on a database another tab holds (a frozen or
   * stopped page): set and cleared with the `StorageBlockedError`s of the `error` event.
   */
  get storageBlocked(): boolean {
    return this.#engines.seat.storageBlocked
  }

  /**
   * The release of the tab that runs the queue, as it stored it when it took its place
   * (its `version` and its worker module's tasks); undefined until one did (or with a
   * store that keeps no releases). Kept current as runners change.
   */
  get runner(): RunnerRelease | undefined {
    return this.#engines.releases.runner
  }

  /**
   * What the browser says of this origin's storage: whether it is persisted (not evicted
   * under storage pressure), and its usage and quota in bytes. A field is undefined
   * where the engine does not tell (WebKitGTK tells no quota, say).
   */
  storage(): Promise<{ persisted?: boolean; usage?: number; quota?: number }> {
    return storageFigures()
  }

  /**
   * Schedules a repeating job, stored: it fires in the runner tab on its
   * `cron` pattern or `every` ms. Scheduling again with the same `id`
   * replaces the schedule.
   *
   * @example
   * ```ts
   * await queue.schedule('cleanup', { id: 'nightly', cron: '0 3 * * *', data: { days: 30 } })
   * await queue.schedule('poll', { id: 'poll', every: 60_000, data: null })
   * ```
   */
  async schedule<K extends TaskName<T>>(name: K, options: ScheduleOptions<TaskInput<T[K]>>): Promise<Schedule> {
    return this.#engines.schedules.schedule(name, options)
  }

  /** Manage stored schedules: list, pause, resume, remove, trigger (run now). */
  get schedules(): {
    list(): Promise<Schedule[]>
    pause(id: string): Promise<Schedule>
    resume(id: string): Promise<Schedule>
    remove(id: string): Promise<boolean>
    trigger(id: string): Promise<JobHandle>
  } {
    return this.#engines.schedules.manager()
  }

  /**
   * Adds a job: stores it, then dispatches it. Resolves once it is durable.
   *
   * @param name - a task defined in the worker module
   * @param data - the task's input; must be structured-cloneable
   * @param options - see {@link JobOptions}
   * @returns a live handle on the job (the existing job's, for an `id` or `key` already taken)
   * @throws `JobDataError` for data that cannot be cloned, `UnknownTaskError`, `TypeError`/`RangeError` for bad options
   */
  async add<K extends TaskName<T>>(name: K, data: TaskInput<T[K]>, options?: JobOptions): Promise<JobHandle<TaskOutput<T[K]>, TaskProgress<T[K]>>> {
    type Typed = JobHandle<TaskOutput<T[K]>, TaskProgress<T[K]>>
    const debounce = options?.debounce
    if (debounce !== undefined) return (await this.#engines.inserter.debounced(name, data, options as JobOptions)) as unknown as Typed
    const [handle] = await this.#engines.inserter.insert([{ name, data, options }], false)
    return handle as unknown as Typed
  }

  /**
   * Adds many jobs in one transaction: all are stored, or none.
   *
   * @returns the handles, in order
   */
  async addBulk<const J extends readonly BulkJob<T>[]>(jobs: J): Promise<BulkHandles<T, J>> {
    if (!Array.isArray(jobs)) throw invalidOption('jobs', 'an array of { name, data, options? }', jobs)
    return (await this.#engines.inserter.insert(jobs as readonly BulkJob<T>[], true)) as BulkHandles<T, J>
  }

  /**
   * Adds a chain: each step's result is the next step's input (a step that
   * gives its own `data` keeps it). Steps may be nested `{ chain }` and
   * `{ group }` flows. All of it is stored in one transaction; a reload resumes
   * at the step it reached.
   *
   * @param options.id - the flow's id; adding a flow with an id that exists returns that flow
   * @returns a handle whose result is the last step's
   * @example
   * ```ts
   * const flow = await queue.chain([{ name: 'decode', data: file }, { name: 'resize' }, { name: 'encode' }])
   * const blob = await flow.result()
   * ```
   */
  async chain<const S extends readonly FlowStep<T>[]>(steps: S, ...rest: ChainRest<T, S>): Promise<FlowHandle<ChainOutput<T, S>>> {
    const [options = {}] = rest as [{ id?: string }?]
    if (!Array.isArray(steps)) throw invalidOption('steps', 'an array of { name, data?, options? }', steps)
    // Flows' code is imported on first use: a page that adds no flow never loads it.
    const { addFlow } = await import('./flow.js')
    return (await addFlow({ chain: steps }, options, this.#engines.inserter)) as FlowHandle<ChainOutput<T, S>>
  }

  /**
   * Adds a group: its jobs run in parallel, and its result is their results in order.
   *
   * @param options.id - the flow's id; adding a flow with an id that exists returns that flow
   * @example
   * ```ts
   * const sizes = await (await queue.group([{ name: 'resize', data: 256 }, { name: 'resize', data: 512 }])).result()
   * ```
   */
  async group<const G extends readonly FlowStep<T>[]>(jobs: G, options: { id?: string } = {}): Promise<FlowHandle<GroupOutput<T, G>>> {
    if (!Array.isArray(jobs)) throw invalidOption('jobs', 'an array of { name, data, options? }', jobs)
    const { addFlow } = await import('./flow.js')
    return (await addFlow({ group: jobs }, options, this.#engines.inserter)) as FlowHandle<GroupOutput<T, G>>
  }

  /**
   * A live handle for any job, by id.
   *
   * @returns undefined when no job has that id
   */
  getJob<K extends TaskName<T>>(id: string, name: K): Promise<JobHandle<TaskOutput<T[K]>, TaskProgress<T[K]>> | undefined>
  getJob<R = unknown>(id: string): Promise<JobHandle<R> | undefined>
  getJob(id: string, name?: string): Promise<JobHandle | undefined> {
    return this.#engines.reads.job(id, name)
  }

  /**
   * A live query: the jobs `list(query)` gives, kept current by the queue's events
   * (from every tab), for UI code. `getSnapshot()` returns the same array until
   * something changes; `subscribe(listener)` calls the listener at once and after each
   * change, at most once per animation frame. It reads only while subscribed.
   *
   * @example
   * ```ts
   * const running = queue.watch({ status: 'running' })
   * const off = running.subscribe((jobs) => render(jobs))
   * ```
   */
  watch(query: WatchQuery = {}): LiveList<Listed<AnySnapshot<T>>> {
    return this.#engines.reads.watch(query) as unknown as LiveList<Listed<AnySnapshot<T>>>
  }

  /** Live `counts()`, in the store contract of {@link watch}; one for the queue. */
  watchCounts(): LiveStore<Readonly<Record<JobStatus, number>>> {
    return this.#engines.reads.watchCounts()
  }

  /**
   * A job by id, live: `{ state, job, handle, error }`, where `state` is `'loading'`
   * until it is read, `'ready'` (with its snapshot and live handle), `'missing'` (no
   * such job; with `name`, none of that task), `'deleted'` once it is deleted in any
   * tab, or `'error'` (the read failed). In the store contract of {@link watch}.
   *
   * @example
   * ```ts
   * const job = queue.watchJob(id, 'resize')
   * const off = job.subscribe(({ state, job }) => render(state === 'ready' ? job.progress : state))
   * ```
   */
  watchJob<K extends TaskName<T>>(id: string, name: K): LiveJobStore<TaskOutput<T[K]>, TaskProgress<T[K]>>
  watchJob<R = unknown>(id: string): LiveJobStore<R>
  watchJob(id: string, name?: string): LiveJobStore {
    return this.#engines.reads.watchJob(id, name)
  }

  /**
   * Jobs, newest first: at most `limit` (100 by default), without their `data` and
   * `result` unless `data: true`.
   */
  list(options: ListOptions = {}): Promise<JobSnapshot[]> {
    return this.#engines.reads.list(options)
  }

  /**
   * Deletes one job with its data, result, logs and errors; a job not yet
   * finished is cancelled first (a running one through the tab that runs it).
   *
   * @returns false when no job has that id
   */
  async remove(id: string): Promise<boolean> {
    if (typeof id !== 'string') throw invalidOption('id', 'a job id (string)', id)
    await this.#state.ready()
    const [job] = await this.#store.get([id])
    if (!job) return false
    if (job.status !== 'completed' && job.status !== 'failed' && job.status !== 'cancelled') {
      await this.#engines.tabs.cancel(id, 'The job was removed')
    }
    await this.#committer.write([{ op: 'delete', ids: [id] }])
    this.#engines.changes.removed([id], 'here')
    return true
  }

  /**
   * Cancels job `id` (a running one through the tab that runs it), as its handle's
   * `cancel(reason)` does, without reading the handle first.
   *
   * @returns false when no job has that id, or it is final already
   * @example
   * ```ts
   * await queue.cancel(id, 'the user closed the dialog')
   * ```
   */
  async cancel(id: string, reason?: string): Promise<boolean> {
    if (typeof id !== 'string') throw invalidOption('id', 'a job id (string)', id)
    if (reason !== undefined && typeof reason !== 'string')
      throw new TypeError(`cancel(id, reason): expected a string reason, received ${typeof reason}`)
    return this.#engines.tabs.cancel(id, reason)
  }

  /** How many jobs there are in each status. */
  counts(): Promise<Record<JobStatus, number>> {
    return this.#engines.reads.counts()
  }

  /**
   * Puts a `failed` or `cancelled` job back in the queue; its attempts start again.
   * A job already back (waiting, delayed, blocked or running: a second click, another
   * tab's retry) is left as it is: its handle, and a console note that says so.
   *
   * @throws TypeError when the job is completed, or does not exist
   */
  async retry(id: string): Promise<JobHandle> {
    return this.#engines.inserter.requeue(id)
  }

  /** Stops taking new jobs; running ones finish. */
  pause(): void {
    this.#started = false
    this.#state.runner?.pause()
  }

  /** Takes new jobs again after `pause()`. */
  resume(): void {
    this.start()
  }

  /** Starts dispatching (after `autostart: false`, or `pause()`). */
  start(): void {
    if (this.#state.closed) throw this.#state.closed
    this.#started = true
    void this.#state.opened.then(
      () => {
        if (this.#started && !this.#state.closed) this.#state.runner?.start()
      },
      () => undefined,
    )
  }

  /** Resolves when nothing is waiting, delayed-and-due or running; rejects `QueueClosedError` if the queue closes first. */
  idle(): Promise<void> {
    return this.#closing.idle()
  }

  /**
   * Deletes finished jobs of `status` (with their data, results, logs and errors).
   *
   * @param options.olderThan - only those that finished more than this many ms ago
   * @returns how many were deleted
   */
  async clean(options: {
    status: 'completed' | 'failed' | 'cancelled' | ReadonlyArray<'completed' | 'failed' | 'cancelled'>
    olderThan?: number
  }): Promise<number> {
    const { statuses, olderThan } = resolveClean(options)
    await this.#state.ready()
    let count = 0
    for (const status of statuses) count += await this.#engines.retention.clean(status, olderThan)
    return count
  }

  /**
   * Stops taking jobs, gives running ones `timeout` ms, then aborts them
   * (`QueueClosedError`); terminates the workers and closes the store.
   * Interrupted jobs resume on the next start.
   *
   * @param options.timeout - ms running jobs get to finish; default 5000
   */
  close(options: { timeout?: number } = {}): Promise<void> {
    if (typeof options !== 'object' || options === null) return Promise.reject(invalidOption('options', 'an object { timeout? }', options))
    const timeout = options.timeout === undefined ? DEFAULTS.closeTimeout : options.timeout
    if (typeof timeout !== 'number' || !(timeout >= 0)) {
      return Promise.reject(invalidOption('timeout', 'a number of ms ≥ 0', timeout, RangeError))
    }
    return this.#closing.shutdown(timeout, new QueueClosedError(`The queue "${this.name}" is closed`))
  }

  /** Listens to a queue event; returns the unsubscribe function. */
  on<K extends keyof QueueEvents>(event: K, listener: NoInfer<QueueEvents<T>[K]>): () => void {
    return this.#events.on(event, listener as QueueEvents[K])
  }

  /** Removes a listener added with `on`. */
  off<K extends keyof QueueEvents>(event: K, listener: NoInfer<QueueEvents<T>[K]>): void {
    this.#events.off(event, listener as QueueEvents[K])
  }
}
