/**
 * What a page reads of its queue: a job by id (its live handle), the list, the counts,
 * and the origin's storage figures. The facade (queue.ts) types the calls; the arguments
 * are checked here. (The live views of them are views.ts's.)
 */
import { fromStored } from '../shared/binary.js'
import type { JobSnapshot, JobStatus, ListOptions } from '../shared/types.js'
import type { Store, StoredJob } from '../store/store.js'
import type { Changes } from './changes.js'
import { toSnapshot, type JobHandle } from './handle.js'
import { validateList } from './list-options.js'
import type { LiveHandles } from './live-handles.js'
import type { QueueState } from './state.js'
import { checkId } from './views.js'

/** What the reads use. */
export interface ReadsHost {
  readonly store: Store
  readonly state: QueueState
  readonly handles: LiveHandles
  readonly changes: Changes
}

/** The queue's reads. */
export class Reads {
  readonly #host: ReadsHost
  constructor(host: ReadsHost) {
    this.#host = host
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
