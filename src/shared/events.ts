/**
 * A small typed emitter: one listener map, `on` returns its own unsubscribe.
 * A throwing listener is reported (`reportError`) and never breaks the queue.
 */

// The listener map's values are function types of any arity.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ListenerMap = { [event: string]: (...args: any[]) => void }

/** Typed events over a listener map `M`. */
export class Emitter<M extends ListenerMap> {
  #listeners = new Map<keyof M, Set<M[keyof M]>>()

  /** Adds `listener` for `event`; returns the function that removes it. */
  on<K extends keyof M>(event: K, listener: M[K]): () => void {
    let set = this.#listeners.get(event)
    if (!set) this.#listeners.set(event, (set = new Set()))
    set.add(listener)
    return () => this.off(event, listener)
  }

  /** Removes `listener` from `event`. */
  off<K extends keyof M>(event: K, listener: M[K]): void {
    const set = this.#listeners.get(event)
    if (!set) return
    set.delete(listener)
    if (set.size === 0) this.#listeners.delete(event)
  }

  /** Whether anyone listens to `event` (or to anything, without an argument). */
  has(event?: keyof M): boolean {
    return event === undefined ? this.#listeners.size > 0 : this.#listeners.has(event)
  }

  /** Calls every listener of `event` with `args`. */
  emit<K extends keyof M>(event: K, ...args: Parameters<M[K]>): void {
    const set = this.#listeners.get(event)
    if (!set) return
    for (const listener of [...set]) {
      try {
        listener(...args)
      } catch (error) {
        report(error)
      }
    }
  }
}

/** Reports an error without throwing it into the caller: `reportError` where it exists. */
export function report(error: unknown): void {
  if (typeof reportError === 'function') reportError(error)
  else
    queueMicrotask(() => {
      throw error
    })
}
