/**
 * offthread's test helper: runs one of your task handlers in the current
 * thread with a recording context (no worker, no storage), so tasks can be
 * unit-tested in Node or any other runtime.
 *
 * @packageDocumentation
 */
import { JobDataError, OffthreadError, RetryError, deserializeError, serializeError } from './shared/errors.js'
import { invalidOption } from './shared/options.js'
import type {
  BatchContext,
  BatchTaskDefinition,
  LogEntry,
  Progress,
  TaskContext,
  TaskDefinition,
  TaskHandler,
  TaskInput,
  TaskOutput,
} from './shared/types.js'
import { runBatch, type BatchEnd } from './worker/batch.js'
import { Sleeping, createContext, transfers, type ReportSink } from './worker/context.js'
import { resolveRun, snapshot, startAborts, type ResolvedRun, type RunTaskOptions } from './worker/test-run.js'
import { FOREVER, signalStep } from './shared/waits.js'

/** The state type (`ctx.state`) a task entry's handler expects. */
export type TaskState<E> = E extends { batch: object; handler: (inputs: any, ctx: BatchContext<infer S>) => any }
  ? S
  : E extends TaskDefinition<any, any, infer S>
    ? S
    : E extends (input: any, ctx: TaskContext<infer S>) => any
      ? S
      : unknown

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

/**
 * What {@link runTask} recorded of one job of a batch: each job ends on its own.
 *
 * @typeParam R - one job's result type
 */
export interface BatchItemRecord<R = unknown> {
  /** The job's id (`ctx.batch.ids[i]`). */
  id: string
  /**
   * How the job's attempt ended: `failed` when the handler failed it alone
   * (`ctx.batch.fail(i, error)`), threw, or returned no array of one result per input;
   * `retry` when that error was `ctx.retry(…)`.
   */
  status: 'completed' | 'failed' | 'retry'
  /** Its result, when `completed`. */
  result?: R
  /** What failed it, when `failed` or `retry`. */
  error?: Error
  /** When `retry`: the delay asked for, and the reason. */
  retry?: { delay?: number; reason?: string }
  /** Its progress values, in order: the batch's (`ctx.progress`) and its own (`ctx.batch.progress(i, …)`). */
  progress: Progress[]
  /** Its log entries, in order: the batch's (`ctx.log`) and its own (`ctx.batch.log(i)`). */
  logs: LogEntry[]
  /** How many times the handler called `ctx.heartbeat()` (each is every job's). */
  heartbeats: number
  /** As {@link TaskRecord.waitsForNetwork}, for this job. */
  waitsForNetwork?: true
}

/**
 * What {@link runTask} recorded of one call of a batch task's handler (task option `batch`).
 *
 * @typeParam R - one job's result type
 */
export interface BatchRecord<R = unknown> {
  /** One record per input, in order. */
  items: Array<BatchItemRecord<R>>
  /** Set when `ctx.signal` aborted before the handler settled: the reason it aborted with. */
  abortReason?: Error
}

/**
 * Runs a task handler once, in this thread, with a `ctx` like a worker's that
 * records what the handler reports; resolves when the handler settles, never
 * rejects for the handler's own errors.
 *
 * @param task - a handler `(input, ctx) => result`, a long-form `{ handler, timeout?, … }`,
 *   or an entry of a `defineTasks` map (`tasks.resize`)
 * A batch task (task option `batch`) takes the inputs of its jobs, an array: its handler is
 * called once, and the record has one item per job, each ending on its own (`items[i].status`).
 *
 * @param data - the job's input; for a batch task, the inputs of the batch's jobs
 * @param options - what `ctx` says about the job, its state, middleware, and when its signal aborts
 * @returns the status, the result or error, and every progress value, log entry and heartbeat
 *   (for a batch task, a {@link BatchRecord}: the same, per job)
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
 *
 * test('embed fails a text too long alone', async () => {
 *   const run = await runTask(tasks.embed, ['a', 'x'.repeat(9000)])
 *   expect(run.items.map((item) => item.status)).toEqual(['completed', 'failed'])
 * })
 * ```
 */
