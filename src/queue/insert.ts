/**
 * Adding jobs: check what `add`, `addBulk`, a flow or a schedule gives,
 * store it (one transaction per call), then hand it to the runner and tell
 * the other tabs. Debounced adds move the waiting job instead; a retry puts a
 * failed or cancelled one back.
 */
import { newId } from '../shared/ids.js'
import { JobDataError, OffthreadError, findUncloneablePath, unknownTask, isQuotaError } from '../shared/errors.js'
import type { JobHandle } from './handle.js'
import { checkRoom, hasLargeBinary, toStored } from './large-data.js'
import { invalidOption, resolveJobOptions, type ResolvedJobOptions } from '../shared/options.js'
import type { Changes } from './changes.js'
import type { LiveHandles } from './live-handles.js'
import type { ResolvedQueueOptions } from './options.js'
import type { QueueState } from './state.js'
import { initialStatus, moved, requeued } from '../runner/transition.js'
import type { Committer } from '../store/committer.js'
import type { JobRecord, Store, WriteOp, WriteResult } from '../store/store.js'
import { JOIN_TASK, type BulkJob, type JobOptions, type TaskMap, type TaskOutput, type TaskProgress } from '../shared/types.js'
import { yieldToPage } from '../shared/timers.js'
import type { Version } from '../shared/release.js'

/** A job checked and ready to store. */
export interface Prepared {
  name: string
  data: unknown
  options: ResolvedJobOptions
  /** A chain step: its input is this job's result. */
  inputFrom?: string
}

/** Jobs of one addBulk handled between two yields to the page. */
const CHUNK = 1000

/** How long `add` waits at most for this tab's worker module to load, to check task names. */
const TASKS_WAIT = 1000

/** What adding jobs needs from its queue. */
export interface InserterHost {
  readonly options: ResolvedQueueOptions
  readonly store: Store
  readonly committer: Committer
  readonly state: QueueState
  readonly changes: Changes
  readonly handles: LiveHandles
  /** This tab's release (stored with each job), and the tasks `add` checks names against. */
  readonly releases: { readonly version: Version | undefined; tasks(within: number): Promise<Record<string, { priority?: number }> | undefined> }
}

/** The error of data that cannot be stored: names the job, and where in its data the culprit sits. */
function dataError(which: string, data: unknown, cause: unknown, more = ''): JobDataError {
  const path = findUncloneablePath(data)
  // Cloneable, yet refused by the store (a Blob where the engine's IndexedDB takes none): its own words say why.
  if (path === undefined && cause instanceof Error)
    return new JobDataError(`Cannot add ${which}: its data cannot be stored: ${cause.message}${more}`, { cause })
  return new JobDataError(`Cannot add ${which}: its data cannot be structured-cloned${path ? ` at ${path}` : ''}${more}`, { cause })
}

/** Prepares and persists the jobs of a queue. */
export class Inserter {
  #host: InserterHost
  #debounceChains = new Map<string, Promise<unknown>>()

  constructor(host: InserterHost) {
    this.#host = host
  }

  /** Checks the jobs of `add` (`atomic: false`) or `addBulk` (`atomic: true`), then stores them. */
  async insert(jobs: readonly BulkJob<TaskMap>[], atomic: boolean): Promise<JobHandle[]> {
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
    return this.persist(prepared, atomic, now)
  }

