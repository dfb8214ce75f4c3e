/**
 * offthread's test helper: runs one of your task handlers in the current
 * thread with a recording context (no worker, no storage), so tasks can be
 * unit-tested in Node or any other runtime.
 *
 * @packageDocumentation
 */
import { JobCancelledError, JobDataError, JobTimeoutError, RetryError, WorkerError, deserializeError, serializeError } from './shared/errors.js'
import { invalidOption, resolveGroupId, resolveTaskOptions } from './shared/options.js'
import { isVersion } from './shared/release.js'
import type { LogEntry, Progress, TaskContext, TaskDefinition, TaskHandler, TaskInput, TaskOutput } from './shared/types.js'
import { Sleeping, createContext, transfers, type ReportSink } from './worker/context.js'
import { composeMiddleware, validateMiddleware, type Middleware } from './worker/middleware.js'
import { clearLongTimeout, setLongTimeout } from './shared/timers.js'
import { FOREVER, signalStep } from './shared/waits.js'

/** The state type (`ctx.state`) a task entry's handler expects. */
export type TaskState<E> = E extends TaskDefinition<any, any, infer S> ? S : E extends (input: any, ctx: TaskContext<infer S>) => any ? S : unknown

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

/**
 * What {@link runTask} recorded of one run.
 *
 * @typeParam R - the handler's result type
 */
export interface TaskRecord<R = unknown> {
  /**
   * How the handler ended: `retry` when it threw `ctx.retry(…)` (or a
   * `RetryError`), `sleeping` when it called `ctx.sleep` (see {@link TaskRecord.sleep}),
   * `failed` when it threw anything else.
   */
  status: 'completed' | 'failed' | 'retry' | 'sleeping' | 'waiting'
  /**
   * When `sleeping`: the sleep's step id, and when the queue would run the job again. Run
   * it again with `steps: run.steps` to go on (a sleep whose time has not come sleeps
   * again: give its step `{ until: 0 }` to go past it at once).
   */
  sleep?: { step: string; until: number }
  /**
   * When `waiting`: the handler called `ctx.waitFor(signal)` and no such signal was given
   * ({@link RunTaskOptions.signals}); a queue would keep the job `delayed` until the signal
   * comes, or until `until` (its timeout, if it has one), when the wait rejects with a
   * `TimeoutError`. Run it again with `steps: run.steps` (they hold the wait's own step)
   * and `signals: { [signal]: payload }` to go on.
   */
  waitFor?: { signal: string; until?: number }
  /** What the handler (or its middleware) returned, when `completed`. */
  result?: R
  /**
   * What was thrown, when `failed` or `retry`: the error itself, or for a
   * thrown non-`Error` an `Error` with a readable message, as a queue records it.
   */
  error?: Error
  /** Every `ctx.progress(value)`, in order: none coalesced, each a structured clone. */
  progress: Progress[]
  /** Every `ctx.log.*` entry, in order. */
  logs: LogEntry[]
  /** How many times the handler called `ctx.heartbeat()`. */
  heartbeats: number
  /**
   * The durable steps' results after the run, by step id (each a structured clone, as a
   * queue would store it): the ones given in `options.steps` and the ones this run completed.
   */
  steps: Record<string, unknown>
  /** The ids of the steps this run executed (not replayed from `options.steps`), in order. */
  ran: string[]
  /**
   * When `retry`: the delay asked for (absent: the backoff would apply) and the
   * `RetryError`'s message (the reason given, or a default sentence).
   */
  retry?: { delay?: number; reason?: string }
  /** The transferables given with the result through `ctx.transfer(value, list)`. */
  transferred?: Transferable[]
  /**
   * Set when the run was `offline` (see {@link RunTaskOptions.offline}), the job needs the
   * network, and it failed as one does offline: a queue would not count the attempt, and
   * would run the job again once the browser is online.
   */
  waitsForNetwork?: true
  /**
   * Set when `ctx.signal` aborted before the handler settled: the reason it
   * aborted with (`JobCancelledError` or `JobTimeoutError`). A queue would then
   * end the job `cancelled` or `failed` whatever the handler did.
   */
  abortReason?: Error
}

