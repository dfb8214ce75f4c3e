/**
 * Options in three parts: documented all-optional types, one frozen defaults
 * object, and resolved internal types; validated once, with errors that name
 * the option, the expected and the received value.
 */
import type { WorkerLike } from './pool/pool.js'
import { RETRY_DEFAULTS, WORKER_FUNCTION, type RetryOptions } from './retry.js'
import type { Store } from './store/store.js'
import type { JobOptions } from './types.js'

/** How long finished jobs of one status are kept. `false` keeps them until `clean()`. */
export interface RetentionRule {
  /**
   * Delete jobs that finished longer ago than this many ms.
   * @defaultValue none
   */
  age?: number
  /**
   * Keep at most this many of the newest finished jobs.
   * @defaultValue none
   */
  count?: number
}

/** The `retention` option of a queue. */
export interface RetentionOptions {
  /** @defaultValue `{ age: 24 h, count: 1000 }` */
  completed?: RetentionRule | false
  /** @defaultValue `{ age: 7 days }` */
  failed?: RetentionRule | false
  /** @defaultValue `{ age: 7 days }` */
  cancelled?: RetentionRule | false
}

/** Options of `createQueue`. */
export interface QueueOptions {
  /**
   * Queue name; also the storage namespace (one IndexedDB database per name).
   * @defaultValue 'default'
   */
  name?: string
  /**
   * Makes one worker of the pool. Without it this tab only adds and observes jobs.
   * @defaultValue none
   */
  worker?: () => WorkerLike
  /**
   * Workers in the pool.
   * @defaultValue max(1, hardwareConcurrency − 1)
   */
  concurrency?: number
  /**
   * Persistence.
   * @defaultValue `idbStore()` where IndexedDB exists, else `memoryStore()`
   */
  store?: Store
  /**
   * Default options of every job (a task's own options and the job's win over these).
   * @defaultValue {}
   */
  defaults?: Omit<JobOptions, 'id' | 'key' | 'runAt' | 'dependsOn' | 'transfer'>
  /**
   * What finished jobs are kept, and for how long.
   * @defaultValue completed: 24 h or 1000 jobs; failed and cancelled: 7 days
   */
  retention?: RetentionOptions
  /**
   * A running job with no progress or heartbeat for this many ms is treated as hung.
   * @defaultValue none
   */
  stallTimeout?: number
  /**
   * Ms a handler gets to settle after its signal aborts, before its worker is terminated.
   * @defaultValue 1000
   */
  abortGrace?: number
  /**
   * Start dispatching at once; else call `queue.start()`.
   * @defaultValue true
   */
  autostart?: boolean
}

/** The most workers a pool may have: each is a thread with its own heap. */
export const MAX_CONCURRENCY = 256

const HOUR = 3_600_000
const DAY = 24 * HOUR

/** The defaults of {@link QueueOptions} that are plain values. */
export const DEFAULTS = Object.freeze({
  name: 'default',
  abortGrace: 1000,
  autostart: true,
  closeTimeout: 5000,
  retention: Object.freeze({
    completed: Object.freeze({ age: DAY, count: 1000 }),
    failed: Object.freeze({ age: 7 * DAY }),
    cancelled: Object.freeze({ age: 7 * DAY }),
  }),
})

/** A retention rule after defaults. */
export type ResolvedRetention = Record<'completed' | 'failed' | 'cancelled', RetentionRule | false>

/** {@link QueueOptions} after defaults and validation. */
export interface ResolvedQueueOptions {
  name: string
  worker: (() => WorkerLike) | undefined
  concurrency: number
  store: Store | undefined
  defaults: ResolvedJobDefaults
  retention: ResolvedRetention
  stallTimeout: number | undefined
  abortGrace: number
  autostart: boolean
}

/** Job defaults after validation (functions allowed: they are re-created by code on every load). */
export interface ResolvedJobDefaults {
  priority?: number
  delay?: number
  timeout?: number
  retry?: RetryOptions
}

