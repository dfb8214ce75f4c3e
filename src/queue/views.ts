/**
 * The live views a page asks its queue for (`watch`, `watchCounts`, `watchJob`), one per
 * query, shared. They read through the queue's own calls (`list`, `counts`, `getJob`), so
 * they are made at once, before the rest of the queue has loaded (engines.ts).
 */
import { invalidOption } from '../shared/options.js'
import type { JobStatus } from '../shared/types.js'
import { validateList } from './list-options.js'
import { LiveCounts, queryKey, type LiveHost, type LiveJobHost, type LiveJobStore, type LiveList, type LiveStore, type WatchQuery } from './live.js'
import { LiveJob, LiveViews } from './live-job.js'
import { LiveJobList } from './live-list.js'

/** What the views read through: the queue's calls and events. */
export interface ViewsHost extends LiveHost {
  getJob(id: string, name?: string): ReturnType<LiveJobHost['getJob']>
}

/** The queue's live views, shared by query. */
export class Views {
  readonly #host: ViewsHost
  readonly #views = new LiveViews()

  constructor(host: ViewsHost) {
    this.#host = host
  }

  /** The live list of `query`: views of the same query share one list (one read per change, however many views). */
  watch(query: WatchQuery): LiveList {
    validateList({ ...query })
    return this.#views.get(`list:${queryKey(query)}`, () => new LiveJobList(this.#host, query))
  }

  watchCounts(): LiveStore<Readonly<Record<JobStatus, number>>> {
    return this.#views.get('counts', () => new LiveCounts(this.#host))
  }

  watchJob(id: string, name?: string): LiveJobStore {
    checkId(id, name)
    const host = this.#host
    return this.#views.get(
      `job:${name ?? ''}\u0000${id}`,
      () => new LiveJob({ getJob: (job) => host.getJob(job, name), on: (event, listener) => host.on(event, listener) }, id),
    )
  }
}

/** Calls from plain JS, or typed with `any`, are checked: a clear error, not a wrong read. */
export function checkId(id: unknown, name: unknown): void {
  if (typeof id !== 'string') throw invalidOption('id', 'a job id (string)', id)
  if (name !== undefined && typeof name !== 'string') throw invalidOption('name', 'a task name (string)', name)
}
