/**
 * offthread's errors: one base class with a stable `code`, a few subclasses with
 * literal names (minifiers mangle `constructor.name`), and the code that carries
 * errors across threads and through storage as plain data.
 */
import type { SerializedError } from './types.js'

/** Stable codes of offthread's errors. */
export type OffthreadErrorCode =
  | 'ERR_OFFTHREAD'
  | 'ERR_JOB_FAILED'
  | 'ERR_JOB_CANCELLED'
  | 'ERR_JOB_TIMEOUT'
  | 'ERR_JOB_DATA'
  | 'ERR_UNKNOWN_TASK'
  | 'ERR_INTERRUPTED'
  | 'ERR_QUEUE_CLOSED'
  | 'ERR_RETRY'
  | 'ERR_WORKER'
  | 'ERR_STORE_VERSION'
  | 'ERR_STORAGE_BLOCKED'
  | 'ERR_WAIT_TIMEOUT'

/** The base of every error offthread throws. */
export class OffthreadError extends Error {
  override readonly name: string = 'OffthreadError'
  /** A stable, machine-readable code. */
  readonly code: OffthreadErrorCode

  constructor(message: string, options?: { cause?: unknown }, code: OffthreadErrorCode = 'ERR_OFFTHREAD') {
    super(message, options)
    this.code = code
  }
}

/** The error of a chunk of offthread that did not load (`what`: whose code; offline, or a deploy took it off the server). */
export function notLoaded(what: string, cause: unknown): OffthreadError {
  return new OffthreadError(`${what} did not load (${String((cause as Error | undefined)?.message ?? cause)})`, { cause })
}

/** `handle.result()` rejects with this when the job ended `failed`; `cause` is the worker's error. */
export class JobFailedError extends OffthreadError {
  override readonly name = 'JobFailedError' as const
  constructor(
    message: string,
    options?: { cause?: unknown },
    /** The failed job's id. */
    readonly jobId?: string,
  ) {
    super(message, options, 'ERR_JOB_FAILED')
  }
}

/** The job was cancelled (`handle.cancel()`, or a cancelled dependency). */
export class JobCancelledError extends OffthreadError {
  override readonly name = 'JobCancelledError' as const
  constructor(message = 'The job was cancelled', options?: { cause?: unknown }) {
    super(message, options, 'ERR_JOB_CANCELLED')
  }
}

/** An attempt ran longer than its `timeout`. */
export class JobTimeoutError extends OffthreadError {
  override readonly name = 'JobTimeoutError' as const
  constructor(message = 'The job timed out', options?: { cause?: unknown }) {
    super(message, options, 'ERR_JOB_TIMEOUT')
  }
}

/**
 * `ctx.waitFor(name, { timeout })` in a handler: no signal `name` came within `timeout`.
 * The handler may catch it and go on; uncaught, the attempt fails with it (and is retried
 * by the job's policy, like any error).
 */
export class TimeoutError extends OffthreadError {
  override readonly name = 'TimeoutError' as const
  constructor(message = 'The wait timed out', options?: { cause?: unknown }) {
    super(message, options, 'ERR_WAIT_TIMEOUT')
  }
}

/** A job's data (or result) cannot be structured-cloned. */
export class JobDataError extends OffthreadError {
  override readonly name = 'JobDataError' as const
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options, 'ERR_JOB_DATA')
  }
}

/** No task of that name is registered in the worker module. */
export class UnknownTaskError extends OffthreadError {
  override readonly name = 'UnknownTaskError' as const
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options, 'ERR_UNKNOWN_TASK')
  }
}

/** The error for a task name the worker module does not define, listing the ones it does. */
export function unknownTask(name: string, known: readonly string[]): UnknownTaskError {
  return new UnknownTaskError(`Unknown task "${name}"; the worker module defines: ${known.join(', ') || 'none'}`)
}

/** An attempt was interrupted (reload, closed tab, crash) too many times. */
export class InterruptedError extends OffthreadError {
  override readonly name = 'InterruptedError' as const
  constructor(message = 'The job was interrupted', options?: { cause?: unknown }) {
    super(message, options, 'ERR_INTERRUPTED')
  }
}

/** The queue was closed. */
export class QueueClosedError extends OffthreadError {
  override readonly name = 'QueueClosedError' as const
  constructor(message = 'The queue is closed', options?: { cause?: unknown }) {
    super(message, options, 'ERR_QUEUE_CLOSED')
  }
}

/** A worker died or could not start. */
export class WorkerError extends OffthreadError {
  override readonly name = 'WorkerError' as const
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options, 'ERR_WORKER')
  }
}

