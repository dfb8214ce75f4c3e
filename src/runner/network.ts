/**
 * Whether the runner's browser says it is online, for jobs that need the network
 * (`network: true`): offline while `navigator.onLine` is false or since an `offline`
 * event, online again at the `online` event. Where there is no `navigator.onLine`
 * and no such events (Node, Deno, Bun), always online.
 */
export class Network {
  /** An `offline` event came, and no `online` event since. */
  #offline = false
  #changed: (online: boolean) => void
  #target = typeof globalThis.addEventListener === 'function' ? globalThis : undefined

  /** @param changed - called when the browser goes online again (true), or offline (false) */
  constructor(changed: (online: boolean) => void) {
    this.#changed = changed
    this.#target?.addEventListener('online', this.#on)
    this.#target?.addEventListener('offline', this.#off)
  }

  /** Whether the browser says it is online now. */
  get online(): boolean {
    return !this.#offline && (typeof navigator === 'undefined' || navigator.onLine !== false)
  }

  stop(): void {
    this.#target?.removeEventListener('online', this.#on)
    this.#target?.removeEventListener('offline', this.#off)
  }

  #on = (): void => {
    this.#offline = false
    if (this.online) this.#changed(true)
  }

  #off = (): void => {
    this.#offline = true
    this.#changed(false)
  }
}
