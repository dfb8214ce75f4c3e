/**
 * The Queue users hold: a thin facade, and all a page loads before `createQueue` returns
 * (with its options, errors, and live views: views.ts). The rest of the queue is a chunk
 * it imports as it is made (engines.ts `makeCore`): the store, and the engines, each given
 * what it uses: the queue's state (state.ts), adding jobs (insert.ts), reads (reads.ts),
 * schedules (schedules.ts), other tabs (remote.ts), live handles (live-handles.ts), the one
 * change path (changes.ts), releases (releases.ts), the runner's seat (seat.ts: the
 * election, and while this tab holds the runner lock, the runner, runner/dispatcher.ts, a
 * chunk of its own), and the close and the waits on it (closing.ts). Which queue holds a
 * name in this page is open-queues.ts's.
 */
import type { FlowHandle } from './flow-handle.js'
import type { ChainOutput, ChainRest, FlowStep, GroupOutput } from './flow.js'
import { notLoaded, QueueClosedError } from '../shared/errors.js'
import { Emitter } from '../shared/events.js'
import type { JobHandle } from './handle.js'
import type { BulkHandles } from './insert.js'
import { invalidOption } from '../shared/options.js'
import { DEFAULTS, resolveQueueOptions, type QueueOptions, type ResolvedQueueOptions } from './options.js'
import { QueueState } from './state.js'
import { resolveClean } from './list-options.js'
import type { Schedule, ScheduleOptions } from '../runner/scheduler.js'
import type { Core } from './engines.js'
import { leaveName, takeName } from './open-queues.js'
import type { RunnerRelease } from './releases.js'
import type { LiveJobStore, LiveList, LiveStore, WatchQuery } from './live.js'
import { loadRunnerCode } from './runner-code.js'
import { Views } from './views.js'
import { checkSignalName } from '../shared/waits.js'
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

/** A persistent job queue. Create it with {@link createQueue}. */
export class Queue<T extends TaskMap = TaskMap> {
  #options: ResolvedQueueOptions
  #events = new Emitter<QueueEvents>()
  #state: QueueState
  #views: Views
  /** The rest of the queue (engines.ts: its store, engines and close), a chunk loaded as the queue is made. */
  #core: Promise<Core>
  /** The same, once loaded. */
  #loaded: Core | undefined
  #closing: Promise<void> | undefined

  constructor(options?: QueueOptions) {
    const resolved = (this.#options = resolveQueueOptions(options))
    const state = (this.#state = new QueueState(resolved.name, this.#events, (closed) => void this.#shutdown(0, closed)))
    state.started = resolved.autostart
    this.#views = new Views({
      list: (query) => this.list(query),
      counts: () => this.counts(),
      getJob: (id, name) => this.getJob(id, name as TaskName<T>),
      on: (event, listener) => this.#events.on(event, listener),
    })
    // `createQueue` returns before the rest of the queue has loaded; every call waits for it (`state.ready()`).
    this.#core = import('./engines.js').then(
      ({ makeCore }) => (this.#loaded = makeCore({ options: resolved, state, events: this.#events }, () => leaveName(this))),
      (error: unknown) => Promise.reject(notLoaded(`queue "${resolved.name}": offthread's code`, error)),
    )
    // The runner's code too, at once, beside the rest (seat.ts tells a load that fails when this tab becomes the runner).
    if (resolved.worker) loadRunnerCode().catch(() => undefined)
    // A load that fails is told by the queue's open (its error event, and every call rejects with it).
    this.#core.catch(() => undefined)
    // Hot reload: the queue of this name open in this page closes and hands its jobs over, as a closed tab would.
    const replaced = takeName(this, resolved.replace)
    const open = async (): Promise<void> => {
      const core = await this.#core
      await replaced
      await core.seat.open()
    }
    // Without IndexedDB and without a store of the app's (a server render, a script), nothing
    // stored can wait to be resumed: the queue opens at its first use, and a queue never used
    // (made at module scope, rendered on a server) starts nothing that keeps the process alive.
    if (resolved.store === undefined && typeof indexedDB === 'undefined') state.deferOpen(open)
    else state.open(open)
  }