/** The data-only job options stored with a job. */
export interface StoredJobOptions {
  timeout?: number
  retry?: RetryOptions
  throttle?: { key: string; max: number; window: number }
}

/** {@link JobOptions} after validation, ready to build a job record from. */
export interface ResolvedJobOptions {
  id: string | undefined
  key: string | undefined
  priority: number | undefined
  runAt: number | undefined
  stored: StoredJobOptions
  dependsOn: string[]
  transfer: Transferable[]
  /** Only the last of a burst runs; see `JobOptions.debounce`. */
  debounce: { key: string; delay: number } | undefined
}

/** Builds the error for an invalid option: names it, and shows what was expected and received. */
export function invalidOption(
  option: string,
  expected: string,
  received: unknown,
  Kind: typeof TypeError | typeof RangeError = TypeError,
): Error {
  return new Kind(`Invalid option "${option}": expected ${expected}, received ${describe(received)}`)
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'symbol') return value.toString()
  if (typeof value === 'bigint') return `${value}n`
  if (value instanceof Date) return `Date(${String(value.getTime())})`
  if (Array.isArray(value)) return `an array of ${value.length}`
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value)
    } catch {
      return Object.prototype.toString.call(value)
    }
  }
  return String(value)
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

function checkKeys(where: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new TypeError(`Unknown option "${where}${key}": expected one of ${allowed.join(', ')}`)
    }
  }
}

function number(
  option: string,
  value: unknown,
  rule: 'positive' | 'non-negative' | 'finite' | 'count',
): number | undefined {
  if (value === undefined) return undefined
  const expected = {
    positive: 'a positive finite number',
    'non-negative': 'a finite number ≥ 0',
    finite: 'a finite number',
    count: 'an integer ≥ 1',
  }[rule]
  if (typeof value !== 'number' || Number.isNaN(value)) throw invalidOption(option, expected, value)
  const ok =
    rule === 'positive'
      ? Number.isFinite(value) && value > 0
      : rule === 'non-negative'
        ? Number.isFinite(value) && value >= 0
        : rule === 'finite'
          ? Number.isFinite(value)
          : Number.isInteger(value) && value >= 1
  if (!ok) throw invalidOption(option, expected, value, RangeError)
  return value
}

const RETRY_KEYS = ['attempts', 'backoff', 'delay', 'maxDelay', 'jitter', 'retryOn', 'noRetryOn'] as const

/**
 * Validates a `retry` option.
 *
 * @param allowFunctions - false for per-job options, which are stored and so must be plain data
 */
export function resolveRetry(option: string, value: unknown, allowFunctions: boolean): RetryOptions | undefined {
  if (value === undefined) return undefined
  if (!isPlainObject(value)) throw invalidOption(option, 'an object like { attempts: 3 }', value)
  checkKeys(`${option}.`, value, RETRY_KEYS)
  const out: RetryOptions = {}
  const attempts = number(`${option}.attempts`, value.attempts, 'count')
  if (attempts !== undefined) out.attempts = attempts
  const delay = number(`${option}.delay`, value.delay, 'non-negative')
  if (delay !== undefined) out.delay = delay
  const maxDelay = number(`${option}.maxDelay`, value.maxDelay, 'non-negative')
  if (maxDelay !== undefined) out.maxDelay = maxDelay
  if (value.jitter !== undefined) {
    if (typeof value.jitter !== 'boolean') throw invalidOption(`${option}.jitter`, 'a boolean', value.jitter)
    out.jitter = value.jitter
  }
  const { backoff } = value
  if (backoff !== undefined) {
    if (typeof backoff === 'function') {
      if (!allowFunctions) throw functionNotStorable(`${option}.backoff`)
      out.backoff = backoff as RetryOptions['backoff']
    } else if (backoff === 'fixed' || backoff === 'exponential' || backoff === 'linear' || backoff === WORKER_FUNCTION) {
      out.backoff = backoff as RetryOptions['backoff']
    } else {
      throw invalidOption(`${option}.backoff`, "'fixed', 'exponential', 'linear' or a function", backoff)
    }
  }
  for (const key of ['retryOn', 'noRetryOn'] as const) {
    const matcher = value[key]
    if (matcher === undefined) continue
    if (typeof matcher === 'function') {
      if (!allowFunctions) throw functionNotStorable(`${option}.${key}`)
      out[key] = matcher as RetryOptions[typeof key]
    } else if (matcher === WORKER_FUNCTION) {
      out[key] = matcher as unknown as RetryOptions[typeof key]
    } else if (Array.isArray(matcher) && matcher.every((m) => typeof m === 'string')) {
      out[key] = [...(matcher as string[])]
    } else {
      throw invalidOption(`${option}.${key}`, 'an array of error names or a function', matcher)
    }
  }
  return out
}

