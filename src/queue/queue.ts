/**
 * The Queue users hold: a thin facade over engines (built in engines.ts, each given
 * what it uses): the queue's state (state.ts), adding jobs (insert.ts), schedules
 * (schedules.ts), other tabs (remote.ts), live handles (live-handles.ts), the one
 * change path (changes.ts), releases (releases.ts) and the runner's seat (seat.ts:
 * the election, and while this tab holds the runner lock, the runner,
 * runner/dispatcher.ts).
 */
import { Committer } from '../store/committer.js'
import type { FlowHandle } from './flow-handle.js'
import type { ChainMismatch, ChainOutput, FlowStep, GroupOutput } from './flow.js'
import { QueueClosedError } from '../shared/errors.js'
import { Emitter } from '../shared/events.js'
import { toSnapshot, type JobHandle } from './handle.js'
import type { Inserter } from './insert.js'
import type { LiveHandles } from './live-handles.js'
import { invalidOption } from '../shared/options.js'
import { DEFAULTS, resolveQueueOptions, type QueueOptions, type ResolvedQueueOptions } from './options.js'
import { validateList } from './list-options.js'
import { QueueState } from './state.js'
import { type Retention, resolveClean } from '../runner/retention.js'
import type { Schedule, ScheduleOptions } from '../runner/scheduler.js'
import type { Schedules } from './schedules.js'
import { idbStore } from '../store/idb-store.js'
import { deferredStore } from '../store/deferred-store.js'
import type { Store, StoredJob } from '../store/store.js'
import type { Tabs } from './remote.js'
import type { Seat } from './seat.js'
import { makeEngines } from './engines.js'
import type { Releases, RunnerRelease } from './releases.js'
import type { Changes } from './changes.js'
import { fromStored } from '../shared/binary.js'
import { LiveCounts, type LiveJobStore, type LiveList, type LiveStore, type WatchQuery } from './live.js'
import { LiveJob, LiveViews } from './live-job.js'
import { LiveJobList } from './live-list.js'
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
 * The arguments of `chain` after its steps: `options`; and, when a step without data of
 * its own does not accept the previous step's output, a required argument of the
 * mismatch's type, so that the call is a type error that shows the mismatch.
 */
type ChainRest<T extends TaskMap, S> =
  unknown extends ChainMismatch<T, S> ? [options?: { id?: string }] : [options: { id?: string } | undefined, mismatch: ChainMismatch<T, S>]