  /** The rest of the queue, once the queue is open: rejects as `state.ready()` does. */
  async #ready(): Promise<Core> {
    await this.#state.ready()
    return this.#core
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
    return this.#loaded?.seat.storageBlocked ?? false
  }

  /**
   * The release of the tab that runs the queue, as it stored it when it took its place
   * (its `version` and its worker module's tasks); undefined until one did (or with a
   * store that keeps no releases). Kept current as runners change.
   */
  get runner(): RunnerRelease | undefined {
    return this.#loaded?.releases.runner
  }

  /**
   * What the browser says of this origin's storage: whether it is persisted (not evicted
   * under storage pressure), and its usage and quota in bytes. A field is undefined
   * where the engine does not tell (WebKitGTK tells no quota, say).
   */
  async storage(): Promise<{ persisted?: boolean; usage?: number; quota?: number }> {
    return (await this.#core).storage()
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
    return (await this.#core).schedules.schedule(name, options)
  }

  /** Manage stored schedules: list, pause, resume, remove, trigger (run now). */
  get schedules(): {
    list(): Promise<Schedule[]>
    pause(id: string): Promise<Schedule>
    resume(id: string): Promise<Schedule>
    remove(id: string): Promise<boolean>
    trigger(id: string): Promise<JobHandle>
  } {
    // Made at once, as the schedules' code may not have loaded yet: each call waits for it.
    const manager = async (): Promise<ReturnType<Core['schedules']['manager']>> => (await this.#core).schedules.manager()
    return {
      list: async () => (await manager()).list(),
      pause: async (id) => (await manager()).pause(id),
      resume: async (id) => (await manager()).resume(id),
      remove: async (id) => (await manager()).remove(id),
      trigger: async (id) => (await manager()).trigger(id),
    }
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
    const { inserter } = await this.#core
    if (debounce !== undefined) return (await inserter.debounced(name, data, options as JobOptions)) as unknown as Typed
    const [handle] = await inserter.insert([{ name, data, options }], false)
    return handle as unknown as Typed
  }

  /**
   * Adds many jobs in one transaction: all are stored, or none.
   *
   * @returns the handles, in order
   */
  async addBulk<const J extends readonly BulkJob<T>[]>(jobs: J): Promise<BulkHandles<T, J>> {
    if (!Array.isArray(jobs)) throw invalidOption('jobs', 'an array of { name, data, options? }', jobs)
    return (await (await this.#core).inserter.insert(jobs as readonly BulkJob<T>[], true)) as BulkHandles<T, J>
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
    return (await addFlow({ chain: steps }, options, (await this.#core).inserter)) as FlowHandle<ChainOutput<T, S>>
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
    return (await addFlow({ group: jobs }, options, (await this.#core).inserter)) as FlowHandle<GroupOutput<T, G>>
  }

  /**
   * A live handle for any job, by id.
   *
   * @returns undefined when no job has that id
   */
  getJob<K extends TaskName<T>>(id: string, name: K): Promise<JobHandle<TaskOutput<T[K]>, TaskProgress<T[K]>> | undefined>
  getJob<R = unknown>(id: string): Promise<JobHandle<R> | undefined>
  async getJob(id: string, name?: string): Promise<JobHandle | undefined> {
    return (await this.#core).reads.job(id, name)
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
    return this.#views.watch(query) as unknown as LiveList<Listed<AnySnapshot<T>>>
  }

  /** Live `counts()`, in the store contract of {@link watch}; one for the queue. */
  watchCounts(): LiveStore<Readonly<Record<JobStatus, number>>> {
    return this.#views.watchCounts()
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
    return this.#views.watchJob(id, name)
  }

  /**
   * Jobs, newest first: at most `limit` (100 by default), without their `data` and
   * `result` unless `data: true`.
   */
  async list(options: ListOptions = {}): Promise<JobSnapshot[]> {
    return (await this.#core).reads.list(options)
  }

  /**
   * Deletes one job with its data, result, logs and errors; a job not yet
   * finished is cancelled first (a running one through the tab that runs it).
   *
   * @returns false when no job has that id
   */
  async remove(id: string): Promise<boolean> {
    if (typeof id !== 'string') throw invalidOption('id', 'a job id (string)', id)
    const { store, tabs, committer, changes } = await this.#ready()
    const [job] = await store.get([id])
    if (!job) return false
    if (job.status !== 'completed' && job.status !== 'failed' && job.status !== 'cancelled') {
      await tabs.cancel(id, 'The job was removed')
    }
    await committer.write([{ op: 'delete', ids: [id] }])
    changes.removed([id], 'here')
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
    return (await this.#core).tabs.cancel(id, reason)
  }

  /**
   * Sends signal `name` with `payload` to job `id`, for its handler's `ctx.waitFor(name)`,
   * from any tab. It is stored: a job that waits for it wakes and runs again (its wait
   * returns the payload); one that does not wait yet finds it when it does.
   *
   * @returns false when no unfinished job has that id
   * @throws JobDataError when the payload cannot be stored (structured clone)
   * @example
   * ```ts
   * await queue.signal(orderId, 'approved', { by: user.id })
   * ```
   */
  async signal(id: string, name: string, payload?: unknown): Promise<boolean> {
    if (typeof id !== 'string') throw invalidOption('id', 'a job id (string)', id)
    checkSignalName(name, 'queue.signal(id, name, payload)')
    return (await this.#ready()).signals.send(id, name, payload)
  }

  /** How many jobs there are in each status. */
  async counts(): Promise<Record<JobStatus, number>> {
    return (await this.#core).reads.counts()
  }

  /**
   * Puts a `failed` or `cancelled` job back in the queue; its attempts start again.
   * A job already back (waiting, delayed, blocked or running: a second click, another
   * tab's retry) is left as it is: its handle, and a console note that says so.
   *
   * @throws TypeError when the job is completed, or does not exist
   */
  async retry(id: string): Promise<JobHandle> {
    return (await this.#core).inserter.requeue(id)
  }

  /** Stops taking new jobs; running ones finish. */
  pause(): void {
    this.#state.pause()
  }

  /** Takes new jobs again after `pause()`. */
  resume(): void {
    this.start()
  }

  /** Starts dispatching (after `autostart: false`, or `pause()`). */
  start(): void {
    this.#state.start()
  }

  /** Resolves when nothing is waiting, delayed-and-due or running; rejects `QueueClosedError` if the queue closes first. */
  async idle(): Promise<void> {
    return (await this.#ready()).closing.idle()
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
    const { retention } = await this.#ready()
    for (const status of statuses) count += await retention.clean(status, olderThan)
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

  /**
   * Closes the queue, once (closing.ts): from now on every call rejects with `closed`, the
   * first close's error. A queue whose code never loaded has nothing to stop but its name.
   */
  #shutdown(timeout: number, closed: QueueClosedError): Promise<void> {
    this.#state.closed ??= closed
    const error = this.#state.closed
    this.#closing ??= this.#core.then(
      (core) => core.closing.shutdown(timeout, error),
      () => leaveName(this),
    )
    return this.#closing
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
