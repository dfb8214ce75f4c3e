/**
 * One runner per queue across tabs: an exclusive Web Lock per queue name, held
 * for the tab's life. The lock is released by the browser the moment the tab
 * goes away, so the next tab takes over at once, with no lease to wait out.
 */

/** The lock's name for queue `name`. */
export const runnerLockName = (name: string): string => `offthread:runner:${name}`

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

/** Holds (or waits for) the runner lock of one queue. */
export class Leadership {
  #name: string
  #release: (() => void) | undefined
  #abort = new AbortController()
  #held = false

  constructor(queue: string) {
    this.#name = runnerLockName(queue)
  }

  /** Whether this tab holds the lock. */
  get held(): boolean {
    return this.#held
  }

  /**
   * Takes the lock if it is free and resolves true; else resolves false and
   * waits in line, calling `onAcquire` when the lock comes. Keeps it until
   * {@link release}. Without Web Locks this tab runs at once (one runner per
   * page, not per origin).
   */
  async acquire(onAcquire: () => void): Promise<boolean> {
    if (!hasWebLocks()) {
      this.#held = true
      return true
    }
    const hold = (): Promise<void> => new Promise<void>((resolve) => (this.#release = resolve))
    const now = await new Promise<boolean>((resolve, reject) => {
      navigator.locks
        .request(this.#name, { mode: 'exclusive', ifAvailable: true }, (lock) => {
          if (!lock) {
            resolve(false)
            return undefined
          }
          this.#held = true
          resolve(true)
          return hold()
        })
        .catch(reject)
    })
    if (now) return true
    navigator.locks
      .request(this.#name, { mode: 'exclusive', signal: this.#abort.signal }, () => {
        this.#held = true
        onAcquire()
        return hold()
      })
      .catch((error: unknown) => {
        // Aborted by release() before the lock came: nothing to do.
        if ((error as { name?: string }).name !== 'AbortError') console.error('[offthread] runner lock:', error)
      })
    return false
  }

  /** Gives the lock up (or stops waiting for it). */
  release(): void {
    this.#held = false
    this.#abort.abort()
    this.#release?.()
    this.#release = undefined
  }
}
