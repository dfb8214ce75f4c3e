/**
 * One runner per queue across tabs: an exclusive Web Lock per queue name, held
 * for the tab's life. The lock is released by the browser the moment the tab
 * goes away, so the next tab takes over at once, with no lease to wait out.
 */

/** The lock's name for queue `name`. */
export const runnerLockName = (name: string): string => `offthread:runner:${name}`

import { newId } from '../shared/ids.js'

/** Whether this runtime has Web Locks. */
export function hasWebLocks(): boolean {
  return typeof navigator !== 'undefined' && typeof navigator.locks?.request === 'function'
}

/**
 * Whether some tab (this one included) runs queue `name` now. Without Web
 * Locks it cannot be known: true, so that callers ask rather than assume.
 */
export async function runnerExists(name: string): Promise<boolean> {
  if (!hasWebLocks()) return true
  const state = await navigator.locks.query()
  return (state.held ?? []).some((lock) => lock.name === runnerLockName(name))
}

/**
 * How a queue elects its one runner: Web Locks between tabs ({@link Leadership}),
 * or a lease row in a store shared between processes (`StoreLease`).
 */
export interface RunnerElection {
  /** Whether this queue holds the runner place now. */
  readonly held: boolean
  /**
   * The runner token of the current holding (a fresh one each time the place is
   * taken): claimed in the store, it fences every write of this runner. Empty where
   * the election is not exclusive (no Web Locks: every page runs): nothing is fenced.
   */
  readonly token: string
  /**
   * Takes the place if it is free and resolves true; else resolves false, waits,
   * and calls `onAcquire` when the place comes. Keeps it until {@link release}.
   */
  acquire(onAcquire: () => void): Promise<boolean>
  /** Gives the place up (or stops waiting for it). */
  release(): void
  /** Whether the place held now was taken from a runner that did not answer (a steal). */
  readonly stolen?: boolean
  /**
   * Called when the place is lost without {@link release} (another tab stole the lock
   * from a frozen one, a lease could not be renewed). The election waits in line again.
   */
  onLost: (() => void) | undefined
}

/** What runners and the tabs in line tell each other on the heartbeat channel. */
type Beat = { kind: 'ping' } | { kind: 'pong' }

/**
 * Holds (or waits for) the runner lock of one queue.
 *
 * A frozen tab (a background tab the browser froze, a page in the back/forward
 * cache, a renderer stopped) keeps its lock: the browser releases it only when the
 * page is destroyed. So, while a tab waits in line, it asks the runner on the
 * queue's heartbeat channel every `timeout / 10` (at most 500 ms), and the runner's page answers
 * (only then: a runner with nobody in line sends nothing). A tab whose question
 * stays unanswered for `timeout` steals the lock (`steal: true`): the frozen tab
 * loses it ({@link RunnerElection.onLost} when it wakes) and the store's runner
 * token fences every write it still makes.
 */
export class Leadership implements RunnerElection {
  #name: string
  #timeout: number
  #release: (() => void) | undefined
  /** Aborts the request waiting in line. */
  #waiting: AbortController | undefined
  #held = false
  #released = false
  #token = ''
  #beats: BroadcastChannel | undefined
  #pinger: ReturnType<typeof setInterval> | undefined
  /** When the oldest question still unanswered was asked (undefined: none is). */
  #unanswered: number | undefined
  #stealing = false
  /** The request whose lock this tab holds now. */
  #holding: { granted: boolean } | undefined
  #stolen = false
  onLost: (() => void) | undefined

  /**
   * @param timeout - ms of silence from the runner after which a tab in line takes its place (`runnerTimeout`; Infinity: never)
   */
  constructor(queue: string, timeout = Infinity) {
    this.#name = runnerLockName(queue)
    this.#timeout = timeout
  }

  /** Whether this tab holds the lock. */
  get held(): boolean {
    return this.#held
  }

  get token(): string {
    return this.#token
  }

  get stolen(): boolean {
    return this.#held && this.#stolen
  }

