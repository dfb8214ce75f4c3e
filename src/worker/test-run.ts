/**
 * What `offthread/testing`'s `runTask` shares between a job and a batch: its options
 * (checked once, before anything runs), the aborts of its signal, and the clone of what a
 * handler reports. The public entry is `src/testing.ts`.
 */
import { JobCancelledError, JobTimeoutError, WorkerError } from '../shared/errors.js'
import { invalidOption, resolveGroupId, resolveTaskOptions } from '../shared/options.js'
import { isVersion } from '../shared/release.js'
import { clearLongTimeout, setLongTimeout } from '../shared/timers.js'
import type { TaskDefinition, TaskHandler } from '../shared/types.js'
import { composeMiddleware, validateMiddleware, type Middleware } from './middleware.js'

/**
 * Options of {@link runTask}: what `ctx` says about the job, its state, the
 * middleware around it, and when to abort its signal.
 *
 * @typeParam S - the handler's `ctx.state`
 */
export interface RunTaskOptions<S = unknown> {
  /**
   * `ctx.id`.
   * @defaultValue `'test-job'`
   */
  id?: string
  /**
   * A batch task's job ids (`ctx.batch.ids`), one per input.
   * @defaultValue `${id}-0`, `${id}-1`, …
   */
  ids?: readonly string[]
  /**
   * `ctx.name`.
   * @defaultValue the handler function's name (a task from a `defineTasks` map
   * has its key as its name), else `'task'`
   */
  name?: string
  /**
   * `ctx.queue`.
   * @defaultValue `'default'`
   */
  queue?: string
  /**
   * `ctx.attempt`: 1 on the first run, +1 on each retry.
   * @defaultValue 1
   */
  attempt?: number
  /**
   * `ctx.createdAt`, ms since epoch.
   * @defaultValue now
   */
  createdAt?: number
  /**
   * `ctx.version`: the release that added the job, to test how a handler reads an older input shape.
   * @defaultValue undefined
   */
  version?: string | number
  /**
   * `ctx.state`. Give either `state` or `setup`, not both.
   * @defaultValue undefined
   */
  state?: S
  /**
   * Called before the handler; what it returns is `ctx.state`. If it throws, the
   * run ends `failed` with its error, as the attempt would in a worker.
   * @defaultValue none
   */
  setup?: () => S | Promise<S>
  /**
   * Middleware around the handler, as in `defineTasks(…, { middleware })`: a
   * task taken from a `defineTasks` map does not bring its module's middleware,
   * pass them here.
   * @defaultValue []
   */
  middleware?: ReadonlyArray<Middleware<S>>
  /**
   * Aborts `ctx.signal` with a `JobTimeoutError` after this many ms.
   * @defaultValue the long-form task's own `timeout`, else none
   */
  timeout?: number
  /**
   * When this signal aborts, so does `ctx.signal`, with a `JobCancelledError`
   * (whose `cause` is this signal's reason), as `handle.cancel()` would.
   * @defaultValue none
   */
  signal?: AbortSignal
  /**
   * Aborts `ctx.signal` with a `JobCancelledError` after this many ms.
   * @defaultValue none
   */
  abortAfter?: number
  /**
   * Ms a handler gets to settle once its signal aborted; after that the run
   * ends `failed` with a `WorkerError`, where a queue would terminate the worker.
   * @defaultValue 1000
   */
  abortGrace?: number
  /**
   * Stored results of durable steps (`ctx.step`), by step id, as a job that ran before
   * would have them: those steps return their result without running. Pass a previous
   * run's `steps` to replay it.
   * @defaultValue {} (a first run)
   */
  steps?: Record<string, unknown>
  /**
   * Signals sent to the job (`queue.signal(id, name, payload)`), by name: a
   * `ctx.waitFor(name)` returns its payload. Without one, the wait ends the run
   * (`status: 'waiting'`); run again with `steps: run.steps` and the signal to go on.
   * @defaultValue {} (no signal sent)
   */
  signals?: Record<string, unknown>
  /**
   * Run as if the browser running the queue were offline. A job that needs the network
   * (`network: true` here, or in the task's definition) and fails as one does offline
   * (a `TypeError`, as `fetch` throws, or `throw ctx.retry({ reason: 'offline' })`) would
   * go back to waiting for the network, its attempt not used up: the record says so in
   * `waitsForNetwork`.
   * @defaultValue false
   */
  offline?: boolean
  /**
   * The job's own `network` option (see `JobOptions.network`).
   * @defaultValue the task's `network`, else false
   */
  network?: boolean
  /**
   * The job's group (see `JobOptions.group`): validated as `add` does, and nothing more. A
   * group's limits and turns are the queue's, between jobs; one run alone has none to keep.
   * @defaultValue none
   */
  group?: string
}

