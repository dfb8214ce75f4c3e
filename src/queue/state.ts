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
  /** Whether dispatching is wanted: `autostart` or `start()`, not since `pause()`. */
  started = false
  #opened: Promise<void> = Promise.resolve()
  /** What opens the queue, while it waits for a first use (see {@link deferOpen}). */
  #open: (() => Promise<void>) | undefined
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

  /** Dispatching from now on (at once, or once open, if this tab is the runner then). */
  start(): void {
    if (this.closed) throw this.closed
    this.started = true
    void this.opened.then(
      () => {
        if (this.started && !this.closed) this.runner?.start()
      },
      () => undefined,
    )
  }

  /** No new jobs from now on; running ones finish. */
  pause(): void {
    this.started = false
    this.runner?.pause()
  }

  /**
   * Settles once the store is open (and, where the lock was free, this tab runs the
   * queue); asking opens a queue that waits for its first use.
   */
  get opened(): Promise<void> {
    const open = this.#open
    if (open && !this.closed) {
      this.#open = undefined
      this.#opened = open()
      // Errors of opening surface on every call and as an `error` event; none go unhandled.
      this.#opened.catch((error: unknown) => this.report(error as Error))
    }
    return this.#opened
  }

  /** Opens the queue now. */
  open(open: () => Promise<void>): void {
    this.#open = open
    void this.opened
  }

  /**
   * Opens the queue at its first use: where nothing stored can be waiting (a memory store),
   * so that a queue made at module scope and never used (a server render) starts nothing.
   */
  deferOpen(open: () => Promise<void>): void {
    this.#open = open
  }

  /** Settles once an opening under way has (without starting one). */
  settled(): Promise<void> {
    return this.#opened.catch(() => undefined)
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