/**
 * This tab's calls to the database have waited past a bound (`idbStore({ blockedAfter })`,
 * 5 s) with none done meanwhile: another tab of the origin holds it (a transaction left open
 * by a page the browser froze or stopped). On the queue's `error` event, once when it
 * starts (`blocked: true`) and once when it clears (`blocked: false`).
 */
export class StorageBlockedError extends OffthreadError {
  override readonly name = 'StorageBlockedError' as const
  /** True while the database is held elsewhere; false on the event that says it cleared. */
  readonly blocked: boolean
  constructor(message?: string, options?: { cause?: unknown; blocked?: boolean }) {
    const blocked = options?.blocked ?? true
    super(
      message ??
        (blocked
          ? 'Another tab of this origin holds the database (a frozen or stopped page?): reads and writes of this tab wait until it lets go'
          : 'The database is free again: reads and writes of this tab go through'),
      options,
      'ERR_STORAGE_BLOCKED',
    )
    this.blocked = blocked
  }
}

/**
 * Thrown by a handler (usually as `throw ctx.retry({ delay })`) to ask for
 * another attempt, bypassing `retryOn`/`noRetryOn` but still bounded by `attempts`.
 */
export class RetryError extends OffthreadError {
  override readonly name = 'RetryError' as const
  /** Milliseconds to wait before the next attempt; the backoff applies when absent. */
  readonly delay: number | undefined
  constructor(options: { delay?: number; reason?: string; cause?: unknown } = {}) {
    super(options.reason ?? 'Retry requested by the handler', { cause: options.cause }, 'ERR_RETRY')
    this.delay = options.delay
  }
}

type ErrorClass = new (message: string, options?: { cause?: unknown }) => OffthreadError

/** Rebuilds a RetryError from its message (the delay is not carried: it was used where it was thrown). */
class RebuiltRetryError extends RetryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super({ reason: message, cause: options?.cause })
  }
}

const REBUILDABLE: Readonly<Record<string, ErrorClass>> = {
  OffthreadError,
  RetryError: RebuiltRetryError,
  JobFailedError,
  JobCancelledError,
  JobTimeoutError,
  TimeoutError,
  JobDataError,
  UnknownTaskError,
  InterruptedError,
  QueueClosedError,
  WorkerError,
}

const MAX_CAUSE_DEPTH = 8

/**
 * Turns anything a handler threw into plain data that survives `postMessage`
 * and IndexedDB, keeping name, message, stack, code and cause. Non-errors get a
 * readable message instead of `[object Object]`.
 */
export function serializeError(value: unknown, depth = 0): SerializedError {
  // Whatever was thrown must become data: a revoked Proxy, or getters that throw, included.
  try {
    if (value instanceof Error || isErrorLike(value)) {
      const error = value as Error & { code?: unknown }
      const name = read(() => error.name, UNREADABLE)
      const message = read(() => error.message, UNREADABLE)
      const out: SerializedError = {
        name: typeof name === 'string' && name ? name : 'Error',
        message:
          message === UNREADABLE
            ? 'The handler threw an error whose message cannot be read (its getter throws)'
            : typeof message === 'string'
              ? message
              : message === undefined
                ? ''
                : String(message),
      }
      const stack = read(() => error.stack)
      if (typeof stack === 'string') out.stack = stack
      const code = read(() => error.code)
      if (typeof code === 'string' || typeof code === 'number') out.code = String(code)
      const cause = read(() => error.cause)
      if (cause !== undefined && depth < MAX_CAUSE_DEPTH) out.cause = serializeError(cause, depth + 1)
      return out
    }
    return { name: 'Error', message: describeThrown(value) }
  } catch (error) {
    return { name: 'Error', message: `The handler threw a value that cannot be read (${describeThrown(error)})` }
  }
}

const UNREADABLE = Symbol('unreadable')

/** A property read that may throw (a getter, a revoked Proxy): `fallback` then. */
function read(get: () => unknown, fallback: unknown = undefined): unknown {
  try {
    return get()
  } catch {
    return fallback
  }
}

