/**
 * Validation shared by every layer: the errors that name an option with the
 * expected and the received value, and the options a job and a task carry
 * (the page, the runner and the worker read them alike).
 */
import { RETRY_DEFAULTS, WORKER_FUNCTION, type RetryOptions } from './retry.js'

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

/** A retention rule after defaults. */
export type ResolvedRetention = Record<'completed' | 'failed' | 'cancelled', RetentionRule | false>

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
  /** The job needs the network (see `JobOptions.network`). */
  network?: true
  /** The job's group (see `JobOptions.group`): limits per group, served round robin. */
  group?: string
}

/** The limits of one group of jobs (see `JobOptions.group`): a queue's, a task's, or one group's own. */
export interface GroupLimits {
  /**
   * At most this many jobs of the group run at once.
   * @defaultValue no limit (the pool size)
   */
  concurrency?: number
  /**
   * At most `max` jobs of the group start in any `per` ms.
   * @defaultValue none
   */
  rateLimit?: { max: number; per: number }
}

/** The longest group id, in characters. */
export const MAX_GROUP_LENGTH = 256

/** Validates a group id (`JobOptions.group`, `queue.groups.set(id)`). */
export function resolveGroupId(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_GROUP_LENGTH) {
    throw invalidOption(option, `a non-empty string of at most ${MAX_GROUP_LENGTH} characters`, value)
  }
  return value
}

/** Validates the limits of a group: `{ concurrency?, rateLimit?: { max, per } }`, plain data. */
export function resolveGroupLimits(option: string, value: unknown): GroupLimits {
  if (!isPlainObject(value)) throw invalidOption(option, 'an object { concurrency?, rateLimit?: { max, per } }', value)
  checkKeys(`${option}.`, value, ['concurrency', 'rateLimit'])
  const out: GroupLimits = {}
  const concurrency = number(`${option}.concurrency`, value.concurrency, 'count')
  if (concurrency !== undefined) out.concurrency = concurrency
  if (value.rateLimit !== undefined) out.rateLimit = resolveRate(`${option}.rateLimit`, value.rateLimit)
  return out
}

function resolveRate(option: string, rate: unknown): { max: number; per: number } {
  if (!isPlainObject(rate)) throw invalidOption(option, 'an object { max, per }', rate)
  checkKeys(`${option}.`, rate, ['max', 'per'])
  const max = number(`${option}.max`, rate.max, 'count')
  const per = number(`${option}.per`, rate.per, 'positive')
  if (max === undefined || per === undefined) throw invalidOption(option, 'both max and per', rate)
  return { max, per }
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
export function invalidOption(option: string, expected: string, received: unknown, Kind: typeof TypeError | typeof RangeError = TypeError): Error {
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

export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

export function checkKeys(where: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new TypeError(`Unknown option "${where}${key}": expected one of ${allowed.join(', ')}`)
    }
  }
}

export function number(option: string, value: unknown, rule: 'positive' | 'non-negative' | 'finite' | 'count'): number | undefined {
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
      out[key] = [...matcher]
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

const JOB_KEYS = [
  'id',
  'key',
  'priority',
  'delay',
  'runAt',
  'timeout',
  'retry',
  'dependsOn',
  'transfer',
  'debounce',
  'throttle',
  'network',
  'group',
] as const

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
  if (value.network !== undefined && typeof value.network !== 'boolean') throw invalidOption('network', 'a boolean', value.network)
  if (value.network === true) stored.network = true
  if (value.group !== undefined) stored.group = resolveGroupId('group', value.group)
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
  return { id, key, priority, runAt, stored, dependsOn, transfer, debounce }
}

/** A task's own options after validation. */
export interface ResolvedTaskOptions extends StoredJobOptions {
  priority?: number
  concurrency?: number
  rateLimit?: { max: number; per: number }
  /** The limits of each group of its jobs, over the queue's `groups`. */
  groups?: GroupLimits
  /** A batch task: up to `size` jobs to one call, the first waiting up to `wait` ms for company. */
  batch?: { size: number; wait: number }
}

/** Validates a task's own options from `defineTasks` (functions allowed). */
export function resolveTaskOptions(task: string, value: Record<string, unknown>): ResolvedTaskOptions {
  checkKeys(`${task}.`, value, ['handler', 'timeout', 'retry', 'priority', 'concurrency', 'rateLimit', 'network', 'groups', 'batch'])
  const out: ResolvedTaskOptions = {}
  if (value.batch !== undefined) {
    const batch = value.batch
    if (!isPlainObject(batch)) throw invalidOption(`${task}.batch`, 'an object { size, wait? }', batch)
    checkKeys(`${task}.batch.`, batch, ['size', 'wait'])
    const size = number(`${task}.batch.size`, batch.size, 'count')
    if (size === undefined) throw invalidOption(`${task}.batch.size`, 'an integer ≥ 1', batch.size)
    out.batch = { size, wait: number(`${task}.batch.wait`, batch.wait, 'non-negative') ?? 0 }
  }
  if (value.network !== undefined && typeof value.network !== 'boolean') throw invalidOption(`${task}.network`, 'a boolean', value.network)
  if (value.network === true) out.network = true
  const concurrency = number(`${task}.concurrency`, value.concurrency, 'count')
  if (concurrency !== undefined) out.concurrency = concurrency
  if (value.rateLimit !== undefined) out.rateLimit = resolveRate(`${task}.rateLimit`, value.rateLimit)
  if (value.groups !== undefined) out.groups = resolveGroupLimits(`${task}.groups`, value.groups)
  const timeout = number(`${task}.timeout`, value.timeout, 'positive')
  if (timeout !== undefined) out.timeout = timeout
  const retry = resolveRetry(`${task}.retry`, value.retry, true)
  if (retry !== undefined) out.retry = retry
  const priority = number(`${task}.priority`, value.priority, 'finite')
  if (priority !== undefined) out.priority = priority
  return out
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