function functionNotStorable(option: string): TypeError {
  return new TypeError(
    `Invalid option "${option}": a function cannot be stored with the job; ` +
      'set it in the task definition (defineTasks) or in the queue defaults, or use a string form',
  )
}

const JOB_KEYS = ['id', 'key', 'priority', 'delay', 'runAt', 'timeout', 'retry', 'dependsOn', 'transfer', 'debounce', 'throttle'] as const

/** Validates the options of one `add` call. */
export function resolveJobOptions(value: unknown, now: number): ResolvedJobOptions {
  if (value === undefined) {
    return { id: undefined, key: undefined, priority: undefined, runAt: undefined, stored: {}, dependsOn: [], transfer: [], debounce: undefined }
  }
  if (!isPlainObject(value)) throw invalidOption('options', 'an object', value)
  checkKeys('', value, JOB_KEYS)
  const { id, key } = value
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > 512)) {
    throw invalidOption('id', 'a non-empty string of at most 512 characters', id)
  }
  if (key !== undefined && (typeof key !== 'string' || key.length === 0)) {
    throw invalidOption('key', 'a non-empty string', key)
  }
  const priority = number('priority', value.priority, 'finite')
  const delay = number('delay', value.delay, 'non-negative')
  let runAt: number | undefined
  if (value.runAt !== undefined) {
    const raw = value.runAt instanceof Date ? value.runAt.getTime() : value.runAt
    if (typeof raw !== 'number' || !Number.isFinite(raw)) {
      throw invalidOption('runAt', 'a finite ms epoch or a valid Date', value.runAt)
    }
    runAt = raw
  }
  if (delay !== undefined && runAt !== undefined) {
    throw new TypeError('Invalid options: "delay" and "runAt" both set; give one of them')
  }
  if (delay !== undefined) runAt = now + delay
  const stored: StoredJobOptions = {}
  const timeout = number('timeout', value.timeout, 'positive')
  if (timeout !== undefined) stored.timeout = timeout
  const retry = resolveRetry('retry', value.retry, false)
  if (retry !== undefined) stored.retry = retry
  if (value.throttle !== undefined) {
    const t = value.throttle
    if (!isPlainObject(t)) throw invalidOption('throttle', 'an object { key, max, window }', t)
    checkKeys('throttle.', t, ['key', 'max', 'window'])
    if (typeof t.key !== 'string' || t.key.length === 0) throw invalidOption('throttle.key', 'a non-empty string', t.key)
    const max = number('throttle.max', t.max, 'count')
    const window = number('throttle.window', t.window, 'positive')
    if (max === undefined || window === undefined) throw invalidOption('throttle', 'key, max and window', t)
    stored.throttle = { key: t.key, max, window }
  }
  let debounce: { key: string; delay: number } | undefined
  if (value.debounce !== undefined) {
    const d = value.debounce
    if (!isPlainObject(d)) throw invalidOption('debounce', 'an object { key, delay }', d)
    checkKeys('debounce.', d, ['key', 'delay'])
    if (typeof d.key !== 'string' || d.key.length === 0) throw invalidOption('debounce.key', 'a non-empty string', d.key)
    const wait = number('debounce.delay', d.delay, 'non-negative')
    if (wait === undefined) throw invalidOption('debounce.delay', 'a number of ms ≥ 0', d.delay)
    if (value.key !== undefined || value.id !== undefined || runAt !== undefined) {
      throw new TypeError('Invalid options: "debounce" sets the job\'s key and start time; do not give "key", "id", "delay" or "runAt" with it')
    }
    debounce = { key: d.key, delay: wait }
  }
  const dependsOn: string[] = []
  if (value.dependsOn !== undefined) {
    if (!Array.isArray(value.dependsOn)) throw invalidOption('dependsOn', 'an array of job ids or handles', value.dependsOn)
    for (const dep of value.dependsOn as unknown[]) {
      const depId = typeof dep === 'string' ? dep : typeof dep === 'object' && dep !== null ? (dep as { id?: unknown }).id : undefined
      if (typeof depId !== 'string' || !depId) throw invalidOption('dependsOn[]', 'a job id or a handle', dep)
      if (!dependsOn.includes(depId)) dependsOn.push(depId)
    }
    if (value.id !== undefined && dependsOn.includes(value.id as string)) {
      throw new TypeError(`Invalid option "dependsOn": job "${String(value.id)}" cannot depend on itself`)
    }
  }
  let transfer: Transferable[] = []
  if (value.transfer !== undefined) {
    if (!Array.isArray(value.transfer)) throw invalidOption('transfer', 'an array of transferables', value.transfer)
    transfer = value.transfer as Transferable[]
  }
  return { id, key, priority, runAt, stored, dependsOn, transfer, debounce } as ResolvedJobOptions
}

