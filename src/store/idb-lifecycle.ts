/**
 * IndexedDB and the page's lifecycle: a transaction needs its page to run until its
 * last request is issued, and one left open by a page that froze (or went into the
 * back/forward cache, or was stopped) blocks every other tab of the origin. Here: the
 * explicit commit, a transaction's completion in the browser's own words, the watch
 * that tells when the database is held elsewhere, and the freeze that aborts a store's
 * open transactions (their calls run again once the page runs).
 */
import { whenFreezing, whenRunning } from '../shared/lifecycle.js'

/** Does nothing: a rejection nobody needs to hear. */
export const ignore = (): void => undefined

/**
 * Whether `commit()` may be called with requests still in flight: only where a request that
 * fails after it still aborts the transaction with its error, which was seen in Chromium only.
 * Firefox (153 ESR) committed a put that broke a unique index (test/browser/storage.test.ts,
 * "a storage failure surfaces…"), and WebKitGTK (2.50) a transaction whose Blob put it could not
 * prepare, without that record (test/browser/binary.test.ts): a write would resolve as stored
 * with part of it missing. There the engine commits on its own once the page stops feeding the
 * transaction, as every engine did before `commit()` existed.
 */
const EARLY_COMMIT = typeof navigator !== 'undefined' && /\bChrome\//.test(navigator.userAgent ?? '')

/** Commits a transaction whose last request is issued (where the engine has a `commit()` that can be trusted). */
export function commitNow(tx: IDBTransaction): void {
  const raw = tx as IDBTransaction & { commit?: () => void }
  issued.set(raw, performance.now())
  if (!EARLY_COMMIT) return
  try {
    raw.commit?.()
  } catch {
    // Aborted meanwhile: its completion says why.
  }
}

/** When a write issued its last request: until then, the transaction needs its page to run. */
const issued = new WeakMap<IDBTransaction, number>()

/**
 * A function a benchmark may set on `globalThis[Symbol.for('offthread.transaction')]`: called
 * with each transaction's mode, how long it stayed open (ms), and for how much of that it
 * needed its page (until its last request was issued). Unset, it costs a lookup.
 */
type TransactionHook = (mode: IDBTransactionMode, openMs: number, pageMs: number) => void
const transactionHook = (): TransactionHook | undefined => {
  const hook = (globalThis as { [key: symbol]: unknown })[Symbol.for('offthread.transaction')]
  return typeof hook === 'function' ? (hook as TransactionHook) : undefined
}

/**
 * Resolves when the transaction commits; rejects with the error of the request
 * that aborted it (a `ConstraintError`, a value too large…), in the browser's
 * own words. (idb's `tx.done` rejects on the first `error` event, before
 * `tx.error` is set, so it says only "AbortError".)
 */
export function completion(tx: IDBTransaction): { done: Promise<void>; error: () => DOMException | null } {
  let first: DOMException | null = null
  const done = new Promise<void>((resolve, reject) => {
    tx.addEventListener('error', (event) => {
      first ??= (event.target as IDBRequest | null)?.error ?? null
    })
    tx.addEventListener('complete', () => resolve())
    tx.addEventListener('abort', () => reject(first ?? tx.error ?? new DOMException('The IndexedDB transaction was aborted', 'AbortError')))
  })
  // Read by the caller or not, a failed commit is never an unhandled rejection.
  done.catch(ignore)
  return { done, error: () => first ?? tx.error }
}

/**
 * Whether a request threw because of its transaction rather than its value. Firefox
 * refuses every request of the first readwrite transaction after one its quota
 * aborted, with `InvalidStateError`, though the database is fine
 * (test/e2e/durability.test.ts, "a full disk" in Firefox).
 */
export function refusedByTransaction(error: unknown): boolean {
  return error instanceof DOMException && ['InvalidStateError', 'TransactionInactiveError', 'ReadOnlyError'].includes(error.name)
}

/**
 * The error of a write the storage quota refused twice: IndexedDB's own says nothing
 * (Chromium's message is empty), so this one names the cause and what to do about it.
 */