  /**
   * A debounced add: while a job of this debounce key has not started, it
   * takes the new data and starts `delay` ms from now; else a new job is added.
   * Adds of one key in this tab are done one after another.
   */
  debounced(name: string, data: unknown, options: JobOptions): Promise<JobHandle> {
    const host = this.#host
    const now = Date.now()
    const resolved = resolveJobOptions(options, now)
    const { key, delay } = resolved.debounce as { key: string; delay: number }
    const previous = this.#debounceChains.get(key) ?? Promise.resolve()
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        await host.state.ready()
        const holder = await host.store.debounced(key)
        if (holder && holder.name === name) {
          const next = moved(holder, Date.now() + delay)
          const [result] = await this.#withData([data], ([stored]) =>
            host.committer.write([{ op: 'put', job: next, expect: ['delayed'], data: stored }]),
          )
          if (result && !result.ok && result.reason === 'uncloneable') throw dataError(`the job of task "${name}"`, data, result.error)
          if (result?.ok) {
            host.changes.publish({ event: 'requeued', job: next, data }, 'here')
            host.state.runner?.enqueue(next, { data, transfer: resolved.transfer })
            return host.handles.handleFor(next, data)
          }
        }
        const [handle] = await this.persist([{ name, data, options: resolved }], false, Date.now())
        return handle as JobHandle
      })
    this.#debounceChains.set(key, next)
    void next
      .finally(() => {
        if (this.#debounceChains.get(key) === next) this.#debounceChains.delete(key)
      })
      .catch(() => undefined)
    return next
  }

  /** Puts a `failed` or `cancelled` job back in the queue (see `Queue.retry`); its attempts start again. */
  async requeue(id: string): Promise<JobHandle> {
    const host = this.#host
    await host.state.ready()
    const [job] = await host.store.get([id])
    if (!job) throw new TypeError(`Cannot retry job "${id}": no job has that id`)
    if (job.status === 'completed') throw new TypeError(`Cannot retry job "${id}": it is completed; only failed or cancelled jobs can be retried`)
    if (job.status !== 'failed' && job.status !== 'cancelled') return this.#alreadyBack(job)
    const next = requeued(job, Date.now())
    const [result] = await host.committer.write([{ op: 'put', job: next, expect: ['failed', 'cancelled'] }])
    if (!result?.ok) {
      // Retried meanwhile (another click, another tab): the job is back already.
      const now = result?.reason === 'conflict' ? result.job : undefined
      if (now && now.status !== 'failed' && now.status !== 'cancelled' && now.status !== 'completed') return this.#alreadyBack(now)
      throw new TypeError(`Cannot retry job "${id}": it changed meanwhile (it is ${now?.status ?? 'gone'})`)
    }
    // As stored: the worker reads large binaries back itself; a handle reads the data when asked.
    const [data] = await host.store.getData([id])
    host.state.runner?.enqueue(next, { data, transfer: [] })
    host.changes.publish({ event: 'requeued', job: next }, 'here')
    return host.handles.handleFor(next, undefined)
  }

  /** A retry of a job that is back in the queue already: nothing to do, and said so. */
  #alreadyBack(job: JobRecord): JobHandle {
    console.info(`[offthread] retry("${job.id}"): the job is already ${job.status}; nothing to do`)
    return this.#host.handles.handleFor(job, undefined)
  }

  /** The handles of the jobs with these ids, undefined for those that do not exist. */
  async find(ids: readonly string[]): Promise<Array<JobHandle | undefined>> {
    await this.#host.state.ready()
    const jobs = await this.#host.store.get(ids)
    return Promise.all(jobs.map((job) => (job ? this.#host.handles.existing(job) : Promise.resolve(undefined))))
  }

  /**
   * Runs `write` with `data` in its stored form: large binaries as Blobs, built without a
   * long task (shared/binary.ts), where the store keeps Blobs (`storesBlobs`; WebKit in a
   * private or automated session does not). Elsewhere the data goes as it is: slower for
   * big data, but stored.
   */
  async #withData(data: unknown[], write: (stored: unknown[]) => Promise<WriteResult[]>): Promise<WriteResult[]> {
    // Only IndexedDB: that is where a big ArrayBuffer's clone is a long task; a store of
    // your own (or memoryStore) gets the data as it was given.
    const { store } = this.#host
    if (store.kind !== 'indexeddb' || !data.some(hasLargeBinary) || !((await store.storesBlobs?.()) ?? true)) return write(data)
    await checkRoom(data)
    return write(await Promise.all(data.map(toStored)))
  }

  /** Stores prepared jobs (checked names, known dependencies) and hands them to the runner. */
  async persist(prepared: Prepared[], atomic: boolean, now: number, extra: WriteOp[] = []): Promise<JobHandle[]> {
    const host = this.#host
    await host.state.ready()
    // A worker module that is slow to load, broken or stuck must not hold `add` up:
    // without its word the job is stored unchecked (see shared/release.ts for what a runner then does).
    const manifest = await host.releases.tasks(TASKS_WAIT)
    const version = host.releases.version
    if (manifest) {
      for (const job of prepared) {
        if (job.name !== JOIN_TASK && !(job.name in manifest)) {
          throw unknownTask(job.name, Object.keys(manifest))
        }
      }
    }
    const blocked = await this.#checkDependencies(prepared, atomic)
    const records = prepared.map((job, i) => this.#newRecord(job, now, manifest?.[job.name]?.priority, blocked[i] ?? false, version))
    let results: WriteResult[]
    try {
      results = await this.#withData(
        prepared.map((job) => job.data),
        (stored) =>
          host.committer.write(
            [...records.map((job, i): WriteOp => ({ op: 'insert', job, data: stored[i], fresh: prepared[i]?.options.id === undefined })), ...extra],
            { atomic },
          ),
      )
    } catch (error) {
      if (isQuotaError(error)) host.state.report(error as Error)
      throw error
    }
    // An extra op that lost its condition (a schedule removed meanwhile, a runner's place lost) rolled the batch back: nothing was added.
    if (results.slice(records.length).some((r) => !r.ok && (r.reason === 'conflict' || r.reason === 'fenced'))) return []
    results = results.slice(0, records.length)
    const failed = results.findIndex((r) => !r.ok && r.reason === 'uncloneable')
    if (failed >= 0) {
      const { name, data } = prepared[failed] as (typeof prepared)[number]
      const cause = (results[failed] as { error: unknown }).error
      const which = atomic ? `jobs[${failed}] (task "${name}")` : `the job of task "${name}"`
      throw dataError(which, data, cause, atomic ? '; no job was added' : '')
    }
    const handles: JobHandle[] = []
    let added: Array<{ job: JobRecord; data: unknown }> = []
    for (const [i, result] of results.entries()) {
      if (i % CHUNK === CHUNK - 1) {
        // Thousands of jobs: tell of them in parts, and let the page breathe between them.
        host.changes.added(added, 'here')
        added = []
        await yieldToPage()
      }
      const record = records[i] as Omit<JobRecord, 'seq'>
      const job = prepared[i] as (typeof prepared)[number]
      if (result.ok) {
        const stored: JobRecord = { ...record, seq: result.seq ?? 0 }
        handles.push(host.handles.handleFor(stored, job.data))
        host.state.runner?.enqueue(stored, { data: job.data, transfer: job.options.transfer })
        added.push({ job: stored, data: job.data })
      } else if (result.reason === 'exists' || result.reason === 'key') {
        handles.push(await host.handles.existing(result.job))
      } else {
        throw new OffthreadError(`Could not add job ${record.id}: ${result.reason}`)
      }
    }
    host.changes.added(added, 'here')
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
    const found = new Map((await this.#host.store.get(outside)).map((job, i) => [outside[i] as string, job]))
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

  #newRecord(job: Prepared, now: number, taskPriority: number | undefined, blocked: boolean, version: Version | undefined): Omit<JobRecord, 'seq'> {
    const { name, options } = job
    const defaults = this.#host.options.defaults
    const runAt = options.debounce ? now + options.debounce.delay : (options.runAt ?? (defaults.delay ? now + defaults.delay : now))
    const record: Omit<JobRecord, 'seq'> = {
      id: options.id ?? newId(),
      name,
      queue: this.#host.options.name,
      status: initialStatus(blocked, runAt, now),
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
    if (version !== undefined) record.version = version
    return record
  }
}

/** The handles `addBulk` gives, in order: each typed by its job's task. */
export type BulkHandles<T extends TaskMap, J extends readonly BulkJob<T>[]> = {
  [I in keyof J]: J[I] extends { name: infer K } ? JobHandle<TaskOutput<T[K & keyof T]>, TaskProgress<T[K & keyof T]>> : JobHandle
}