/** A task's own options after validation. */
export interface ResolvedTaskOptions extends StoredJobOptions {
  priority?: number
  concurrency?: number
  rateLimit?: { max: number; per: number }
}

/** Validates a task's own options from `defineTasks` (functions allowed). */
export function resolveTaskOptions(task: string, value: Record<string, unknown>): ResolvedTaskOptions {
  checkKeys(`${task}.`, value, ['handler', 'timeout', 'retry', 'priority', 'concurrency', 'rateLimit'])
  const out: ResolvedTaskOptions = {}
  const concurrency = number(`${task}.concurrency`, value.concurrency, 'count')
  if (concurrency !== undefined) out.concurrency = concurrency
  if (value.rateLimit !== undefined) {
    const rate = value.rateLimit
    if (!isPlainObject(rate)) throw invalidOption(`${task}.rateLimit`, 'an object { max, per }', rate)
    checkKeys(`${task}.rateLimit.`, rate, ['max', 'per'])
    const max = number(`${task}.rateLimit.max`, rate.max, 'count')
    const per = number(`${task}.rateLimit.per`, rate.per, 'positive')
    if (max === undefined || per === undefined) throw invalidOption(`${task}.rateLimit`, 'both max and per', rate)
    out.rateLimit = { max, per }
  }
  const timeout = number(`${task}.timeout`, value.timeout, 'positive')
  if (timeout !== undefined) out.timeout = timeout
  const retry = resolveRetry(`${task}.retry`, value.retry, true)
  if (retry !== undefined) out.retry = retry
  const priority = number(`${task}.priority`, value.priority, 'finite')
  if (priority !== undefined) out.priority = priority
  return out
}

function resolveRetention(value: unknown): ResolvedRetention {
  const out: ResolvedRetention = { ...DEFAULTS.retention }
  if (value === undefined) return out
  if (!isPlainObject(value)) throw invalidOption('retention', 'an object like { completed: { age, count } }', value)
  checkKeys('retention.', value, ['completed', 'failed', 'cancelled'])
  for (const status of ['completed', 'failed', 'cancelled'] as const) {
    const rule = value[status]
    if (rule === undefined) continue
    if (rule === false) {
      out[status] = false
      continue
    }
    if (!isPlainObject(rule)) throw invalidOption(`retention.${status}`, 'false or { age?, count? }', rule)
    checkKeys(`retention.${status}.`, rule, ['age', 'count'])
    const resolved: RetentionRule = {}
    const age = number(`retention.${status}.age`, rule.age, 'non-negative')
    if (age !== undefined) resolved.age = age
    if (rule.count !== undefined) {
      if (typeof rule.count !== 'number' || !Number.isInteger(rule.count) || rule.count < 0) {
        throw invalidOption(`retention.${status}.count`, 'an integer ≥ 0', rule.count, RangeError)
      }
      resolved.count = rule.count
    }
    out[status] = resolved
  }
  return out
}