export function quotaExceeded(cause: unknown): DOMException {
  const detail = cause instanceof Error && cause.message ? ` (the browser said: ${cause.message})` : ''
  const error = new DOMException(
    `IndexedDB refused the write: this origin's storage quota is used up${detail}. Stored jobs are kept and the queue ` +
      'retries its own writes until there is room; to make room, remove finished jobs (queue.clean(), retention), ' +
      "other data of this site, or ask for persisted storage (createQueue({ persist: true })). (Chromium counts a refused Blob's bytes until a commit: offthread commits an empty transaction and retries once.)",
    'QuotaExceededError',
  )
  Object.defineProperty(error, 'cause', { value: cause, configurable: true, writable: true })
  return error
}

/**
 * The transactions and calls of one store, and the page's lifecycle:
 * - while the store is open, a freeze of the page aborts every transaction it has open
 *   (left open, one would block every other tab until the page runs again, maybe never),
 *   and {@link IdbLifecycle.retried} runs their calls again once the page runs (nothing
 *   they were told is lost: a write resolves only once committed);
 * - when calls have waited `blockedAfter` ms with none done meanwhile, the database is
 *   held elsewhere (another tab's transaction left open: a frozen or stopped page): the
 *   {@link IdbLifecycle.blocked} listeners hear `true`, and `false` once calls go through again.
 */
export class IdbLifecycle {
  /** Every transaction this store has open. */
  #open = new Set<IDBTransaction>()
  /** How often the page froze while this store was open: a call that failed across one is tried again. */
  #freezes = 0
  #unfreeze: (() => void) | undefined
  #closed = false
  #after: number
  /** Calls under way, and when one last went through. */
  #pending = 0
  #last = 0
  #blocked = false
  #timer: ReturnType<typeof setTimeout> | undefined
  #listeners = new Set<(blocked: boolean) => void>()

  /** @param blockedAfter - ms calls may wait on the database, with none done meanwhile, before the store is blocked */
  constructor(blockedAfter: number) {
    this.#after = blockedAfter
  }

  /** Whether the store is closed. */
  get closed(): boolean {
    return this.#closed
  }

  /** Tells `listener` when calls have waited on the database past `blockedAfter` ms (true), and when they flow again (false). */
  blocked(listener: (blocked: boolean) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** The store opens: from now on a freeze aborts its transactions. */
  open(): void {
    this.#closed = false
    this.#unfreeze ??= whenFreezing(() => this.#frozen())
  }

  /** The store closes. */
  close(): void {
    this.#closed = true
    this.#unfreeze?.()
    this.#unfreeze = undefined
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#listeners.clear()
  }

  /** Something went through (a transaction ended, a big write moved on). */
  progress(): void {
    this.#last = performance.now()
    if (!this.#blocked) return
    this.#blocked = false
    this.#tell(false)
  }

  /** Follows a transaction just opened: a freeze aborts it, its end is progress, and the bench's hook hears how long it was open. */
  track(tx: IDBTransaction, mode: IDBTransactionMode): void {
    const opened = performance.now()
    this.#open.add(tx)
    const closed = (): void => {
      this.#open.delete(tx)
      this.progress()
      const now = performance.now()
      transactionHook()?.(mode, now - opened, (issued.get(tx) ?? now) - opened)
    }
    tx.addEventListener('complete', closed)
    tx.addEventListener('abort', closed)
  }

  /** Runs `work` (one transaction) once the page runs, again as long as a freeze aborts it. */
  async retried<T>(work: () => Promise<T>): Promise<T> {
    if (this.#pending++ === 0) {
      this.#last = performance.now()
      this.#arm()
    }
    try {
      for (;;) {
        await whenRunning()
        const freezes = this.#freezes
        try {
          return await work()
        } catch (error) {
          // Aborted by a freeze (its transaction was open when the page froze): again, once the page runs.
          if (this.#freezes === freezes || this.#closed) throw error
        }
      }
    } finally {
      this.#pending--
      this.progress()
    }
  }

  /** The page is about to be frozen (or put in the back/forward cache): abort every open transaction. */
  #frozen(): void {
    this.#freezes++
    for (const tx of this.#open) {
      try {
        tx.abort()
      } catch {
        // Committed or aborted already.
      }
    }
  }

  #arm(): void {
    if (this.#timer !== undefined || !Number.isFinite(this.#after)) return
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined
        if (this.#pending === 0) return
        if (!this.#blocked && performance.now() - this.#last >= this.#after) {
          this.#blocked = true
          this.#tell(true)
        }
        this.#arm()
      },
      Math.max(20, Math.min(1000, this.#after / 4)),
    )
  }

  #tell(blocked: boolean): void {
    for (const listener of [...this.#listeners]) listener(blocked)
  }
}