const OPTION_KEYS: ReadonlyArray<keyof RunTaskOptions> = [
  'id',
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

const DEFAULT_ABORT_GRACE = 1000

/**
 * Runs a task handler once, in this thread, with a `ctx` like a worker's that
 * records what the handler reports; resolves when the handler settles, never
 * rejects for the handler's own errors.
 *
 * @param task - a handler `(input, ctx) => result`, a long-form `{ handler, timeout?, … }`,
 *   or an entry of a `defineTasks` map (`tasks.resize`)
 * @param data - the job's input
 * @param options - what `ctx` says about the job, its state, middleware, and when its signal aborts
 * @returns the status, the result or error, and every progress value, log entry and heartbeat
 * @throws TypeError / RangeError (as a rejection, before anything runs) for an invalid task or option
 *
 * @example
 * ```ts
 * import { runTask } from 'offthread/testing'
 * import { tasks } from '../src/tasks.worker'
 *
 * test('resize reports progress and returns a smaller image', async () => {
 *   const run = await runTask(tasks.resize, { image, width: 64 }, { state: { wasm } })
 *   expect(run.status).toBe('completed')
 *   expect(run.progress).toEqual([50, 100])
 * })
 * ```
 */
export async function runTask<E extends TaskHandler | TaskDefinition>(
  task: E,
  data: TaskInput<E>,
  options: RunTaskOptions<TaskState<E>> = {},
): Promise<TaskRecord<TaskOutput<E>>> {
  type S = TaskState<E>
  const run = resolveRun<S>(task, options)
  const given = options.steps === undefined ? {} : structuredClone(options.steps)
  const record: TaskRecord<TaskOutput<E>> = { status: 'completed', progress: [], logs: [], heartbeats: 0, steps: { ...given }, ran: [] }
  const sink: ReportSink = {
    progress: (value) => snapshot(value, (copy) => record.progress.push(copy)),
    log: (entry) => snapshot(entry, (copy) => record.logs.push(copy)),
    heartbeat: () => void record.heartbeats++,
    step: async (step, value) => {
      // As a store would keep it: a clone, and an uncloneable result fails the step.
      let copy: unknown
      try {
        copy = structuredClone(value)
      } catch (error) {
        throw new JobDataError(`ctx.step("${step}"): its result cannot be structured-cloned, so it cannot be stored`, { cause: error })
      }
      record.steps[step] = copy
      record.ran.push(step)
    },
  }

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

  const attempt = (async (): Promise<unknown> => {
    const state = run.setup ? await run.setup() : (options.state as S)
    const signals = Object.entries(options.signals ?? {}).map(([name, payload]): [string, unknown] => [
      signalStep(name),
      { payload: structuredClone(payload) },
    ])
    const ctx = createContext<S>(run.job, controller.signal, state, sink, { ...given, ...Object.fromEntries(signals) })
    return await run.handler(data, ctx)
  })()

  try {
    const result = await Promise.race([attempt, ignored])
    record.result = result as TaskOutput<E>
    const list = typeof result === 'object' && result !== null ? transfers.get(result) : undefined
    if (list) record.transferred = list
  } catch (thrown) {
    const error = thrown instanceof Error ? thrown : deserializeError(serializeError(thrown))
    record.error = error
    if (error instanceof Sleeping && !controller.signal.aborted && error.signal !== undefined) {
      record.status = 'waiting'
      record.waitFor = error.until < FOREVER ? { signal: error.signal, until: error.until } : { signal: error.signal }
      delete record.error
    } else if (error instanceof Sleeping && !controller.signal.aborted) {
      record.status = 'sleeping'
      record.sleep = { step: error.step, until: error.until }
      delete record.error
    } else if (error instanceof RetryError) {
      record.status = 'retry'
      record.retry = error.delay === undefined ? { reason: error.message } : { delay: error.delay, reason: error.message }
    } else {
      record.status = 'failed'
    }
    // As the queue decides (runner/transition.ts `afterAttempt`).
    if (run.offline && (error.name === 'TypeError' || (error instanceof RetryError && error.message === 'offline'))) record.waitsForNetwork = true
  } finally {
    for (const cleanup of cleanups) cleanup()
  }
  if (controller.signal.aborted) record.abortReason = controller.signal.reason as Error
  return record
}

interface ResolvedRun<S> {
  handler: TaskHandler<unknown, unknown, S>
  job: { id: string; name: string; queue: string; attempt: number; createdAt: number; version?: string | number }
  setup: (() => S | Promise<S>) | undefined
  timeout: number | undefined
  abortAfter: number | undefined
  abortGrace: number
  signal: AbortSignal | undefined
  /** Offline, and the job needs the network. */
  offline: boolean
}

/** Validates `runTask`'s task and options, once, before anything runs. */
function resolveRun<S>(task: unknown, options: RunTaskOptions<S>): ResolvedRun<S> {
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
  if (typeof task === 'function') {
    handler = task as TaskHandler
  } else if (typeof task === 'object' && task !== null && typeof (task as TaskDefinition).handler === 'function') {
    handler = (task as TaskDefinition).handler
    const own = resolveTaskOptions(name, task as Record<string, unknown>)
    ownTimeout = own.timeout
    ownNetwork = own.network === true
  } else {
    throw invalidOption('task', 'a handler function or { handler, ...options }', task)
  }
  if (options.setup !== undefined && typeof options.setup !== 'function') {
    throw invalidOption('setup', 'a function', options.setup)
  }
  if (options.setup !== undefined && 'state' in options) {
    throw new TypeError('Invalid options: give either "state" or "setup", not both')
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
  if (options.group !== undefined) resolveGroupId('group', options.group)
  for (const key of ['offline', 'network'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') throw invalidOption(key, 'a boolean', options[key])
  }
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
function snapshot<T>(value: T, keep: (copy: T) => void): void {
  let copy: T
  try {
    copy = structuredClone(value)
  } catch (error) {
    console.warn('[offthread] could not record a report of the task (not structured-cloneable)', error)
    return
  }
  keep(copy)
}

export type { Middleware, MiddlewareContext, MiddlewareNext } from './worker/middleware.js'
export type { LogEntry, Progress, TaskContext, TaskDefinition, TaskHandler } from './shared/types.js'