export const OPTION_KEYS: ReadonlyArray<keyof RunTaskOptions> = [
  'id',
  'ids',
  'name',
  'queue',
  'attempt',
  'createdAt',
  'version',
  'state',
  'setup',
  'middleware',
  'timeout',
  'signal',
  'abortAfter',
  'abortGrace',
  'steps',
  'signals',
  'offline',
  'network',
  'group',
]

export const DEFAULT_ABORT_GRACE = 1000

/** runTask's task and options, checked. */
export interface ResolvedRun<S> {
  handler: TaskHandler<unknown, unknown, S>
  job: { id: string; name: string; queue: string; attempt: number; createdAt: number; version?: string | number }
  setup: (() => S | Promise<S>) | undefined
  timeout: number | undefined
  abortAfter: number | undefined
  abortGrace: number
  signal: AbortSignal | undefined
  /** Offline, and the job needs the network. */
  offline: boolean
  /** A batch task (task option `batch`): it takes the inputs of several jobs. */
  batch: boolean
}

/** Validates `runTask`'s task and options, once, before anything runs. */
export function resolveRun<S>(task: unknown, options: RunTaskOptions<S>): ResolvedRun<S> {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options)
  for (const key of Object.keys(options)) {
    if (!(OPTION_KEYS as string[]).includes(key)) {
      throw new TypeError(`Unknown option "${key}": expected one of ${OPTION_KEYS.join(', ')}`)
    }
  }
  const name = text('name', options.name) ?? (typeof task === 'function' && task.name ? task.name : 'task')
  let handler: TaskHandler
  let ownTimeout: number | undefined
  let ownNetwork = false
  let batch = false
  if (typeof task === 'function') {
    handler = task as TaskHandler
  } else if (typeof task === 'object' && task !== null && typeof (task as TaskDefinition).handler === 'function') {
    handler = (task as TaskDefinition).handler
    const own = resolveTaskOptions(name, task as Record<string, unknown>)
    ownTimeout = own.timeout
    ownNetwork = own.network === true
    batch = own.batch !== undefined
  } else {
    throw invalidOption('task', 'a handler function or { handler, ...options }', task)
  }
  if (options.setup !== undefined && typeof options.setup !== 'function') {
    throw invalidOption('setup', 'a function', options.setup)
  }
  if (options.setup !== undefined && 'state' in options) {
    throw new TypeError('Invalid options: give either "state" or "setup", not both')
  }
  if (options.ids !== undefined && (!Array.isArray(options.ids) || !options.ids.every((id) => typeof id === 'string' && id !== ''))) {
    throw invalidOption('ids', 'an array of non-empty strings', options.ids)
  }
  if (options.signals !== undefined && (typeof options.signals !== 'object' || options.signals === null || Array.isArray(options.signals))) {
    throw invalidOption('signals', 'an object of signal payloads by signal name', options.signals)
  }
  if (options.steps !== undefined && (typeof options.steps !== 'object' || options.steps === null || Array.isArray(options.steps))) {
    throw invalidOption('steps', 'an object of step results by step id', options.steps)
  }
  const signal = options.signal
  if (signal !== undefined && !(typeof signal === 'object' && signal !== null && typeof signal.addEventListener === 'function')) {
    throw invalidOption('signal', 'an AbortSignal', signal)
  }
  for (const key of ['offline', 'network'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') throw invalidOption(key, 'a boolean', options[key])
  }
  if (options.group !== undefined) resolveGroupId('group', options.group)
  const attempt = options.attempt ?? 1
  if (!Number.isInteger(attempt) || attempt < 1) throw invalidOption('attempt', 'an integer ≥ 1', attempt, RangeError)
  const createdAt = options.createdAt ?? Date.now()
  if (typeof createdAt !== 'number' || !Number.isFinite(createdAt)) throw invalidOption('createdAt', 'a finite number', createdAt)
  if (options.version !== undefined && !isVersion(options.version)) {
    throw invalidOption('version', 'a finite number or a non-empty string of at most 200 characters', options.version)
  }
  const job: ResolvedRun<S>['job'] = {
    id: text('id', options.id) ?? 'test-job',
    name,
    queue: text('queue', options.queue) ?? 'default',
    attempt,
    createdAt,
  }
  if (options.version !== undefined) job.version = options.version
  return {
    handler: composeMiddleware(validateMiddleware<S>(options.middleware), handler),
    job,
    setup: options.setup,
    timeout: duration('timeout', options.timeout, false) ?? ownTimeout,
    abortAfter: duration('abortAfter', options.abortAfter, true),
    abortGrace: duration('abortGrace', options.abortGrace, true) ?? DEFAULT_ABORT_GRACE,
    signal,
    offline: options.offline === true && (options.network ?? ownNetwork),
    batch,
  }
}

