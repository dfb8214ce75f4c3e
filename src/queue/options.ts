/**
 * The queue's options in three parts: documented all-optional types, one
 * frozen defaults object, and the resolved internal type; validated once,
 * with errors that name the option, the expected and the received value.
 */
import type { WorkerLike } from '../pool/pool.js'
import {
  checkKeys,
  invalidOption,
  isPlainObject,
  number,
  resolveGroupLimits,
  resolveRetry,
  type GroupLimits,
  type ResolvedJobDefaults,
  type ResolvedRetention,
  type RetentionRule,
} from '../shared/options.js'
import type { JobOptions } from '../shared/types.js'
import { isVersion, type Version } from '../shared/release.js'
import type { Store } from '../store/store.js'

export type { RetentionRule } from '../shared/options.js'

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
   * Ms without an answer from the runner tab (frozen, in the back/forward cache, its
   * main thread blocked) after which a tab with a `worker` takes its place; with
   * `sqliteStore`, the runner lease's length. `Infinity`: never take over.
   * @defaultValue 10000
   */
  runnerTimeout?: number
  /**
   * Start dispatching at once; else call `queue.start()`.
   * @defaultValue true
   */
  autostart?: boolean
  /**
   * A second `createQueue` of an open queue's name in the same page (a module re-run
   * by hot reload) closes the open one, which hands its jobs over as a closed tab
   * would. `false` keeps both open side by side, as two tabs would be (tests that
   * play several tabs in one page).
   * @defaultValue true
   */
  replace?: boolean
  /**
   * The app's release, set from its build (`import.meta.env.VITE_RELEASE`, a date, a
   * number). Stored with every job this tab adds (`job.version`, `ctx.version`); the
   * newest release open in some tab runs the queue. Order: numbers numerically, dotted
   * numbers (`'1.10.2'`) part by part, any other string only equal or unlike.
   * @defaultValue a fingerprint of the worker module's tasks (names and options), where this tab has a `worker`
   */
  version?: string | number
  /**
   * Ask the browser once to keep this origin's storage (`navigator.storage.persist()`),
   * so that it is not evicted under storage pressure. Browsers may grant it silently,
   * ask the user, or refuse; `queue.storage()` tells.
   * @defaultValue false
   */
  persist?: boolean
  /**
   * Every job group's limits (see `JobOptions.group`): "one upload per album at a time" is
   * `{ concurrency: 1 }`. A task's `groups` overrides them for its jobs, and a group's own
   * (`queue.groups.set(id, limits)`) overrides both.
   * @defaultValue none: a group has no limit, and groups are only served in turn
   */
  groups?: GroupLimits
}

/** The most workers a pool may have: each is a thread with its own heap. */
export const MAX_CONCURRENCY = 256

const HOUR = 3_600_000
const DAY = 24 * HOUR

/** The defaults of {@link QueueOptions} that are plain values. */
export const DEFAULTS = Object.freeze({
  name: 'default',
  abortGrace: 1000,
  runnerTimeout: 10_000,
  autostart: true,
  closeTimeout: 5000,
  retention: Object.freeze({
    completed: Object.freeze({ age: DAY, count: 1000 }),
    failed: Object.freeze({ age: 7 * DAY }),
    cancelled: Object.freeze({ age: 7 * DAY }),
  }),
})

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
  runnerTimeout: number
  autostart: boolean
  replace: boolean
  version: Version | undefined
  persist: boolean
  groups: GroupLimits | undefined
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
  'runnerTimeout',
  'autostart',
  'replace',
  'version',
  'persist',
  'groups',
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
  if (options.replace !== undefined && typeof options.replace !== 'boolean') throw invalidOption('replace', 'a boolean', options.replace)
  if (options.version !== undefined && !isVersion(options.version)) {
    throw invalidOption('version', "a finite number or a non-empty string of at most 200 characters (the app's release)", options.version)
  }
  if (options.persist !== undefined && typeof options.persist !== 'boolean') throw invalidOption('persist', 'a boolean', options.persist)
  return {
    name,
    worker: options.worker as (() => WorkerLike) | undefined,
    concurrency,
    store: store as Store | undefined,
    defaults,
    retention: resolveRetention(options.retention),
    stallTimeout: number('stallTimeout', options.stallTimeout, 'positive'),
    abortGrace: number('abortGrace', options.abortGrace, 'non-negative') ?? DEFAULTS.abortGrace,
    runnerTimeout: runnerTimeout(options.runnerTimeout),
    autostart: options.autostart ?? DEFAULTS.autostart,
    replace: options.replace ?? true,
    version: options.version,
    persist: options.persist ?? false,
    groups: options.groups === undefined ? undefined : resolveGroupLimits('groups', options.groups),
  }
}

/** A frozen runner's timeout: ≥ 100 ms (a heartbeat every quarter of it), or Infinity. */
function runnerTimeout(value: unknown): number {
  if (value === undefined) return DEFAULTS.runnerTimeout
  if (value === Infinity) return value
  if (typeof value !== 'number') throw invalidOption('runnerTimeout', 'a number of ms ≥ 100, or Infinity', value)
  if (!Number.isFinite(value) || value < 100) throw invalidOption('runnerTimeout', 'a number of ms ≥ 100, or Infinity', value, RangeError)
  return value
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
