/**
 * One live handle per job id, held weakly (strongly while it has waiters or
 * listeners), kept current by the change path (changes.ts).
 */
import type { JobChange } from '../runner/transition.js'
import { fromStored, headOfStored } from '../shared/binary.js'
import { JobCancelledError } from '../shared/errors.js'
import { Handle, type HandleHost, type JobHandle } from './handle.js'
import type { JobRecord, Store } from '../store/store.js'
import type { QueueState } from './state.js'

/** What live handles need from their queue. */
export interface LiveHandlesHost {
  readonly store: Store
  readonly state: QueueState
  /** Cancels a job whichever tab runs it. */
  readonly remote: { cancel(id: string, reason: string | undefined): Promise<boolean> }
}

/** The queue's live handles, by job id. */
export class LiveHandles {
  #host: LiveHandlesHost
  /** What each handle reads through: the queue, once it is ready. */
  #handleHost: HandleHost
  #handles = new Map<string, WeakRef<Handle>>()
  #pinned = new Set<object>()
  #finalizer = new FinalizationRegistry<string>((id) => {
    if (this.#handles.get(id)?.deref() === undefined) this.#handles.delete(id)
  })

  constructor(host: LiveHandlesHost) {
    this.#host = host
    const { store } = host
    this.#handleHost = {
      cancel: (id, reason) => host.remote.cancel(id, reason),
      logs: async (id) => (await host.state.ready(), store.logs(id)),
      errors: async (id) => (await host.state.ready(), store.errors(id)),
      read: async (id) => (await host.state.ready(), store.getFull(id, { data: false })),
      data: async (job) => {
        await host.state.ready()
        if (job.inputFrom !== undefined) return (await store.getFull(job.inputFrom, { data: false }))?.result
        // Large binaries were stored as Blobs: read back into their own type (asynchronously).
        return fromStored((await store.getData([job.id]))[0])
      },
      dataHead: async (job, items) => {
        await host.state.ready()
        if (job.inputFrom !== undefined) return (await store.getFull(job.inputFrom, { data: false }))?.result
        return headOfStored((await store.getData([job.id]))[0], items)
      },
      steps: async (id) => (await host.state.ready(), store.steps ? store.steps(id) : {}),
      dependents: async (id) => (await host.state.ready(), (await store.dependents(id)).map((job) => job.id)),
      pin: (handle, pinned) => (pinned ? this.#pinned.add(handle) : this.#pinned.delete(handle)),
      closedError: () => host.state.closed,
    }
  }

  /** The live handle of job `id`, if one is held. */
  get(id: string): Handle | undefined {
    return this.#handles.get(id)?.deref()
  }

  /** The live handle of `job`: the held one brought up to date, or a new one. */
  handleFor(job: JobRecord, data: unknown, result?: unknown): Handle {
    const live = this.get(job.id)
    if (live) {
      live.update(job, { data, result, hasData: true })
      return live
    }
    const handle = new Handle(this.#handleHost, job, data, result)
    this.#handles.set(job.id, new WeakRef(handle))
    this.#finalizer.register(handle, job.id)
    return handle
  }

  /** The handle of a stored job (its result read, not its data) unless a live one is held. */
  async existing(job: JobRecord): Promise<JobHandle> {
    const live = this.get(job.id)
    if (live) return live
    const full = await this.#host.store.getFull(job.id, { data: false })
    if (!full) return this.handleFor(job, undefined)
    const { data, result, ...record } = full
    return this.handleFor(record, data, result)
  }

  /** Jobs were deleted: their handles are no longer the live ones (`getJob` reads the store again). */
  removed(ids: readonly string[]): void {
    for (const id of ids) {
      const handle = this.get(id)
      this.#handles.delete(id)
      if (!handle) continue
      // Deleted before it finished (its database deleted): nothing will ever settle it.
      if (!handle.isDone()) handle.abandon(new JobCancelledError(`Job ${id} (${handle.name}) was deleted before it finished`))
      this.#pinned.delete(handle)
    }
  }

  /** Reads every unfinished live handle's job again (another process may have changed it). */
  async refreshAll(): Promise<void> {
    const open = [...this.#handles.values()].map((ref) => ref.deref()).filter((h): h is Handle => h !== undefined && !h.isDone())
    await Promise.all(open.map((handle) => handle.refresh()))
  }

  /** The queue closed: every held handle stops waiting with `error`. */
  abandon(error: Error): void {
    for (const ref of this.#handles.values()) ref.deref()?.abandon(error)
  }

  /** Shows a committed change to the job's live handle, if one is held; returns it. */
  apply(change: JobChange): Handle | undefined {
    const handle = this.get(change.job.id)
    if (!handle) return undefined
    const { job } = change
    switch (change.event) {
      case 'started':
        handle.update(job, { data: change.data, hasData: 'data' in change && change.data !== undefined })
        break
      case 'log':
        handle.logged(change.entry)
        break
      case 'completed':
        handle.update(job, { result: change.result })
        break
      default:
        handle.update(job)
    }
    return handle
  }
}