function text(option: string, value: unknown): string | undefined {
  if (value !== undefined && typeof value !== 'string') throw invalidOption(option, 'a string', value)
  return value
}

function duration(option: string, value: unknown, zeroAllowed: boolean): number | undefined {
  if (value === undefined) return undefined
  const expected = zeroAllowed ? 'a finite number ≥ 0' : 'a positive finite number'
  if (typeof value !== 'number' || Number.isNaN(value)) throw invalidOption(option, expected, value)
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !zeroAllowed)) throw invalidOption(option, expected, value, RangeError)
  return value
}

/** Records a structured clone of what was reported; what cannot be cloned is dropped with a warning, as a worker would. */
export function snapshot<T>(value: T, keep: (copy: T) => void): void {
  let copy: T
  try {
    copy = structuredClone(value)
  } catch (error) {
    console.warn('[offthread] could not record a report of the task (not structured-cloneable)', error)
    return
  }
  keep(copy)
}

/** The abort side of a test run: its controller, what rejects once a handler ignored it, and the clean-up. */
export interface Aborts {
  controller: AbortController
  /** Rejects with a `WorkerError` once the signal has been aborted for `abortGrace` ms (a queue would terminate the worker). */
  ignored: Promise<never>
  cleanup: () => void
}

/** Aborts a test run's signal as a queue would: on `timeout`, `abortAfter` or the caller's `signal`. */
export function startAborts<S>(run: ResolvedRun<S>): Aborts {
  const controller = new AbortController()
  const cleanups: Array<() => void> = []
  const abortWith = (reason: Error): void => {
    if (!controller.signal.aborted) controller.abort(reason)
  }
  const after = (ms: number, act: () => void): void => {
    const timer = setLongTimeout(act, ms)
    cleanups.push(() => clearLongTimeout(timer))
  }
  const { timeout, abortAfter, signal } = run
  if (timeout !== undefined) after(timeout, () => abortWith(new JobTimeoutError(`The job timed out after ${timeout} ms`)))
  if (abortAfter !== undefined) after(abortAfter, () => abortWith(new JobCancelledError()))
  if (signal) {
    const onAbort = (): void => abortWith(new JobCancelledError(undefined, { cause: signal.reason }))
    if (signal.aborted) onAbort()
    else {
      signal.addEventListener('abort', onAbort, { once: true })
      cleanups.push(() => signal.removeEventListener('abort', onAbort))
    }
  }
  // A handler that ignores its aborted signal is given up on, as a queue would terminate its worker.
  const ignored = new Promise<never>((_resolve, reject) => {
    const arm = (): void =>
      after(run.abortGrace, () =>
        reject(
          new WorkerError(`The handler ignored its aborted signal for ${run.abortGrace} ms`, {
            cause: controller.signal.reason,
          }),
        ),
      )
    if (controller.signal.aborted) arm()
    else controller.signal.addEventListener('abort', arm, { once: true })
  })

  return { controller, ignored, cleanup: () => cleanups.forEach((cleanup) => cleanup()) }
}
