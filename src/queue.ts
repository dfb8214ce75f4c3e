/**
 * The Queue users hold: a thin facade that validates, persists through the
 * store, hands jobs to the dispatcher (when this tab runs them), and keeps one
 * live handle per job id.
 */
import { nanoid } from 'nanoid'
import { Channel, type ChannelMessage } from './channel.js'
import { Committer } from './committer.js'
import { newId } from './ids.js'
import { Dispatcher, type JobChange } from './dispatcher.js'
import { Flow, type FlowHandle } from './flow-handle.js'
import { JOIN_TASK, expand, type ChainOutput, type FlowStep, type GroupOutput } from './flow.js'
import {
  JobCancelledError,
  JobDataError,
  OffthreadError,
  QueueClosedError,
  UnknownTaskError,
  WorkerError,
  findUncloneablePath,
  isDataCloneError,
  isQuotaError,
  serializeError,
} from './errors.js'
import { Emitter } from './events.js'
import { Handle, toSnapshot, type HandleHost, type JobHandle } from './handle.js'
import {
  DEFAULTS,
  invalidOption,
  resolveJobOptions,
  resolveQueueOptions,
  type QueueOptions,
  type ResolvedJobOptions,
  type ResolvedQueueOptions,
} from './options.js'
import { Leadership, runnerExists } from './leader.js'
import type { WorkerManifest } from './pool/protocol.js'
import { Retention } from './retention.js'
import { Scheduler, nextRunAfter, resolveSchedule, toSchedule, type Schedule, type ScheduleOptions } from './scheduler.js'
import { idbStore } from './store/idb-store.js'
import { memoryStore } from './store/memory-store.js'
import type { JobRecord, ScheduleRecord, Store, StoredJob, WriteOp, WriteResult } from './store/store.js'
import {
  FINAL_STATUSES,
  JOB_STATUSES,
  isFinal,
  type JobOptions,
  type JobSnapshot,
  type JobStatus,
  type LogEntry,
  type Progress,
  type SerializedError,
  type TaskInput,
  type TaskMap,
  type TaskName,
  type TaskOutput,
} from './types.js'

/** Whether this tab runs the queue's jobs. */
export type QueueRole = 'runner' | 'follower'

/** The queue's events; each job event's listener gets the job's snapshot and the event's value. */
// A type alias, not an interface: it must fit the emitter's index-signature constraint.
export type QueueEvents = {
  added: (job: JobSnapshot, value: undefined) => void
  started: (job: JobSnapshot, attempt: number) => void
  progress: (job: JobSnapshot, progress: Progress) => void
  log: (job: JobSnapshot, entry: LogEntry) => void
  retrying: (job: JobSnapshot, retry: { attempt: number; delay: number; error: SerializedError }) => void
  completed: (job: JobSnapshot, result: unknown) => void
  failed: (job: JobSnapshot, error: SerializedError) => void
  cancelled: (job: JobSnapshot, reason: string | undefined) => void
  /** Nothing waiting, due or running in this runner. */
  idle: () => void
  role: (role: QueueRole) => void
  /** The queue's own trouble: storage quota, a worker that cannot start. */
  error: (error: Error) => void
}

/** One job of `addBulk`: its `data` is checked against its own task's input. */
export type BulkJob<T extends TaskMap> = {
  [K in TaskName<T>]: { name: K; data: TaskInput<T[K]>; options?: JobOptions }
}[TaskName<T>]

/** Filters of `list`. */
export interface ListOptions {
  status?: JobStatus | readonly JobStatus[]
  name?: string
  limit?: number
  offset?: number
}

