/**
 * What a page reads of its queue: a job by id (its live handle), the list, the counts,
 * the live views of them for UI code (one view per query, shared), and the origin's
 * storage figures. The facade (queue.ts) types the calls; the arguments are checked here.
 */
import { fromStored } from '../shared/binary.js'
import type { Emitter } from '../shared/events.js'
import { invalidOption } from '../shared/options.js'
import type { JobSnapshot, JobStatus, ListOptions, QueueEvents } from '../shared/types.js'
import type { Store, StoredJob } from '../store/store.js'
import type { Changes } from './changes.js'
import { toSnapshot, type JobHandle } from './handle.js'
import { validateList } from './list-options.js'
import type { LiveHandles } from './live-handles.js'
import { LiveCounts, queryKey, type LiveHost, type LiveJobStore, type LiveList, type LiveStore, type WatchQuery } from './live.js'
import { LiveJob, LiveViews } from './live-job.js'
import { LiveJobList } from './live-list.js'
import type { QueueState } from './state.js'

/** What the reads use. */
export interface ReadsHost {
  readonly store: Store
  readonly state: QueueState
  readonly events: Emitter<QueueEvents>
  readonly handles: LiveHandles
  readonly changes: Changes
}

/** The queue's reads and live views. */
export class Reads {
  readonly #host: ReadsHost
  /** The live views handed out, shared by query. */
  readonly #views = new LiveViews()
  /** What a live list or the live counts read through: this queue's list, counts and events. */
  readonly #live: LiveHost

  constructor(host: ReadsHost) {
    this.#host = host
    this.#live = { list: (query) => this.list(query), counts: () => this.counts(), on: (event, listener) => host.events.on(event, listener) }
  }

  /** A job's live handle by id (of task `name`, when given); undefined when there is none. */
  async job(id: string, name?: string): Promise<JobHandle | undefined> {
    checkId(id, name)
    await this.#host.state.ready()
    const handle = await this.#find(id)
    // Typed by a task: a job of another task is not that task's job.
    return name === undefined || handle?.name === name ? handle : undefined
  }

  async #find(id: string): Promise<JobHandle | undefined> {
    const { store, handles, changes } = this.#host
    const live = handles.get(id)
    // A finished job may have been deleted (by another tab's clean or retention): make sure.
    if (live && (!live.isDone() || (await store.get([id]))[0])) return live
    if (live) changes.removed([id], 'elsewhere')
    // Metadata and result only: a job's data (100 MB, maybe) is read when `handle.data()` asks.
    const full = await store.getFull(id, { data: false })
    if (!full) return undefined
    const { data: _data, result, ...job } = full
    return handles.handleFor(job, undefined, result)
  }

  async list(options: ListOptions): Promise<JobSnapshot[]> {
    const query = validateList(options)
    await this.#host.state.ready()
    const jobs = await this.#host.store.list(query)
    if (query.data) return Promise.all(jobs.map(async ({ data, result, ...job }: StoredJob) => toSnapshot(job, await fromStored(data), result)))
    return jobs.map(({ data, result, ...job }: StoredJob) => toSnapshot(job, data, result))
  }

  async counts(): Promise<Record<JobStatus, number>> {
    await this.#host.state.ready()
    return this.#host.store.counts()
  }

  /** The live list of `query`: views of the same query share one list (one read per change, however many views). */
  watch(query: WatchQuery): LiveList {
    validateList({ ...query })
    return this.#views.get(`list:${queryKey(query)}`, () => new LiveJobList(this.#live, query))
  }

  watchCounts(): LiveStore<Readonly<Record<JobStatus, number>>> {
    return this.#views.get('counts', () => new LiveCounts(this.#live))
  }

  watchJob(id: string, name?: string): LiveJobStore {
    checkId(id, name)
    const on = this.#host.events.on.bind(this.#host.events)
    return this.#views.get(`job:${name ?? ''}\u0000${id}`, () => new LiveJob({ getJob: (job) => this.job(job, name), on }, id))
  }
}

/** Calls from plain JS, or typed with `any`, are checked: a clear error, not a wrong read. */
function checkId(id: unknown, name: unknown): void {
  if (typeof id !== 'string') throw invalidOption('id', 'a job id (string)', id)
  if (name !== undefined && typeof name !== 'string') throw invalidOption('name', 'a task name (string)', name)
}

/**
 * What the browser says of this origin's storage: whether it is persisted, its usage and
 * quota in bytes; a field is left out where the engine does not tell.
 */
export async function storageFigures(): Promise<{ persisted?: boolean; usage?: number; quota?: number }> {
  const manager = typeof navigator !== 'undefined' ? navigator.storage : undefined
  const out: { persisted?: boolean; usage?: number; quota?: number } = {}
  const [persisted, estimate] = await Promise.all([manager?.persisted?.().catch(() => undefined), manager?.estimate?.().catch(() => undefined)])
  if (typeof persisted === 'boolean') out.persisted = persisted
  if (typeof estimate?.usage === 'number') out.usage = estimate.usage
  if (typeof estimate?.quota === 'number') out.quota = estimate.quota
  return out
}
