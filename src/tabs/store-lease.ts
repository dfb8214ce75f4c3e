/**
 * One runner per queue across processes: a lease row in a store shared between
 * them (`sqliteStore`), where no Web Locks reach. The holder renews it every
 * third of its ttl; the others try to take it now and then, and get it once it
 * has run out (or at once, when the store knows its holder's process is gone).
 * The lease's token is the store's runner token: every write of a runner that
 * lost its lease is fenced off.
 */
import { newId } from '../shared/ids.js'
import { setUnrefTimeout } from '../shared/timers.js'
import type { Store } from '../store/store.js'
import type { RunnerElection } from './leadership.js'

/** Options of {@link StoreLease}. */
export interface StoreLeaseOptions {
  /** How long (ms) a lease lasts unless renewed: a takeover after a crash waits this long at most. */
  ttl: number
}

/** How often a waiting process tries to take the lease, at most (ms). */
const MAX_POLL = 1000

type LeasingStore = Store & { lease(token: string, ttl: number): Promise<boolean> }

/** Holds (or waits for) the runner lease of one queue in its store. */
export class StoreLease implements RunnerElection {
  #store: LeasingStore
  #ttl: number
  #token = ''
  #held = false
  #timer: ReturnType<typeof setTimeout> | undefined
  /** +1 on every acquire and release: a tick of an older one does nothing. */
  #generation = 0
  #onAcquire: (() => void) | undefined
  /** When the lease was last renewed (a renewal that throws keeps the lease until its ttl ran out since). */
  #renewedAt = 0
  onLost: (() => void) | undefined

  /**
   * @param store - a store with `lease` (`sqliteStore`)
   * @param options.ttl - the lease's length in ms
   */
  constructor(store: Store, options: StoreLeaseOptions) {
    if (typeof store?.lease !== 'function') throw new TypeError('StoreLease: the store has no lease(); elect the runner with Web Locks instead')
    if (typeof options?.ttl !== 'number' || !(options.ttl > 0) || !Number.isFinite(options.ttl)) {
      throw new RangeError(`StoreLease: invalid option "ttl": expected a number of ms > 0, received ${String(options?.ttl)}`)
    }
    this.#store = store as LeasingStore
    this.#ttl = options.ttl
  }

  /** Whether this queue holds the lease now. */
  get held(): boolean {
    return this.#held
  }

  /** The token of the current (or awaited) holding: the store's runner token while held. */
  get token(): string {
    return this.#token
  }

  /**
   * Takes the lease if it is free and resolves true (then renews it every ttl/3);
   * else resolves false and tries again every min(ttl/4, 1 s), calling `onAcquire`
   * when it gets it.
   */
  async acquire(onAcquire: () => void): Promise<boolean> {
    const generation = ++this.#generation
    this.#stopTimer()
    this.#onAcquire = onAcquire
    const token = newId()
    this.#token = token
    let got = false
    try {
      got = await this.#store.lease(token, this.#ttl)
    } catch (error) {
      // A store that failed now may answer later: wait in line as if the lease were taken.
      console.error('[offthread] runner lease:', error)
    }
    if (generation !== this.#generation) {
      if (got) this.#giveUp(token)
      return false
    }
    if (got) {
      this.#took()
      return true
    }
    this.#poll(generation)
    return false
  }

  /** Gives the lease up (or stops waiting for it). */
  release(): void {
    this.#generation++
    this.#stopTimer()
    this.#onAcquire = undefined
    if (this.#held) {
      this.#held = false
      this.#giveUp(this.#token)
    }
  }

  #giveUp(token: string): void {
    this.#store.lease(token, 0).catch(() => undefined)
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #took(): void {
    this.#held = true
    this.#renewedAt = Date.now()
    this.#renew(this.#generation)
  }

  /** Renews the held lease every ttl/3; a refusal (or failures for a whole ttl) loses it. */
  #renew(generation: number): void {
    this.#timer = setUnrefTimeout(
      () => {
        void (async () => {
          let renewed: boolean | undefined
          try {
            renewed = await this.#store.lease(this.#token, this.#ttl)
          } catch {
            renewed = Date.now() - this.#renewedAt < this.#ttl ? undefined : false
          }
          if (generation !== this.#generation) return
          if (renewed === false) {
            this.#lost()
            return
          }
          if (renewed) this.#renewedAt = Date.now()
          this.#renew(generation)
        })()
      },
      Math.max(1, Math.floor(this.#ttl / 3)),
    )
  }

  /** The lease went to another holder: not held any more; wait in line again with a new token. */
  #lost(): void {
    this.#held = false
    const generation = ++this.#generation
    this.#token = newId()
    this.onLost?.()
    if (generation === this.#generation) this.#poll(generation)
  }

  /** Tries to take the lease every min(ttl/4, 1 s) until it comes (then calls onAcquire). */
  #poll(generation: number): void {
    this.#timer = setUnrefTimeout(
      () => {
        void (async () => {
          const token = this.#token
          let got = false
          try {
            got = await this.#store.lease(token, this.#ttl)
          } catch {
            // Try again on the next tick.
          }
          if (generation !== this.#generation) {
            if (got) this.#giveUp(token)
            return
          }
          if (!got) {
            this.#poll(generation)
            return
          }
          this.#took()
          this.#onAcquire?.()
        })()
      },
      Math.max(1, Math.min(this.#ttl / 4, MAX_POLL)),
    )
  }
}
