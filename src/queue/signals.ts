/**
 * `queue.signal(jobId, name, payload)`: a signal for a job's `ctx.waitFor(name)`, from any
 * tab. It is stored (a `signal` op: as a step of the job), so a signal sent before the job
 * waits is kept; a job that waits for it already is woken in the same write, and the
 * runner (this tab's, or through the change every tab hears) takes it in.
 */
import { JobDataError, OffthreadError, findUncloneablePath } from '../shared/errors.js'
import type { Committer } from '../store/committer.js'
import type { Store } from '../store/store.js'
import type { Changes } from './changes.js'
import type { QueueState } from './state.js'

/** What sending a signal needs of the queue. */
export interface SignalsHost {
  readonly store: Store
  readonly committer: Committer
  readonly changes: Changes
  readonly state: QueueState
}

/** A queue's signals to its jobs. */
export class Signals {
  #host: SignalsHost

  constructor(host: SignalsHost) {
    this.#host = host
  }

  /**
   * Stores signal `name` with `payload` for job `id`, and wakes the job if it waits for it.
   *
   * @returns false when no unfinished job has that id
   * @throws JobDataError when the payload cannot be stored; OffthreadError when the store keeps no steps
   */
  async send(id: string, name: string, payload: unknown): Promise<boolean> {
    const { store, committer, changes, state } = this.#host
    if (typeof store.steps !== 'function') {
      throw new OffthreadError(`queue.signal(): this store (${store.kind}) keeps no durable steps, so it cannot keep a signal for ctx.waitFor`)
    }
    const [result] = await committer.write([{ op: 'signal', id, name, payload, at: Date.now() }])
    if (!result) return false
    if (!result.ok) {
      if (result.reason === 'conflict') return false
      if (result.reason === 'uncloneable') {
        const path = findUncloneablePath(payload, 'payload')
        throw new JobDataError(`queue.signal("${id}", "${name}", payload): the payload cannot be stored${path ? ` (at ${path})` : ''}`, {
          cause: result.error,
        })
      }
      throw new OffthreadError(`queue.signal("${id}", "${name}"): the store did not keep the signal (${result.reason})`)
    }
    if (result.job) {
      // It waited for this signal: it runs now (every tab hears it; the runner takes it in).
      changes.publish({ event: 'requeued', job: result.job }, 'here')
      state.runner?.enqueue(result.job)
    }
    return true
  }
}