type BulkHandles<T extends TaskMap, J extends readonly BulkJob<T>[]> = {
  [I in keyof J]: J[I] extends { name: infer K } ? JobHandle<TaskOutput<T[K & keyof T]>> : JobHandle
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

/** A persistent job queue. Create it with {@link createQueue}. */
export class Queue<T extends TaskMap = TaskMap> {
  #options: ResolvedQueueOptions
  #store: Store
  #committer: Committer
  #dispatcher: Dispatcher | undefined
  #retention: Retention
  #events = new Emitter<QueueEvents>()
  #handles = new Map<string, WeakRef<Handle>>()
  #pinned = new Set<object>()
  #finalizer = new FinalizationRegistry<string>((id) => {
    if (this.#handles.get(id)?.deref() === undefined) this.#handles.delete(id)
  })
  #opened: Promise<void>
  #closed: QueueClosedError | undefined
  #closing: Promise<void> | undefined
  #started: boolean
  #host: HandleHost
  #leadership: Leadership | undefined
  #channel: Channel
  /** The worker module's tasks as the runner tab reported them (for a follower's checks). */
  #remoteManifest: WorkerManifest | undefined
  #requests = new Map<string, (ok: boolean) => void>()

  constructor(options?: QueueOptions) {
    this.#options = resolveQueueOptions(options)
    this.#store = this.#options.store ?? (typeof indexedDB !== 'undefined' ? idbStore() : memoryStore())
    this.#committer = new Committer(this.#store)
    this.#retention = new Retention(this.#store, this.#committer, this.#options.retention, (e) => this.#error(e))
    this.#started = this.#options.autostart
    if (this.#options.worker) this.#leadership = new Leadership(this.#options.name)
    this.#channel = new Channel(
      this.#options.name,
      (message) => this.#onChannel(message),
      () => {
        // A new tab: tell it the tasks, so it can check names at `add`.
        const manifest = this.#dispatcher?.pool.manifest
        if (manifest) this.#channel.post({ type: 'manifest', manifest })
      },
    )
    this.#host = {
      cancel: (id, reason) => this.#cancel(id, reason),
      logs: async (id) => (await this.#ready(), this.#store.logs(id)),
      errors: async (id) => (await this.#ready(), this.#store.errors(id)),
      read: async (id) => (await this.#ready(), this.#store.getFull(id)),
      dependents: async (id) => (await this.#ready(), (await this.#store.dependents(id)).map((job) => job.id)),
      pin: (handle, pinned) => (pinned ? this.#pinned.add(handle) : this.#pinned.delete(handle)),
      closedError: () => this.#closed,
    }
    this.#opened = this.#open()
    // Errors of opening surface on every call and as an `error` event; none go unhandled.
    this.#opened.catch((error: unknown) => this.#error(error as Error))
  }

  /** The queue's name. */
  get name(): string {
    return this.#options.name
  }

  /** Whether this tab runs the queue's jobs now (it holds the queue's runner lock). */
  get role(): QueueRole {
    return this.#dispatcher ? 'runner' : 'follower'
  }

  /** Whether the queue is taking new jobs to run (not paused, not closed). */
  get isRunning(): boolean {
    return this.#dispatcher?.active ?? false
  }

  async #open(): Promise<void> {
    await this.#store.open(this.#options.name)
    const leadership = this.#leadership
    if (leadership) {
      // Free lock: run now, before the queue reports ready. Else wait in line and take over later.
      const now = await leadership.acquire(() => {
        this.#becomeRunner().catch((error: unknown) => this.#error(error as Error))
      })
      if (now) await this.#becomeRunner()
    }
  }

  #becoming: Promise<void> | undefined

  /** This tab holds the runner lock: load the unfinished jobs and start the pool. */
  #becomeRunner(): Promise<void> {
    // Trouble while closing is no trouble: the next runner loads again.
    this.#becoming ??= this.#run().catch((error: unknown) => {
      if (!this.#closed) throw error
    })
    return this.#becoming
  }

  async #run(): Promise<void> {
    const factory = this.#options.worker
    if (this.#closed || !factory || this.#dispatcher) return
    const dispatcher = new Dispatcher(
      {
        options: this.#options,
        store: this.#store,
        committer: this.#committer,
        publish: (change) => this.#publish(change, true),
        error: (error) => this.#error(error),
        idle: () => this.#events.emit('idle'),
      },
      factory,
    )
    this.#dispatcher = dispatcher
    this.#events.emit('role', 'runner')
    await dispatcher.load()
    if (this.#started && !this.#closed) dispatcher.start()
    void dispatcher.pool.whenManifest().then((manifest) => {
      if (manifest) this.#channel.post({ type: 'manifest', manifest })
    })
    this.#retention.schedule()
    this.#scheduler = new Scheduler({
      store: this.#store,
      fire: (schedule, next, run) => this.#fire(schedule, next, run),
      isDone: async (id) => {
        const [job] = await this.#store.get([id])
        return !job || isFinal(job.status)
      },
      error: (error) => this.#error(error),
    })
    // Not awaited: firing a schedule adds a job, which waits for the queue to be open.
    this.#scheduler.load().catch((error: unknown) => this.#error(error as Error))
  }

  #scheduler: Scheduler | undefined

  /** A schedule is due: add its job (unless skipped) and store its next run, in one transaction. */
  async #fire(schedule: ScheduleRecord, next: ScheduleRecord, run: boolean): Promise<void> {
    if (!run) {
      await this.#committer.write([{ op: 'schedule', schedule: next }])
      return
    }
    const now = Date.now()
    const id = newId()
    const fired: ScheduleRecord = { ...next, lastRunAt: now, lastJobId: id }
    const options = resolveJobOptions({ ...schedule.options, id }, now)
    await this.#persist([{ name: schedule.name, data: schedule.data, options }], true, now, [{ op: 'schedule', schedule: fired }])
    next.lastRunAt = now
    next.lastJobId = id
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
    await this.#ready()
    const manifest = await this.#manifest()
    if (manifest && !(name in manifest)) {
      throw new UnknownTaskError(`Unknown task "${name}"; the worker module defines: ${Object.keys(manifest).join(', ') || 'none'}`)
    }
    const id = (options as { id?: unknown } | undefined)?.id
    const previous = typeof id === 'string' ? (await this.#store.schedules()).find((s) => s.id === id) : undefined
    const record = resolveSchedule(name, options, Date.now(), previous)
    await this.#committer.write([{ op: 'schedule', schedule: record }])
    this.#schedulesChanged()
    return toSchedule(record)
  }

  /** Manage stored schedules: list, pause, resume, remove, trigger (run now). */
  get schedules(): {
    list(): Promise<Schedule[]>
    pause(id: string): Promise<Schedule>
    resume(id: string): Promise<Schedule>
    remove(id: string): Promise<boolean>
    trigger(id: string): Promise<JobHandle>
  } {
    const find = async (id: string): Promise<ScheduleRecord> => {
      await this.#ready()
      const found = (await this.#store.schedules()).find((s) => s.id === id)
      if (!found) throw new TypeError(`No schedule has the id "${id}"`)
      return found
    }
    const update = async (record: ScheduleRecord): Promise<Schedule> => {
      await this.#committer.write([{ op: 'schedule', schedule: record }])
      this.#schedulesChanged()
      return toSchedule(record)
    }
    return {
      list: async () => (await this.#ready(), (await this.#store.schedules()).map(toSchedule)),
      pause: async (id) => update({ ...(await find(id)), paused: true }),
      resume: async (id) => {
        const found = await find(id)
        // Runs missed while paused are not "missed": start from now.
        return update({ ...found, paused: false, nextRunAt: nextRunAfter(found, Date.now()) })
      },
      remove: async (id) => {
        await this.#ready()
        const exists = (await this.#store.schedules()).some((s) => s.id === id)
        if (!exists) return false
        await this.#committer.write([{ op: 'unschedule', id }])
        this.#schedulesChanged()
        return true
      },
      trigger: async (id) => {
        const found = await find(id)
        const now = Date.now()
        const jobId = newId()
        const options = resolveJobOptions({ ...found.options, id: jobId }, now)
        const fired: ScheduleRecord = { ...found, lastRunAt: now, lastJobId: jobId }
        const [handle] = await this.#persist([{ name: found.name, data: found.data, options }], true, now, [{ op: 'schedule', schedule: fired }])
        this.#schedulesChanged()
        return handle as JobHandle
      },
    }
  }

  /** Schedules changed: the runner (this tab, or another) reads them again. */
  #schedulesChanged(): void {
    if (this.#scheduler) void this.#scheduler.load()
    else this.#channel.post({ type: 'schedules' })
  }

  async #ready(): Promise<void> {
    if (this.#closed) throw this.#closed
    await this.#opened
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
  async add<K extends TaskName<T>>(
    name: K,
    data: TaskInput<T[K]>,
    options?: JobOptions,
  ): Promise<JobHandle<TaskOutput<T[K]>>> {
    const debounce = (options as JobOptions | undefined)?.debounce
    if (debounce !== undefined) return (await this.#debounced(name, data, options as JobOptions)) as JobHandle<TaskOutput<T[K]>>
    const [handle] = await this.#insert([{ name, data, options }], false)
    return handle as JobHandle<TaskOutput<T[K]>>
  }

  /**
   * Adds many jobs in one transaction: all are stored, or none.
   *
   * @returns the handles, in order
   */
  async addBulk<const J extends readonly BulkJob<T>[]>(jobs: J): Promise<BulkHandles<T, J>> {
    if (!Array.isArray(jobs)) throw invalidOption('jobs', 'an array of { name, data, options? }', jobs)
    return (await this.#insert(jobs as readonly BulkJob<T>[], true)) as BulkHandles<T, J>
  }

  async #insert(jobs: readonly BulkJob<T>[], atomic: boolean): Promise<JobHandle[]> {
    const now = Date.now()
    const prepared: Prepared[] = []
    for (const [i, job] of jobs.entries()) {
      const where = atomic ? `jobs[${i}].` : ''
      if (typeof job !== 'object' || job === null) throw invalidOption(`jobs[${i}]`, 'an object { name, data, options? }', job)
      if (typeof job.name !== 'string' || job.name.length === 0) {
        throw invalidOption(`${where}name`, 'a task name (non-empty string)', job.name)
      }
      if (job.name === JOIN_TASK) throw invalidOption(`${where}name`, 'a task name of the worker module', job.name)
      prepared.push({ name: job.name, data: job.data as unknown, options: resolveJobOptions(job.options, now) })
      if (i % CHUNK === CHUNK - 1) await yieldToPage()
    }
    return this.#persist(prepared, atomic, now)
  }

  #debounceChains = new Map<string, Promise<unknown>>()

  /**
   * A debounced add: while a job of this debounce key has not started, it
   * takes the new data and starts `delay` ms from now; else a new job is added.
   * Adds of one key in this tab are done one after another.
   */
  #debounced(name: string, data: unknown, options: JobOptions): Promise<JobHandle> {
    const now = Date.now()
    const resolved = resolveJobOptions(options, now)
    const { key, delay } = resolved.debounce as { key: string; delay: number }
    const previous = this.#debounceChains.get(key) ?? Promise.resolve()
    const next = previous.catch(() => undefined).then(async () => {
      await this.#ready()
      const holder = await this.#store.debounced(key)
      if (holder && holder.name === name) {
        const moved: JobRecord = { ...holder, runAt: Date.now() + delay, rev: holder.rev + 1 }
        let result: WriteResult | undefined
        try {
          ;[result] = await this.#committer.write([{ op: 'put', job: moved, expect: ['delayed'], data }])
        } catch (error) {
          if (isDataCloneError(error)) {
            const path = findUncloneablePath(data)
            throw new JobDataError(`Cannot add the job of task "${name}": its data cannot be structured-cloned${path ? ` at ${path}` : ''}`, { cause: error })
          }
          throw error
        }
        if (result?.ok) {
          this.#publish({ event: 'requeued', job: moved, data }, true)
          this.#dispatcher?.enqueue(moved, { data, transfer: resolved.transfer })
          return this.#handleFor(moved, data)
        }
      }
      const [handle] = await this.#persist([{ name, data, options: resolved }], false, Date.now())
      return handle as JobHandle
    })
    this.#debounceChains.set(key, next)
    void next.finally(() => {
      if (this.#debounceChains.get(key) === next) this.#debounceChains.delete(key)
    }).catch(() => undefined)
    return next
  }

  /** Stores prepared jobs (checked names, known dependencies) and hands them to the runner. */
  async #persist(prepared: Prepared[], atomic: boolean, now: number, extra: WriteOp[] = []): Promise<JobHandle[]> {
    await this.#ready()
    const manifest = await this.#manifest()
    if (manifest) {
      for (const job of prepared) {
        if (job.name !== JOIN_TASK && !(job.name in manifest)) {
          const known = Object.keys(manifest)
          throw new UnknownTaskError(`Unknown task "${job.name}"; the worker module defines: ${known.join(', ') || 'none'}`)
        }
      }
    }
    const blocked = await this.#checkDependencies(prepared, atomic)
    const records = prepared.map((job, i) =>
      this.#newRecord(job, now, manifest?.[job.name]?.priority, blocked[i] ?? false),
    )
    let results: WriteResult[]
    try {
      results = await this.#committer.write(
        [
          ...records.map((job, i): WriteOp => ({ op: 'insert', job, data: prepared[i]?.data, fresh: prepared[i]?.options.id === undefined })),
          ...extra,
        ],
        { atomic },
      )
    } catch (error) {
      if (isQuotaError(error)) this.#error(error as Error)
      throw error
    }
    results = results.slice(0, records.length)
    const failed = results.findIndex((r) => !r.ok && r.reason === 'uncloneable')
    if (failed >= 0) {
      const { name, data } = prepared[failed] as (typeof prepared)[number]
      const cause = (results[failed] as { error: unknown }).error
      const path = findUncloneablePath(data)
      const which = atomic ? `jobs[${failed}] (task "${name}")` : `the job of task "${name}"`
      throw new JobDataError(
        `Cannot add ${which}: its data cannot be structured-cloned${path ? ` at ${path}` : ''}${atomic ? '; no job was added' : ''}`,
        { cause },
      )
    }
    const handles: JobHandle[] = []
    let added: JobRecord[] = []
    for (const [i, result] of results.entries()) {
      if (i % CHUNK === CHUNK - 1) {
        // Thousands of jobs: tell the other tabs in parts, and let the page breathe between them.
        this.#channel.post({ type: 'added', jobs: added })
        added = []
        await yieldToPage()
      }
      const record = records[i] as Omit<JobRecord, 'seq'>
      const job = prepared[i] as (typeof prepared)[number]
      if (result.ok) {
        const stored: JobRecord = { ...record, seq: result.seq ?? 0 }
        const handle = this.#handleFor(stored, job.data)
        added.push(stored)
        this.#dispatcher?.enqueue(stored, { data: job.data, transfer: job.options.transfer })
        if (this.#events.has('added')) this.#events.emit('added', toSnapshot(stored, job.data), undefined)
        handles.push(handle)
      } else if (result.reason === 'exists' || result.reason === 'key') {
        handles.push(await this.#existing(result.job))
      } else {
        throw new OffthreadError(`Could not add job ${record.id}: ${result.reason}`)
      }
    }
    if (added.length > 0) this.#channel.post({ type: 'added', jobs: added })
    return handles
  }

  /**
   * Every dependency must exist (in the store, or earlier in the same batch,
   * which rules out cycles). Returns, per job, whether it starts `blocked`.
   */
  async #checkDependencies(prepared: Prepared[], atomic: boolean): Promise<boolean[]> {
    if (!prepared.some((job) => job.options.dependsOn.length > 0)) return prepared.map(() => false)
    const position = new Map<string, number>()
    prepared.forEach((job, i) => {
      if (job.options.id !== undefined && !position.has(job.options.id)) position.set(job.options.id, i)
    })
    const outside = [...new Set(prepared.flatMap((job) => job.options.dependsOn).filter((id) => !position.has(id)))]
    const found = new Map((await this.#store.get(outside)).map((job, i) => [outside[i] as string, job]))
    return prepared.map((job, i) =>
      job.options.dependsOn.some((dep) => {
        const at = position.get(dep)
        if (at !== undefined) {
          if (at >= i) {
            throw new TypeError(
              `Invalid option "dependsOn"${atomic ? ` of jobs[${i}]` : ''}: job "${dep}" comes later in the same batch; a job can only wait for jobs added before it (no cycles)`,
            )
          }
          return true
        }
        const stored = found.get(dep)
        if (!stored) throw new TypeError(`Invalid option "dependsOn"${atomic ? ` of jobs[${i}]` : ''}: no job has the id "${dep}"`)
        return stored.status !== 'completed'
      }),
    )
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
  async chain<const S extends readonly FlowStep<T>[]>(steps: S, options: { id?: string } = {}): Promise<FlowHandle<ChainOutput<T, S>>> {
    if (!Array.isArray(steps)) throw invalidOption('steps', 'an array of { name, data?, options? }', steps)
    return (await this.#flow({ chain: steps }, options)) as FlowHandle<ChainOutput<T, S>>
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
    return (await this.#flow({ group: jobs }, options)) as FlowHandle<GroupOutput<T, G>>
  }

  async #flow(root: { chain: readonly unknown[] } | { group: readonly unknown[] }, options: { id?: string }): Promise<FlowHandle> {
    if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object { id? }', options)
    const id = options.id ?? newId()
    if (typeof id !== 'string' || id.length === 0) throw invalidOption('id', 'a non-empty string', id)
    const { jobs, terminal } = expand(root, id, undefined, 'chain' in root ? 'steps' : 'jobs')
    const now = Date.now()
    const prepared: Prepared[] = jobs.map((job) => {
      if (job.name === JOIN_TASK && !job.join) throw invalidOption('name', 'a task name of the worker module', job.name)
      const resolved = resolveJobOptions({ ...job.options, id: job.id, dependsOn: job.dependsOn }, now)
      return job.inputFrom === undefined
        ? { name: job.name, data: job.data, options: resolved }
        : { name: job.name, data: job.data, options: resolved, inputFrom: job.inputFrom }
    })
    const handles = await this.#persist(prepared, true, now)
    const byId = new Map(handles.map((h) => [h.id, h]))
    const steps = jobs.filter((job) => !job.join).map((job) => byId.get(job.id) as JobHandle)
    return new Flow(id, byId.get(terminal) as JobHandle, steps, handles)
  }

  #newRecord(job: Prepared, now: number, taskPriority: number | undefined, blocked: boolean): Omit<JobRecord, 'seq'> {
    const { name, options } = job
    const defaults = this.#options.defaults
    const runAt = options.debounce ? now + options.debounce.delay : (options.runAt ?? (defaults.delay ? now + defaults.delay : now))
    const record: Omit<JobRecord, 'seq'> = {
      id: options.id ?? newId(),
      name,
      queue: this.#options.name,
      status: blocked ? 'blocked' : runAt > now ? 'delayed' : 'waiting',
      rev: 1,
      priority: options.priority ?? taskPriority ?? defaults.priority ?? 0,
      attempt: 1,
      createdAt: now,
      runAt,
      dependencies: options.dependsOn,
      options: options.stored,
      interruptions: 0,
    }
    if (options.key !== undefined) record.key = options.key
    if (job.inputFrom !== undefined) record.inputFrom = job.inputFrom
    if (options.debounce !== undefined) record.debounce = options.debounce.key
    return record
  }

  /** The worker module's tasks, when this tab can know them (its own pool, or the runner's word). */
  async #manifest(): Promise<Record<string, { priority?: number }> | undefined> {
    const pool = this.#dispatcher?.pool
    if (!pool) return this.#remoteManifest?.tasks
    return (pool.manifest ?? (await pool.whenManifest()))?.tasks
  }

  async #existing(job: JobRecord): Promise<JobHandle> {
    const live = this.#handles.get(job.id)?.deref()
    if (live) return live
    const full = await this.#store.getFull(job.id)
    if (!full) return this.#handleFor(job, undefined)
    const { data, result, ...record } = full
    return this.#handleFor(record, data, result)
  }

  #handleFor(job: JobRecord, data: unknown, result?: unknown): Handle {
    const live = this.#handles.get(job.id)?.deref()
    if (live) {
      live.update(job, { data, result, hasData: true })
      return live
    }
    const handle = new Handle(this.#host, job, data, result)
    this.#handles.set(job.id, new WeakRef(handle))
    this.#finalizer.register(handle, job.id)
    return handle
  }

  /**
   * A live handle for any job, by id.
   *
   * @returns undefined when no job has that id
   */
  async getJob<R = unknown>(id: string): Promise<JobHandle<R> | undefined> {
    if (typeof id !== 'string') throw invalidOption('id', 'a job id (string)', id)
    await this.#ready()
    const live = this.#handles.get(id)?.deref()
    if (live) return live as unknown as JobHandle<R>
    const full = await this.#store.getFull(id)
    if (!full) return undefined
    const { data, result, ...job } = full
    return this.#handleFor(job, data, result) as unknown as JobHandle<R>
  }

  /** Jobs, newest first. */
  async list(options: ListOptions = {}): Promise<JobSnapshot[]> {
    const query = validateList(options)
    await this.#ready()
    const jobs = await this.#store.list(query)
    return jobs.map(({ data, result, ...job }: StoredJob) => toSnapshot(job, data, result))
  }

  /** How many jobs there are in each status. */
  async counts(): Promise<Record<JobStatus, number>> {
    await this.#ready()
    return this.#store.counts()
  }

  /**
   * Puts a `failed` or `cancelled` job back in the queue; its attempts start again.
   *
   * @throws TypeError when the job is in another status, or does not exist
   */
  async retry(id: string): Promise<JobHandle> {
    await this.#ready()
    const [job] = await this.#store.get([id])
    if (!job) throw new TypeError(`Cannot retry job "${id}": no job has that id`)
    if (job.status !== 'failed' && job.status !== 'cancelled') {
      throw new TypeError(`Cannot retry job "${id}": it is ${job.status}; only failed or cancelled jobs can be retried`)
    }
    const next: JobRecord = { ...job, status: 'waiting', attempt: 1, interruptions: 0, runAt: Date.now(), rev: job.rev + 1 }
    delete next.finishedAt
    delete next.startedAt
    delete next.progress
    const [result] = await this.#committer.write([{ op: 'put', job: next, expect: ['failed', 'cancelled'] }])
    if (!result?.ok) throw new TypeError(`Cannot retry job "${id}": it changed meanwhile`)
    const [data] = await this.#store.getData([id])
    this.#dispatcher?.enqueue(next, { data, transfer: [] })
    this.#publish({ event: 'requeued', job: next, data }, true)
    return this.#handleFor(next, data)
  }

  /** Stops taking new jobs; running ones finish. */
  pause(): void {
    this.#started = false
    this.#dispatcher?.pause()
  }

  /** Takes new jobs again after `pause()`. */
  resume(): void {
    this.start()
  }

  /** Starts dispatching (after `autostart: false`, or `pause()`). */
  start(): void {
    if (this.#closed) throw this.#closed
    this.#started = true
    void this.#opened.then(() => {
      if (this.#started && !this.#closed) this.#dispatcher?.start()
    }, () => undefined)
  }

  /** Resolves when nothing is waiting, delayed-and-due or running. */
  async idle(): Promise<void> {
    await this.#ready()
    const dispatcher = this.#dispatcher
    if (dispatcher) {
      if (dispatcher.isIdle()) return
      await new Promise<void>((resolve, reject) => {
        const offIdle = this.#events.on('idle', () => {
          if (!dispatcher.isIdle()) return
          offIdle()
          resolve()
        })
        this.#whenClosed(() => {
          offIdle()
          reject(this.#closed)
        })
      })
      return
    }
    // A tab that does not run jobs sees the store.
    for (;;) {
      const counts = await this.#store.counts()
      if (counts.waiting + counts.running === 0) return
      await new Promise<void>((resolve) => {
        const offs = (['completed', 'failed', 'cancelled'] as const).map((e) => this.#events.on(e, () => done()))
        const done = (): void => {
          for (const off of offs) off()
          resolve()
        }
      })
    }
  }

  /**
   * Deletes finished jobs of `status` (with their data, results, logs and errors).
   *
   * @param options.olderThan - only those that finished more than this many ms ago
   * @returns how many were deleted
   */
  async clean(options: { status: 'completed' | 'failed' | 'cancelled' | ReadonlyArray<'completed' | 'failed' | 'cancelled'>; olderThan?: number }): Promise<number> {
    if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object { status, olderThan? }', options)
    const statuses = ([] as unknown[]).concat(options.status)
    for (const status of statuses) {
      if (!FINAL_STATUSES.includes(status as JobStatus)) {
        throw invalidOption('status', "'completed', 'failed' or 'cancelled' (or an array of them)", status)
      }
    }
    const olderThan = options.olderThan ?? 0
    if (typeof olderThan !== 'number' || !(olderThan >= 0)) throw invalidOption('olderThan', 'a number of ms ≥ 0', olderThan, RangeError)
    await this.#ready()
    let count = 0
    for (const status of statuses as JobStatus[]) count += await this.#retention.clean(status, olderThan)
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
    const timeout = options.timeout ?? DEFAULTS.closeTimeout
    if (typeof timeout !== 'number' || !(timeout >= 0)) {
      return Promise.reject(invalidOption('timeout', 'a number of ms ≥ 0', timeout, RangeError))
    }
    this.#closing ??= (async () => {
      const closed = new QueueClosedError(`The queue "${this.name}" is closed`)
      this.#closed = closed
      await this.#opened.catch(() => undefined)
      await this.#becoming?.catch(() => undefined)
      this.#scheduler?.stop()
      await this.#dispatcher?.close(timeout)
      await this.#retention.stop()
      await this.#committer.settled()
      this.#leadership?.release()
      this.#channel.close()
      for (const resolve of this.#requests.values()) resolve(false)
      await this.#store.close()
      for (const ref of this.#handles.values()) ref.deref()?.abandon(closed)
      for (const listener of this.#closeListeners.splice(0)) listener()
    })()
    return this.#closing
  }

  #closeListeners: Array<() => void> = []
  #whenClosed(listener: () => void): void {
    this.#closeListeners.push(listener)
  }

  /** Listens to a queue event; returns the unsubscribe function. */
  on<K extends keyof QueueEvents>(event: K, listener: QueueEvents[K]): () => void {
    return this.#events.on(event, listener)
  }

  /** Removes a listener added with `on`. */
  off<K extends keyof QueueEvents>(event: K, listener: QueueEvents[K]): void {
    this.#events.off(event, listener)
  }

  async #cancel(id: string, reason: string | undefined): Promise<boolean> {
    await this.#ready()
    const mine = await this.#dispatcher?.cancel(id, reason)
    if (mine !== undefined) return mine
    const [job] = await this.#store.get([id])
    if (!job || isFinal(job.status)) return false
    // Another tab runs it: only the runner can abort its worker. With no runner left, it is stale: write.
    if (job.status === 'running' && !this.#dispatcher && (await runnerExists(this.#options.name))) {
      return this.#askRunner(id, reason)
    }
    const next: JobRecord = {
      ...job,
      status: 'cancelled',
      finishedAt: Date.now(),
      error: serializeError(new JobCancelledError(reason ?? 'The job was cancelled')),
      rev: job.rev + 1,
    }
    const [result] = await this.#committer.write([{ op: 'put', job: next, expect: [job.status] }])
    if (!result?.ok) {
      // It moved on meanwhile (started, or finished): look again.
      return result && !result.ok && result.reason === 'conflict' && result.job && !isFinal(result.job.status)
        ? this.#cancel(id, reason)
        : false
    }
    this.#publish({ event: 'cancelled', job: next, reason }, true)
    this.#dispatcher?.forget(next)
    return true
  }

  #askRunner(id: string, reason: string | undefined): Promise<boolean> {
    const request = nanoid()
    return new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#requests.delete(request)
        reject(new WorkerError(`Cannot cancel job ${id}: the tab that runs it did not answer within ${RUNNER_REPLY_TIMEOUT} ms`))
      }, RUNNER_REPLY_TIMEOUT)
      this.#requests.set(request, (ok) => {
        clearTimeout(timer)
        this.#requests.delete(request)
        resolve(ok)
      })
      this.#channel.post({ type: 'cancel', id, reason, request })
    })
  }

  /** What other tabs of this queue say. */
  #onChannel(message: ChannelMessage): void {
    if (this.#closed) return
    const dispatcher = this.#dispatcher
    switch (message.type) {
      case 'change': {
        const change = message.change as JobChange
        this.#publish(change, false)
        if (dispatcher) {
          if (change.event === 'requeued') dispatcher.enqueue(change.job)
          else if (change.event === 'cancelled') dispatcher.forget(change.job)
        }
        break
      }
      case 'added':
        for (const job of message.jobs) {
          if (dispatcher) dispatcher.enqueue(job)
          if (this.#events.has('added')) this.#events.emit('added', toSnapshot(job, undefined), undefined)
        }
        break
      case 'cancel':
        if (dispatcher) {
          void this.#cancel(message.id, message.reason).then(
            (ok) => this.#channel.post({ type: 'cancel-reply', request: message.request, ok }),
            () => this.#channel.post({ type: 'cancel-reply', request: message.request, ok: false }),
          )
        }
        break
      case 'cancel-reply':
        this.#requests.get(message.request)?.(message.ok)
        break
      case 'manifest':
        this.#remoteManifest = message.manifest
        break
      case 'schedules':
        void this.#scheduler?.load()
        break
    }
  }

  /** Shows a committed change to handles and listeners; a local one is told to the other tabs too. */
  #publish(change: JobChange, local: boolean): void {
    const { job } = change
    if (local) {
      const { data: _data, ...shared } = change
      this.#channel.post({ type: 'change', change: shared })
    }
    const handle = this.#handles.get(job.id)?.deref()
    const hasData = 'data' in change && change.data !== undefined
    const snapshot = (): JobSnapshot =>
      toSnapshot(job, hasData ? change.data : handle?.toJSON().data, change.event === 'completed' ? change.result : undefined)
    switch (change.event) {
      case 'started':
        handle?.update(job, { data: change.data, hasData })
        if (this.#events.has('started')) this.#events.emit('started', snapshot(), job.attempt)
        break
      case 'progress':
        handle?.update(job)
        if (this.#events.has('progress')) this.#events.emit('progress', snapshot(), change.progress)
        break
      case 'log':
        handle?.logged(change.entry)
        if (this.#events.has('log')) this.#events.emit('log', snapshot(), change.entry)
        break
      case 'retrying':
        handle?.update(job)
        if (this.#events.has('retrying')) {
          this.#events.emit('retrying', snapshot(), { attempt: job.attempt, delay: change.delay, error: change.error })
        }
        break
      case 'completed':
        handle?.update(job, { result: change.result })
        if (this.#events.has('completed')) this.#events.emit('completed', snapshot(), change.result)
        this.#retention.schedule()
        break
      case 'failed':
        handle?.update(job)
        if (this.#events.has('failed')) this.#events.emit('failed', snapshot(), change.error)
        this.#retention.schedule()
        break
      case 'cancelled':
        handle?.update(job)
        if (this.#events.has('cancelled')) this.#events.emit('cancelled', snapshot(), change.reason)
        this.#retention.schedule()
        break
      case 'requeued':
        handle?.update(job)
        break
    }
  }

  #error(error: Error): void {
    if (this.#events.has('error')) this.#events.emit('error', error)
    else console.error(`[offthread] queue "${this.name}":`, error)
  }
}

/** A job checked and ready to store. */
interface Prepared {
  name: string
  data: unknown
  options: ResolvedJobOptions
  /** A chain step: its input is this job's result. */
  inputFrom?: string
}

/** Jobs of one addBulk handled between two yields to the page. */
const CHUNK = 1000

const yieldToPage = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0))

/** How long a follower waits for the runner tab to answer a request. */
const RUNNER_REPLY_TIMEOUT = 5000

function validateList(options: ListOptions): ListOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options)
  const out: ListOptions = {}
  if (options.status !== undefined) {
    const statuses = ([] as unknown[]).concat(options.status)
    for (const status of statuses) {
      if (!JOB_STATUSES.includes(status as JobStatus)) throw invalidOption('status', `one of ${JOB_STATUSES.join(', ')}`, status)
    }
    out.status = options.status
  }
  if (options.name !== undefined) {
    if (typeof options.name !== 'string') throw invalidOption('name', 'a task name', options.name)
    out.name = options.name
  }
  for (const key of ['limit', 'offset'] as const) {
    const value = options[key]
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw invalidOption(key, 'an integer ≥ 0', value, RangeError)
    out[key] = value
  }
  return out
}