  /**
   * Takes the lock if it is free and resolves true; else resolves false and
   * waits in line, calling `onAcquire` when the lock comes. Keeps it until
   * {@link release}. Without Web Locks this tab runs at once (one runner per
   * page, not per origin).
   */
  async acquire(onAcquire: () => void): Promise<boolean> {
    this.#released = false
    if (!hasWebLocks()) {
      this.#took()
      return true
    }
    this.#listen()
    const now = await new Promise<boolean>((resolve, reject) => {
      this.#request(
        { mode: 'exclusive', ifAvailable: true },
        (lock) => {
          resolve(lock !== null)
          return lock ? this.#hold() : undefined
        },
        onAcquire,
        reject,
      )
    })
    if (!now) this.#wait(onAcquire)
    return now
  }

  /** Gives the lock up (or stops waiting for it). */
  release(): void {
    this.#released = true
    this.#held = false
    this.#holding = undefined
    this.#waiting?.abort()
    this.#waiting = undefined
    this.#release?.()
    this.#release = undefined
    clearInterval(this.#pinger)
    this.#pinger = undefined
    this.#beats?.close()
    this.#beats = undefined
  }

  /** The lock is this tab's: a fresh token, and the tabs in line hear so at once. */
  #took(stolen = false): void {
    this.#held = true
    this.#stolen = stolen
    // Without Web Locks every page runs (one runner per page): nothing to fence, no token.
    this.#token = hasWebLocks() ? newId() : ''
    this.#unanswered = undefined
    this.#stopPinging()
    this.#post({ kind: 'pong' })
  }

  /** The lock callback's promise: the lock is kept until it resolves. */
  #hold(stolen = false): Promise<void> {
    this.#took(stolen)
    return new Promise<void>((resolve) => (this.#release = resolve))
  }

  /**
   * Requests the lock; `granted` runs when the request is answered (`null`: not available).
   * The request rejects with an AbortError when this tab gave up waiting (release, or a
   * steal of its own), and when another tab stole the lock from this holding: only that
   * is a loss, and this tab then waits in line again.
   */
  #request(
    options: LockOptions,
    granted: (lock: Lock | null) => Promise<void> | undefined,
    onAcquire: () => void,
    fail: (error: unknown) => void = report,
  ): void {
    const holding = { granted: false }
    navigator.locks
      .request(this.#name, options, (lock) => {
        if (lock) {
          holding.granted = true
          this.#holding = holding
        }
        return granted(lock)
      })
      .catch((error: unknown) => {
        if ((error as { name?: string }).name !== 'AbortError') return fail(error)
        if (!holding.granted || this.#holding !== holding || this.#released) return undefined
        this.#holding = undefined
        this.#held = false
        this.#release = undefined
        this.onLost?.()
        if (!this.#released) this.#wait(onAcquire)
        return undefined
      })
  }

  /** Waits in line for the lock; asks the runner whether it is alive meanwhile. */
  #wait(onAcquire: () => void): void {
    const waiting = new AbortController()
    this.#waiting = waiting
    this.#request(
      { mode: 'exclusive', signal: waiting.signal },
      () => {
        this.#waiting = undefined
        const held = this.#hold()
        onAcquire()
        return held
      },
      onAcquire,
    )
    this.#startPinging(onAcquire)
  }

  #listen(): void {
    if (this.#beats || typeof BroadcastChannel === 'undefined' || !(this.#timeout < Infinity)) return
    this.#beats = new BroadcastChannel(`offthread:beat:${this.#name}`)
    this.#beats.onmessage = (event: MessageEvent<Beat>) => {
      if (event.data?.kind === 'ping' && this.#held) this.#post({ kind: 'pong' })
      if (event.data?.kind === 'pong') this.#unanswered = undefined
    }
  }

  #post(beat: Beat): void {
    try {
      this.#beats?.postMessage(beat)
    } catch {
      // A closed channel: nothing to tell.
    }
  }

  #startPinging(onAcquire: () => void): void {
    if (!this.#beats || this.#pinger !== undefined) return
    const every = Math.max(25, Math.min(this.#timeout / 10, 500))
    this.#pinger = setInterval(() => {
      if (this.#held || this.#stealing) return
      const now = Date.now()
      // Silence is measured from a question: a tab whose own timers were throttled asks late, and is answered.
      if (this.#unanswered !== undefined && now - this.#unanswered >= this.#timeout) {
        void this.#steal(onAcquire)
        return
      }
      this.#unanswered ??= now
      this.#post({ kind: 'ping' })
    }, every)
  }

  #stopPinging(): void {
    clearInterval(this.#pinger)
    this.#pinger = undefined
  }

  /**
   * The runner did not answer for `timeout`: take the lock from it. Several tabs in
   * line may decide so at once: each waits a random moment first, and one that hears
   * a new runner meanwhile (it answers at once when it takes the lock) stays in line.
   */
  async #steal(onAcquire: () => void): Promise<void> {
    this.#stealing = true
    try {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(this.#timeout / 10, 250)))
      if (this.#released || this.#held || this.#unanswered === undefined) return
      const state = await navigator.locks.query()
      if (!(state.held ?? []).some((lock) => lock.name === this.#name)) return
      this.#waiting?.abort()
      this.#waiting = undefined
      this.#request(
        { mode: 'exclusive', steal: true },
        () => {
          const held = this.#hold(true)
          onAcquire()
          return held
        },
        onAcquire,
      )
    } finally {
      this.#stealing = false
    }
  }
}

function report(error: unknown): void {
  console.error('[offthread] runner lock:', error)
}
