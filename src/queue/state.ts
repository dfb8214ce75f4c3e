/**
 * A queue's own state, one object shared by its engines: whether it is open
 * or closed, this tab's runner while it is one, and where the queue's trouble
 * is reported.
 */
import type { Dispatcher } from '../runner/dispatcher.js'
import { QueueClosedError, isStoreGone } from '../shared/errors.js'
import type { Emitter } from '../shared/events.js'
import type { QueueEvents } from '../shared/types.js'

/** The state of one queue, as its facade and engines see it. */
export class QueueState {
  readonly name: string
  /** The dispatcher, while this tab is the runner. */
  runner: Dispatcher | undefined
  /** Why the queue cannot be used (it closed), or undefined. */
  closed: QueueClosedError | undefined
  /** Settles once the store is open (and, where the lock was free, this tab runs the queue). */
  opened: Promise<void> = Promise.resolve()
  #events: Emitter<QueueEvents>
  #fatal: (error: QueueClosedError) => void

  /**
   * @param fatal - the store can no longer be used here: close the queue with this reason
   */
  constructor(name: string, events: Emitter<QueueEvents>, fatal: (error: QueueClosedError) => void) {
    this.name = name
    this.#events = events
    this.#fatal = fatal
  }

  /** Rejects once the queue closed; else waits for it to be open. */
  async ready(): Promise<void> {
    if (this.closed) throw this.closed
    await this.opened
  }

  /** The queue's own trouble: the `error` event (or the console, when nobody listens). */
  report(error: Error): void {
    if (this.#events.has('error')) this.#events.emit('error', error)
    else console.error(`[offthread] queue "${this.name}":`, error)
    if (isStoreGone(error) && !this.closed) {
      // Another tab upgraded the database to a newer schema: nothing more can be stored here.
      // Tell the app first (it may ask its user to reload), then close, so that every waiting
      // handle hears why, and the newer tab can run the queue.
      this.#events.emit('outdated', error)
      this.#fatal(new QueueClosedError(`The queue "${this.name}" closed: ${error.message}`, { cause: error }))
    }
  }
}
