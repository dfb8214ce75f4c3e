/**
 * The one path every committed change takes, wherever it was made (this tab's
 * runner, an insert, a cancel, a remove, retention, or another tab): the live
 * handles first, then the queue's events, then the other tabs (for a change
 * made here), then retention (in the runner tab, for a job that finished).
 */
import type { Retention } from '../runner/retention.js'
import type { JobChange } from '../runner/transition.js'
import type { Emitter } from '../shared/events.js'
import { isFinal, type QueueEvents } from '../shared/types.js'
import type { JobRecord } from '../store/store.js'
import type { Channel } from '../tabs/channel.js'
import { toSnapshot, type Handle } from './handle.js'
import type { LiveHandles } from './live-handles.js'

/** Where a change was made: here (it is told to the other tabs), or in another tab. */
export type Origin = 'here' | 'elsewhere'

/** A queue's change feed. */
export class Changes {
  #handles: LiveHandles
  #events: Emitter<QueueEvents>
  #channel: Channel
  #retention: Retention | undefined

  constructor(handles: LiveHandles, events: Emitter<QueueEvents>, channel: Channel) {
    this.#handles = handles
    this.#events = events
    this.#channel = channel
  }

  /** This tab became the runner: finished jobs now feed its retention sweeps. */
  set retention(retention: Retention | undefined) {
    this.#retention = retention
  }

  /** A job changed (committed). */
  publish(change: JobChange, origin: Origin): void {
    const handle = this.#handles.apply(change)
    this.#emit(change, handle)
    if (origin === 'here') {
      // Neither data nor result: other tabs read them from the store if they need them.
      const { data: _data, ...shared } = change
      if (shared.event === 'completed') shared.result = undefined
      this.#channel.post({ type: 'change', change: shared })
    }
    if (isFinal(change.job.status)) this.#retention?.schedule()
  }

  /** Jobs were stored (with their data, when this tab added them: their handles exist already). */
  added(jobs: ReadonlyArray<{ job: JobRecord; data?: unknown }>, origin: Origin): void {
    if (this.#events.has('added')) {
      for (const { job, data } of jobs) this.#events.emit('added', toSnapshot(job, data), undefined)
    }
    if (origin === 'here' && jobs.length > 0) this.#channel.post({ type: 'added', jobs: jobs.map(({ job }) => job) })
  }

  /** Jobs were deleted (`remove`, `clean`, retention, a database deleted). */
  removed(ids: readonly string[], origin: Origin): void {
    if (ids.length === 0) return
    this.#handles.removed(ids)
    if (this.#events.has('removed')) this.#events.emit('removed', ids)
    if (origin === 'here') this.#channel.post({ type: 'removed', ids: [...ids] })
  }

  #emit(change: JobChange, handle: Handle | undefined): void {
    const events = this.#events
    const { job } = change
    if (!events.has(change.event)) return
    const data = 'data' in change && change.data !== undefined ? change.data : handle?.toJSON().data
    const snapshot = toSnapshot(job, data, change.event === 'completed' ? change.result : undefined)
    switch (change.event) {
      case 'started':
        events.emit('started', snapshot, job.attempt)
        break
      case 'progress':
        events.emit('progress', snapshot, change.progress)
        break
      case 'log':
        events.emit('log', snapshot, change.entry)
        break
      case 'retrying':
        events.emit('retrying', snapshot, { attempt: job.attempt, delay: change.delay, error: change.error })
        break
      case 'completed':
        events.emit('completed', snapshot, change.result)
        break
      case 'failed':
        events.emit('failed', snapshot, change.error)
        break
      case 'cancelled':
        events.emit('cancelled', snapshot, change.reason)
        break
      case 'requeued':
        events.emit('requeued', snapshot, undefined)
        break
    }
  }
}