export function runTask<E extends BatchTaskDefinition>(
  task: E,
  inputs: ReadonlyArray<TaskInput<E>>,
  options?: RunTaskOptions<TaskState<E>>,
): Promise<BatchRecord<TaskOutput<E>>>
export function runTask<E extends TaskHandler | TaskDefinition>(
  task: E,
  data: TaskInput<E>,
  options?: RunTaskOptions<TaskState<E>>,
): Promise<TaskRecord<TaskOutput<E>>>
export async function runTask(
  task: TaskHandler | TaskDefinition | BatchTaskDefinition,
  data: unknown,
  options: RunTaskOptions = {},
): Promise<TaskRecord | BatchRecord> {
  const run = resolveRun(task, options)
  return run.batch ? runBatchTask(run, data, options) : runOne(run, data, options)
}

/** {@link runTask} of one job. */
async function runOne<S>(run: ResolvedRun<S>, data: unknown, options: RunTaskOptions<S>): Promise<TaskRecord> {
  const given = options.steps === undefined ? {} : structuredClone(options.steps)
  const record: TaskRecord = { status: 'completed', progress: [], logs: [], heartbeats: 0, steps: { ...given }, ran: [] }
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

  const { controller, ignored, cleanup } = startAborts(run)

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
    record.result = result
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
    cleanup()
  }
  if (controller.signal.aborted) record.abortReason = controller.signal.reason as Error
  return record
}

/**
 * {@link runTask} of a batch task: one call of its handler with `inputs`, each job ending on its
 * own, as in a worker (worker/batch.ts runs both).
 */
async function runBatchTask<S>(run: ResolvedRun<S>, inputs: unknown, options: RunTaskOptions<S>): Promise<BatchRecord> {
  const { name, id } = run.job
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw invalidOption('inputs', `a non-empty array (batch task "${name}" takes one input per job)`, inputs)
  }
  for (const option of ['steps', 'signals'] as const) {
    if (options[option] !== undefined) throw new TypeError(`Invalid option "${option}": batch task "${name}" has no durable steps`)
  }
  const ids = options.ids ?? inputs.map((_, i) => `${id}-${i}`)
  if (ids.length !== inputs.length) throw invalidOption('ids', `one id per input (${inputs.length})`, ids, RangeError)
  const items: BatchItemRecord[] = ids.map((id) => ({ id, status: 'completed', progress: [], logs: [], heartbeats: 0 }))
  const jobs = items.map((item, i) => ({
    info: { ...run.job, id: item.id },
    input: inputs[i] as unknown,
    report: {
      progress: (value) => snapshot(value, (copy) => item.progress.push(copy)),
      log: (entry) => snapshot(entry, (copy) => item.logs.push(copy)),
      heartbeat: () => void item.heartbeats++,
      step: () => Promise.reject(new OffthreadError(`batch task "${name}" has no durable steps`)),
    } satisfies ReportSink,
  }))
  const { controller, ignored, cleanup } = startAborts(run)
  let ends: BatchEnd[]
  try {
    const state = run.setup ? await Promise.race([run.setup(), ignored]) : (options.state as S)
    ends = await Promise.race([runBatch(run.handler, jobs, state, controller.signal), ignored])
  } catch (error) {
    // A failed setup, or a handler that ignored its aborted signal: every job fails with it.
    ends = jobs.map(() => ({ ok: false, error }))
  } finally {
    cleanup()
  }
  for (const [i, end] of ends.entries()) {
    const item = items[i] as BatchItemRecord
    if (end.ok) {
      item.result = end.result
      continue
    }
    const error = end.error instanceof Error ? end.error : deserializeError(serializeError(end.error))
    item.error = error
    if (error instanceof RetryError) {
      item.status = 'retry'
      item.retry = error.delay === undefined ? { reason: error.message } : { delay: error.delay, reason: error.message }
    } else {
      item.status = 'failed'
    }
    if (run.offline && (error.name === 'TypeError' || (error instanceof RetryError && error.message === 'offline'))) item.waitsForNetwork = true
  }
  const record: BatchRecord = { items }
  if (controller.signal.aborted) record.abortReason = controller.signal.reason as Error
  return record
}

export type { RunTaskOptions } from './worker/test-run.js'
export type { Middleware, MiddlewareContext, MiddlewareNext } from './worker/middleware.js'
export type { BatchContext, BatchTaskDefinition, LogEntry, Progress, TaskContext, TaskDefinition, TaskHandler } from './shared/types.js'
