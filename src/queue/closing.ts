/**
 * A queue's end, and the waits that end with it: `close()` stops the engines in the
 * one order that loses nothing (the runner finishes or aborts its jobs, then what
 * writes, then what listens, then the store), and `idle()` and every other wait on the
 * queue reject with the close's error instead of waiting forever.
 */
import { QueueClosedError } from '../shared/errors.js'
import type { Emitter } from '../shared/events.js'
import type { QueueEvents } from '../shared/types.js'
import type { Committer } from '../store/committer.js'
import type { Store } from '../store/store.js'
import type { Retention } from '../runner/retention.js'
import type { LiveHandles } from './live-handles.js'
import type { Releases } from './releases.js'
import type { Tabs } from './remote.js'
import type { Schedules } from './schedules.js'
import type { Seat } from './seat.js'
import type { QueueState } from './state.js'

/** What closing stops, and what it tells. */
export interface ClosingHost {
  readonly store: Store
  readonly committer: Committer
  readonly state: QueueState
  readonly events: Emitter<QueueEvents>
  readonly seat: Seat
  readonly schedules: Schedules
  readonly retention: Retention
  readonly releases: Releases
  readonly tabs: Tabs
  readonly handles: LiveHandles
  /** The queue leaves its name in the page (open-queues.ts). */
  leave(): void
}

/** Closes a queue once, and tells the waits on it. */
export class Closing {
  readonly #host: ClosingHost
  #closing: Promise<void> | undefined
  #shut = false
  #listeners = new Set<() => void>()

  constructor(host: ClosingHost) {
    this.#host = host
  }

  /** Closes the queue (once: a second call gets the first's promise); every pending wait of it rejects with `closed`. */
  shutdown(timeout: number, closed: QueueClosedError): Promise<void> {
    const { state, seat, schedules, retention, committer, releases, tabs, store, handles, events } = this.#host
    this.#closing ??= (async () => {
      state.closed = closed
      await state.settled()
      await seat.settled()
      schedules.stop()
      await state.runner?.close(timeout)
      if (state.runner) {
        // This tab no longer runs the queue (the next one in line takes over).
        state.runner = undefined
        events.emit('role', 'follower')
      }
      await retention.stop()
      await committer.settled()
      seat.close()
      releases.close()
      tabs.close()
      await store.close()
      handles.abandon(closed)
      this.#host.leave()
      this.#shut = true
      const listeners = [...this.#listeners]
      this.#listeners.clear()
      for (const listener of listeners) listener()
    })()
    return this.#closing
  }

  /** Resolves when nothing is waiting, delayed-and-due or running; rejects when the queue closes first. */
  async idle(): Promise<void> {
    const { state, store } = this.#host
    await state.ready()
    for (;;) {
      if (state.closed) throw state.closed
      const dispatcher = state.runner
      if (dispatcher) {
        if (dispatcher.isIdle()) return
      } else {
        // A tab that does not run jobs sees the store.
        const counts = await store.counts()
        if (counts.waiting + counts.running === 0) return
      }
      await this.#next(dispatcher ? ['idle', 'role'] : ['completed', 'failed', 'cancelled', 'role'])
    }
  }

  /** Resolves on the next of `events`; rejects when the queue closes first. Leaves no listener behind. */
  #next(events: ReadonlyArray<'idle' | 'role' | 'completed' | 'failed' | 'cancelled'>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (settle: () => void): void => {
        for (const off of offs) off()
        offClose()
        settle()
      }
      const offs = events.map((event) => this.#host.events.on(event, () => done(resolve)))
      const offClose = this.#whenClosed(() => done(() => reject(this.#host.state.closed ?? new QueueClosedError())))
    })
  }

  /** Calls `listener` once the queue has closed (at once if it has); returns the unsubscribe function. */
  #whenClosed(listener: () => void): () => void {
    if (this.#shut) {
      listener()
      return () => undefined
    }
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}