type BulkHandles<T extends TaskMap, J extends readonly BulkJob<T>[]> = {
  [I in keyof J]: J[I] extends { name: infer K } ? JobHandle<TaskOutput<T[K & keyof T]>, TaskProgress<T[K & keyof T]>> : JobHandle
}

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
 * The queues open in this page, by name: a second `createQueue` of an open name
 * (a module re-run by hot reload) replaces the first. On `globalThis`, so that two
 * copies of offthread in one page (a dev server's re-bundled dependency) share it.
 */
const OPEN: Map<string, Queue> = ((globalThis as { [key: symbol]: unknown })[Symbol.for('offthread.openQueues')] ??= new Map()) as Map<string, Queue>
/** Set while an observer is made: it is not registered and replaces nothing. */
let makingObserver = false

/**
 * The queue of `name` open in this page, or else a new one that only observes
 * (no worker: it runs nothing and replaces nothing). For tools that are given a
 * queue's name only (`<offthread-inspector name>`).
 *
 * @returns the queue, and whether the caller made it (and so closes it when done)
 */
export function observeQueue(name: string): { queue: Queue; owned: boolean } {
  const open = OPEN.get(name)
  if (open) return { queue: open, owned: false }
  makingObserver = true
  try {
    return { queue: new Queue({ name }), owned: true }
  } finally {
    makingObserver = false
  }
}

/** A persistent job queue. Create it with {@link createQueue}. */
export class Queue<T extends TaskMap = TaskMap> {
  #options: ResolvedQueueOptions
  #store: Store
  #committer: Committer
  #retention: Retention
  #events = new Emitter<QueueEvents>()
  #state: QueueState
  #closing: Promise<void> | undefined
  #started: boolean
  // The engines behind the facade; they reach the queue through one context.
  #channel: Channel
  #changes: Changes
  #handles: LiveHandles
  #inserter: Inserter
  #schedules: Schedules
  #tabs: Tabs
  #releases: Releases
  /** The runner's seat: election, becoming the runner, giving the place up (seat.ts). */
  #seat: Seat

  constructor(options?: QueueOptions) {
    this.#options = resolveQueueOptions(options)
    // Where IndexedDB is missing (Deno, Bun, Node), memoryStore: imported then, so a page's bundle never carries it.
    this.#store =
      this.#options.store ??
      (typeof indexedDB !== 'undefined'
        ? idbStore()
        : deferredStore('memory', async () => (await import('../store/memory-store.js')).memoryStore(), true))
    this.#committer = new Committer(this.#store)
    this.#state = new QueueState(this.#options.name, this.#events, (closed) => void this.#shutdown(0, closed))
    this.#started = this.#options.autostart
    this.#channel = new Channel(this.#options.name)
    const engines = makeEngines(
      { options: this.#options, store: this.#store, committer: this.#committer, state: this.#state, events: this.#events, channel: this.#channel },
      () => this.#started,
    )
    this.#handles = engines.handles
    this.#changes = engines.changes
    this.#retention = engines.retention
    this.#tabs = engines.tabs
    this.#inserter = engines.inserter
    this.#schedules = engines.schedules
    this.#releases = engines.releases
    this.#seat = engines.seat
    // Hot reload: the queue of this name open in this page closes and hands its jobs over, as a closed tab would.
    const registers = !makingObserver && this.#options.replace
    const previous = registers ? OPEN.get(this.#options.name) : undefined
    if (registers) OPEN.set(this.#options.name, this as unknown as Queue)
    if (previous) {
      console.warn(
        `[offthread] createQueue: a queue named "${this.#options.name}" is open in this page (a module re-run by hot reload?); it closes and this one takes its place`,
      )
    }
    const replaced = previous?.close({ timeout: 0 }).catch(() => undefined)
    const open = async (): Promise<void> => {
      await replaced
      await this.#seat.open()
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
    return this.#seat.storageBlocked
  }

  /**
   * The release of the tab that runs the queue, as it stored it when it took its place
   * (its `version` and its worker module's tasks); undefined until one did (or with a
   * store that keeps no releases). Kept current as runners change.
   */
  get runner(): RunnerRelease | undefined {
    return this.#releases.runner
  }

  /**
   * What the browser says of this origin's storage: whether it is persisted (not evicted
   * under storage pressure), and its usage and quota in bytes. A field is undefined
   * where the engine does not tell (WebKitGTK tells no quota, say).
   */
  async storage(): Promise<{ persisted?: boolean; usage?: number; quota?: number }> {
    const manager = typeof navigator !== 'undefined' ? navigator.storage : undefined
    const out: { persisted?: boolean; usage?: number; quota?: number } = {}
    const [persisted, estimate] = await Promise.all([manager?.persisted?.().catch(() => undefined), manager?.estimate?.().catch(() => undefined)])
    if (typeof persisted === 'boolean') out.persisted = persisted
    if (typeof estimate?.usage === 'number') out.usage = estimate.usage
    if (typeof estimate?.quota === 'number') out.quota = estimate.quota
    return out
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
    return this.#schedules.schedule(name, options)
  }

  /** Manage stored schedules: list, pause, resume, remove, trigger (run now). */
  get schedules(): {
    list(): Promise<Schedule[]>
    pause(id: string): Promise<Schedule>
    resume(id: string): Promise<Schedule>
    remove(id: string): Promise<boolean>
    trigger(id: string): Promise<JobHandle>
  } {
    return this.#schedules.manager()
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
    if (debounce !== undefined) return (await this.#inserter.debounced(name, data, options as JobOptions)) as unknown as Typed
    const [handle] = await this.#inserter.insert([{ name, data, options }], false)
    return handle as unknown as Typed
  }

  /**
   * Adds many jobs in one transaction: all are stored, or none.
   *
   * @returns the handles, in order
   */
  async addBulk<const J extends readonly BulkJob<T>[]>(jobs: J): Promise<BulkHandles<T, J>> {
    if (!Array.isArray(jobs)) throw invalidOption('jobs', 'an array of { name, data, options? }', jobs)
    return (await this.#inserter.insert(jobs as readonly BulkJob<T>[], true)) as BulkHandles<T, J>
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
    return (await addFlow({ chain: steps }, options, this.#inserter)) as FlowHandle<ChainOutput<T, S>>
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
    return (await addFlow({ group: jobs }, options, this.#inserter)) as FlowHandle<GroupOutput<T, G>>
  }

  /**
   * A live handle for any job, by id.
   *
   * @returns undefined when no job has that id
   */
  getJob<K extends TaskName<T>>(id: string, name: K): Promise<JobHandle<TaskOutput<T[K]>, TaskProgress<T[K]>> | undefined>
  getJob<R = unknown>(id: string): Promise<JobHandle<R> | undefined>
  async getJob(id: string, name?: string): Promise<JobHandle | undefined> {
    if (typeof id !== 'string') throw invalidOption('id', 'a job id (string)', id)
    if (name !== undefined && typeof name !== 'string') throw invalidOption('name', 'a task name (string)', name)
    await this.#state.ready()
    const handle = await this.#find(id)
    // Typed by a task: a job of another task is not that task's job.
    return name === undefined || handle?.name === name ? handle : undefined
  }

  async #find(id: string): Promise<JobHandle | undefined> {
    const live = this.#handles.get(id)
    // A finished job may have been deleted (by another tab's clean or retention): make sure.
    if (live && (!live.isDone() || (await this.#store.get([id]))[0])) return live
    if (live) this.#changes.removed([id], 'elsewhere')
    // Metadata and result only: a job's data (100 MB, maybe) is read when `handle.data()` asks.
    const full = await this.#store.getFull(id, { data: false })
    if (!full) return undefined
    const { data: _data, result, ...job } = full
    return this.#handles.handleFor(job, undefined, result)
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
    validateList({ ...query })
    // Views of the same query share one list (one read per change, however many views).
    const { status, name, limit } = query
    const key = JSON.stringify([typeof status === 'string' ? [status] : (status ?? null), name ?? null, limit === undefined ? null : String(limit)])
    return this.#views.get(`list:${key}`, () => new LiveJobList(this.#live, query)) as unknown as LiveList<Listed<AnySnapshot<T>>>
  }

  /** Live `counts()`, in the store contract of {@link watch}; one for the queue. */
  watchCounts(): LiveStore<Readonly<Record<JobStatus, number>>> {
    return this.#views.get('counts', () => new LiveCounts(this.#live))
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
    if (typeof id !== 'string') throw invalidOption('id', 'a job id (string)', id)
    if (name !== undefined && typeof name !== 'string') throw invalidOption('name', 'a task name (string)', name)
    return this.#views.get(
      `job:${name ?? ''}\u0000${id}`,
      () => new LiveJob({ getJob: (job) => this.getJob(job, name as TaskName<T>), on: (event, listener) => this.#events.on(event, listener) }, id),
    )
  }

  /** The live views handed out, shared by query. */
  #views = new LiveViews()

  get #live(): ConstructorParameters<typeof LiveCounts>[0] {
    return { list: (query) => this.list(query), counts: () => this.counts(), on: (event, listener) => this.#events.on(event, listener) }
  }

  /**
   * Jobs, newest first: at most `limit` (100 by default), without their `data` and
   * `result` unless `data: true`.
   */
  async list(options: ListOptions = {}): Promise<JobSnapshot[]> {
    const query = validateList(options)
    await this.#state.ready()
    const jobs = await this.#store.list(query)
    if (query.data) return Promise.all(jobs.map(async ({ data, result, ...job }: StoredJob) => toSnapshot(job, await fromStored(data), result)))
    return jobs.map(({ data, result, ...job }: StoredJob) => toSnapshot(job, data, result))
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
      await this.#tabs.cancel(id, 'The job was removed')
    }
    await this.#committer.write([{ op: 'delete', ids: [id] }])
    this.#changes.removed([id], 'here')
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
    return this.#tabs.cancel(id, reason)
  }

  /** How many jobs there are in each status. */
  async counts(): Promise<Record<JobStatus, number>> {
    await this.#state.ready()
    return this.#store.counts()
  }

  /**
   * Puts a `failed` or `cancelled` job back in the queue; its attempts start again.
   * A job already back (waiting, delayed, blocked or running: a second click, another
   * tab's retry) is left as it is: its handle, and a console note that says so.
   *
   * @throws TypeError when the job is completed, or does not exist
   */
  async retry(id: string): Promise<JobHandle> {
    return this.#inserter.requeue(id)
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
  async idle(): Promise<void> {
    await this.#state.ready()
    for (;;) {
      if (this.#state.closed) throw this.#state.closed
      const dispatcher = this.#state.runner
      if (dispatcher) {
        if (dispatcher.isIdle()) return
      } else {
        // A tab that does not run jobs sees the store.
        const counts = await this.#store.counts()
        if (counts.waiting + counts.running === 0) return
      }
      await this.#next(dispatcher ? ['idle', 'role'] : ['completed', 'failed', 'cancelled', 'role'])
    }
  }

  /** Resolves on the next of `events`; rejects when the queue closes first. Leaves no listener behind. */
  #next(events: ReadonlyArray<'idle' | 'role' | 'completed' | 'failed' | 'cancelled'>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (settle: () => void): void => {
        for (const off of offs) off()
        offClose()
        settle()
      }
      const offs = events.map((event) => this.#events.on(event, () => done(resolve)))
      const offClose = this.#whenClosed(() => done(() => reject(this.#state.closed ?? new QueueClosedError())))
    })
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
    for (const status of statuses) count += await this.#retention.clean(status, olderThan)
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
    return this.#shutdown(timeout, new QueueClosedError(`The queue "${this.name}" is closed`))
  }

  /** Closes the queue; every pending wait of it rejects with `closed`. */
  #shutdown(timeout: number, closed: QueueClosedError): Promise<void> {
    this.#closing ??= (async () => {
      this.#state.closed = closed
      await this.#state.settled()
      await this.#seat.settled()
      this.#schedules.stop()
      await this.#state.runner?.close(timeout)
      if (this.#state.runner) {
        // This tab no longer runs the queue (the next one in line takes over).
        this.#state.runner = undefined
        this.#events.emit('role', 'follower')
      }
      await this.#retention.stop()
      await this.#committer.settled()
      this.#seat.close()
      this.#releases.close()
      this.#tabs.close()
      await this.#store.close()
      this.#handles.abandon(closed)
      if (OPEN.get(this.name) === this) OPEN.delete(this.name)
      this.#shut = true
      const listeners = [...this.#closeListeners]
      this.#closeListeners.clear()
      for (const listener of listeners) listener()
    })()
    return this.#closing
  }

  #closeListeners = new Set<() => void>()
  #shut = false
  /** Calls `listener` once the queue has closed (at once if it has); returns the unsubscribe function. */
  #whenClosed(listener: () => void): () => void {
    if (this.#shut) {
      listener()
      return () => undefined
    }
    this.#closeListeners.add(listener)
    return () => this.#closeListeners.delete(listener)
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