/** Rebuilds an `Error` from {@link serializeError}'s output: offthread's own classes come back as themselves. */
export function deserializeError(data: SerializedError): Error {
  const cause = data.cause ? deserializeError(data.cause) : undefined
  const options = cause === undefined ? undefined : { cause }
  const Known = REBUILDABLE[data.name]
  let error: Error
  if (Known) {
    error = new Known(data.message, options)
  } else {
    error = new Error(data.message, options)
    // A literal own `name`, so a rebuilt TypeError still reads as one.
    Object.defineProperty(error, 'name', { value: data.name, configurable: true, writable: true })
  }
  if (data.stack !== undefined) {
    Object.defineProperty(error, 'stack', { value: data.stack, configurable: true, writable: true })
  }
  if (data.code !== undefined && !(error instanceof OffthreadError)) {
    Object.defineProperty(error, 'code', { value: data.code, configurable: true, writable: true, enumerable: true })
  }
  return error
}

function isErrorLike(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof read(() => (value as { name?: unknown }).name) === 'string' &&
    typeof read(() => (value as { message?: unknown }).message) === 'string' &&
    'stack' in value
  )
}

/** A readable sentence for a thrown value that is not an `Error`. */
function describeThrown(value: unknown): string {
  if (value === undefined) return 'The handler threw undefined'
  if (value === null) return 'The handler threw null'
  if (typeof value === 'string') return value || 'The handler threw an empty string'
  if (typeof value === 'object') {
    let text: string
    try {
      const seen = new WeakSet<object>()
      text =
        JSON.stringify(value, (_key, v: unknown) => {
          if (typeof v === 'object' && v !== null) {
            if (seen.has(v)) return '[Circular]'
            seen.add(v)
          }
          return typeof v === 'bigint' ? `${v}n` : v
        }) ?? String(value)
    } catch {
      text = String(read(() => Object.prototype.toString.call(value)) ?? '[a value that cannot be read: a revoked Proxy?]')
    }
    if (text.length > 500) text = `${text.slice(0, 500)}…`
    return `The handler threw a non-Error object: ${text}`
  }
  return `The handler threw a non-Error value: ${String(value)}`
}

/**
 * Finds where in `value` something that cannot be structured-cloned sits, as a
 * path like `data.items[2].callback`. Only called after a `DataCloneError`.
 */
export function findUncloneablePath(value: unknown, root = 'data'): string | undefined {
  try {
    return uncloneablePath(value, root)
  } catch {
    // Reading it threw (a revoked Proxy, a throwing getter): that is where it is.
    return `${root} (a value that cannot be read: a revoked Proxy or a throwing getter)`
  }
}

function uncloneablePath(value: unknown, root: string): string | undefined {
  const seen = new Set<unknown>()
  const visit = (v: unknown, path: string, depth: number): string | undefined => {
    if (typeof v === 'function') return `${path} (a function)`
    if (typeof v === 'symbol') return `${path} (a symbol)`
    if (typeof v !== 'object' || v === null || depth > 64 || seen.has(v)) return undefined
    seen.add(v)
    if (typeof Node !== 'undefined' && v instanceof Node) return `${path} (a DOM node)`
    if (typeof WebAssembly !== 'undefined' && v instanceof WebAssembly.Module) {
      return `${path} (a WebAssembly.Module: it can be posted to a worker, not stored)`
    }
    if (v instanceof WeakMap || v instanceof WeakSet || v instanceof Promise) {
      return `${path} (a ${v.constructor.name})`
    }
    if (v instanceof Map) {
      let i = 0
      for (const [k, item] of v) {
        const found = visit(k, `${path}.<key ${i}>`, depth + 1) ?? visit(item, `${path}.get(${String(k)})`, depth + 1)
        if (found) return found
        i++
      }
      return undefined
    }
    if (v instanceof Set) {
      let i = 0
      for (const item of v) {
        const found = visit(item, `${path}.<item ${i++}>`, depth + 1)
        if (found) return found
      }
      return undefined
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const found = visit(v[i], `${path}[${i}]`, depth + 1)
        if (found) return found
      }
      return undefined
    }
    for (const key of Object.keys(v)) {
      const found = visit((v as Record<string, unknown>)[key], `${path}.${key}`, depth + 1)
      if (found) return found
    }
    return undefined
  }
  return visit(value, root, 0)
}

/** Whether `error` is a `DataCloneError` (a `DOMException`, or Node's own flavour). */
export function isDataCloneError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    ((error as { name?: unknown }).name === 'DataCloneError' || (error as { code?: unknown }).code === 25) /* DATA_CLONE_ERR */
  )
}

/** Whether `error` says the store can no longer be used here (its schema is newer than this code's). */
export function isStoreGone(error: unknown): boolean {
  return error instanceof OffthreadError && error.code === 'ERR_STORE_VERSION'
}

/** Whether `error` says the storage quota is used up. */
export function isQuotaError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'QuotaExceededError'
}
