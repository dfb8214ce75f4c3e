/**
 * The inspector's counts per status, live: re-read with `queue.counts()`
 * after the queue's events, with a pause between reads that grows with what
 * a read costs. Seven index counts are cheap on a small store, but on
 * Chromium's on-disk IndexedDB each one walks its range: with 100,000 stored
 * jobs one `counts()` takes about a second there, and reading again after
 * every frame's events (what `watchCounts()` does) keeps the database busy
 * and slowed the runner's commits more than tenfold. Here the database is
 * left alone at least four times as long as the last read took.
 */
import { JOB_STATUSES, type JobStatus } from '../../shared/types.js'
import { isClosedError } from './dom.js'
import type { InspectedQueue } from './types.js'

/** The least time between two reads, in ms. */
const MIN_SPACING = 200
/** The pause after a read, as a multiple of how long it took. */
const COST_FACTOR = 4

/** The events after which the counts may have changed. */
const EVENTS = ['added', 'started', 'retrying', 'requeued', 'completed', 'failed', 'cancelled'] as const

export type Counts = Readonly<Record<JobStatus, number>>

/** Follows a queue's counts per status; `listener` hears each new value. */
export class CountsFeed {
  #queue: InspectedQueue
  #listener: (counts: Counts) => void
  #offs: Array<() => void> = []
  #timer: ReturnType<typeof setTimeout> | undefined
  #reading = false
  /** A change was heard since the last read started. */
  #pending = false
  #startedAt = -Infinity
  #cost = 0
  #last: Counts | undefined
  #stopped = false

  constructor(queue: InspectedQueue, listener: (counts: Counts) => void) {
    this.#queue = queue
    this.#listener = listener
    const changed = (): void => this.#changed()
    for (const event of EVENTS) this.#offs.push(queue.on(event, changed))
    this.#offs.push(queue.on('removed', changed))
    this.#offs.push(queue.on('role', changed))
    this.#changed()
  }

  /** Stops listening and reading. */
  stop(): void {
    this.#stopped = true
    for (const off of this.#offs.splice(0)) off()
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #changed(): void {
    this.#pending = true
    if (this.#timer !== undefined || this.#reading || this.#stopped) return
    const spacing = Math.max(MIN_SPACING, COST_FACTOR * this.#cost)
    const wait = Math.max(0, this.#startedAt + spacing - performance.now())
    this.#timer = setTimeout(() => void this.#read(), wait)
  }

  async #read(): Promise<void> {
    this.#timer = undefined
    this.#pending = false
    this.#reading = true
    this.#startedAt = performance.now()
    try {
      const counts = await this.#queue.counts()
      this.#cost = performance.now() - this.#startedAt
      if (this.#stopped) return
      if (!this.#last || JOB_STATUSES.some((status) => counts[status] !== this.#last?.[status])) {
        this.#last = Object.freeze({ ...counts })
        this.#listener(this.#last)
      }
    } catch (error) {
      // A closed queue: nothing more to read. Anything else: reported; the next change reads again.
      if (isClosedError(error)) this.#stopped = true
      else if (typeof reportError === 'function') reportError(error)
    } finally {
      this.#reading = false
      if (this.#pending && !this.#stopped) this.#changed()
    }
  }
}
