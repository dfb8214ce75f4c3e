/**
 * Retention: deletes finished jobs (with their data, results, logs and errors)
 * past their age or count, in small batches that yield to the page between
 * them.
 */
import type { Committer } from '../store/committer.js'
import type { ResolvedRetention } from '../shared/options.js'
import type { Store } from '../store/store.js'
import type { JobStatus } from '../shared/types.js'
import { yieldToPage } from '../shared/timers.js'

const BATCH = 200
const SWEEP_DELAY = 1000
const SWEEP_INTERVAL = 10_000

/** Keeps finished jobs within the queue's `retention` rules. */
export class Retention {
  #store: Store
  #committer: Committer
  #rules: ResolvedRetention
  #onError: (error: Error) => void
  #onDeleted: (ids: readonly string[]) => void
  #timer: ReturnType<typeof setTimeout> | undefined
  #lastSweep = 0
  #sweeping: Promise<void> | undefined
  #stopped = false

  /**
   * @param onDeleted - jobs were deleted (their live handles must go)
   */
  constructor(
    store: Store,
    committer: Committer,
    rules: ResolvedRetention,
    onError: (error: Error) => void,
    onDeleted: (ids: readonly string[]) => void = () => undefined,
  ) {
    this.#onDeleted = onDeleted
    this.#store = store
    this.#committer = committer
    this.#rules = rules
    this.#onError = onError
  }

  /** A job finished: sweep soon (at most once per {@link SWEEP_INTERVAL}). */
  schedule(): void {
    if (this.#timer !== undefined || this.#stopped) return
    const wait = Math.max(SWEEP_DELAY, this.#lastSweep + SWEEP_INTERVAL - Date.now())
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#sweeping ??= this.sweep()
        .then(() => undefined)
        .catch((error: unknown) => this.#onError(error as Error))
        .finally(() => (this.#sweeping = undefined))
    }, wait)
  }

  /** Applies every rule now. */
  async sweep(): Promise<number> {
    this.#lastSweep = Date.now()
    let deleted = 0
    for (const status of ['completed', 'failed', 'cancelled'] as const) {
      const rule = this.#rules[status]
      if (!rule || (rule.age === undefined && rule.count === undefined)) continue
      const limits: { finishedBefore?: number; keep?: number } = {}
      if (rule.age !== undefined) limits.finishedBefore = Date.now() - rule.age
      if (rule.count !== undefined) limits.keep = rule.count
      deleted += await this.#delete(status, limits)
    }
    return deleted
  }

  /** Deletes the finished jobs of `status` that finished more than `olderThan` ms ago. */
  clean(status: JobStatus, olderThan: number): Promise<number> {
    return this.#delete(status, { finishedBefore: Date.now() - olderThan + 1 })
  }

  /** Stops sweeping; resolves once a sweep under way has ended. */
  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    await this.#sweeping
  }

  async #delete(status: JobStatus, limits: { finishedBefore?: number; keep?: number }): Promise<number> {
    let deleted = 0
    for (;;) {
      const ids = await this.#store.expired(status, limits, BATCH)
      if (ids.length === 0) break
      await this.#committer.write([{ op: 'delete', ids }])
      this.#onDeleted(ids)
      deleted += ids.length
      if (ids.length < BATCH) break
      await yieldToPage()
    }
    return deleted
  }
}