const QUEUE_KEYS = [
  'name',
  'worker',
  'concurrency',
  'store',
  'defaults',
  'retention',
  'stallTimeout',
  'abortGrace',
  'autostart',
] as const

/** Validates `createQueue` options and fills in the defaults. */
export function resolveQueueOptions(value: unknown): ResolvedQueueOptions {
  const options = value === undefined ? {} : value
  if (!isPlainObject(options)) throw invalidOption('options', 'an object', value)
  checkKeys('', options, QUEUE_KEYS)
  // Only a missing option takes its default: `null` is a value, and a wrong one.
  const name = options.name === undefined ? DEFAULTS.name : options.name
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw invalidOption('name', 'a non-empty string of at most 200 characters', name)
  }
  if (options.worker !== undefined && typeof options.worker !== 'function') {
    throw invalidOption('worker', 'a function that returns a Worker', options.worker)
  }
  const concurrency = number('concurrency', options.concurrency, 'count') ?? defaultConcurrency()
  if (concurrency > MAX_CONCURRENCY) {
    throw invalidOption('concurrency', `an integer from 1 to ${MAX_CONCURRENCY} (workers in the pool)`, concurrency, RangeError)
  }
  const store = options.store
  if (store !== undefined && (!isPlainObject(store) || typeof (store as { write?: unknown }).write !== 'function')) {
    throw invalidOption('store', 'a Store such as idbStore() or memoryStore()', store)
  }
  const defaults = resolveDefaults(options.defaults)
  if (options.autostart !== undefined && typeof options.autostart !== 'boolean') {
    throw invalidOption('autostart', 'a boolean', options.autostart)
  }
  return {
    name,
    worker: options.worker as (() => WorkerLike) | undefined,
    concurrency,
    store: store as Store | undefined,
    defaults,
    retention: resolveRetention(options.retention),
    stallTimeout: number('stallTimeout', options.stallTimeout, 'positive'),
    abortGrace: number('abortGrace', options.abortGrace, 'non-negative') ?? DEFAULTS.abortGrace,
    autostart: (options.autostart as boolean | undefined) ?? DEFAULTS.autostart,
  }
}

function resolveDefaults(value: unknown): ResolvedJobDefaults {
  if (value === undefined) return {}
  if (!isPlainObject(value)) throw invalidOption('defaults', 'an object of job options', value)
  checkKeys('defaults.', value, ['priority', 'delay', 'timeout', 'retry'])
  const out: ResolvedJobDefaults = {}
  const priority = number('defaults.priority', value.priority, 'finite')
  if (priority !== undefined) out.priority = priority
  const delay = number('defaults.delay', value.delay, 'non-negative')
  if (delay !== undefined) out.delay = delay
  const timeout = number('defaults.timeout', value.timeout, 'positive')
  if (timeout !== undefined) out.timeout = timeout
  const retry = resolveRetry('defaults.retry', value.retry, true)
  if (retry !== undefined) out.retry = retry
  return out
}

function defaultConcurrency(): number {
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : undefined
  return Math.max(1, (cores ?? 2) - 1)
}

/**
 * Merges retry policies, later ones winning field by field: queue defaults,
 * then the task's own, then the job's.
 */
export function mergeRetry(...policies: Array<RetryOptions | undefined>): RetryOptions {
  const out: RetryOptions = { ...RETRY_DEFAULTS }
  for (const policy of policies) {
    if (!policy) continue
    for (const [k, v] of Object.entries(policy)) {
      if (v !== undefined) (out as Record<string, unknown>)[k] = v
    }
  }
  return out
}
