/**
 * The worker's side of the pool: exposes the task map with Comlink, runs one
 * attempt at a time per request, and posts each outcome back as plain data.
 */
import { fromStored } from '../shared/binary.js'
import { expose, type Endpoint } from 'comlink'
import {
  JobDataError,
  RetryError,
  notLoaded,
  unknownTask,
  deserializeError,
  findUncloneablePath,
  isDataCloneError,
  serializeError,
} from '../shared/errors.js'
import { resolveTaskOptions } from '../shared/options.js'
import {
  MESSAGE_TAG,
  type Outcome,
  type RunRequest,
  type TaskMeta,
  type WorkerApi,
  type WorkerManifest,
  type WorkerMessage,
} from '../shared/protocol.js'
import { WORKER_FUNCTION, type RetryHints, type RetryOptions } from '../shared/retry.js'
import type { SerializedError, TaskDefinition, TaskMap } from '../shared/types.js'
import type { BatchHost, ResolvedTask } from './batch-run.js'
import { JobReporter, Sleeping, createContext, stepStored, transfers, type PostTarget } from './context.js'
import { composeMiddleware, validateMiddleware, type Middleware } from './middleware.js'

/** Outcomes of short jobs wait at most this long to share a message. */
const OUTCOME_FLUSH_MS = 4

/** Options of `defineTasks`. */
export interface DefineTasksOptions<S> {
  /**
   * Runs once per worker, before its first job; what it returns is `ctx.state`.
   * If it throws, the attempt fails with its error and the next job calls it again.
   * @defaultValue none
   */
  setup?: () => S | Promise<S>
  /**
   * Runs around every job of this module, the first listed outermost: each can
   * replace the input (`next(input)`), replace the result (return something
   * else than what `next()` resolved to), see errors, or answer without calling
   * `next`. `ctx.state` is `setup()`'s value; a failed `setup()` runs none of them.
   * @defaultValue []
   */
  middleware?: ReadonlyArray<Middleware<S>>
}

/** Validates the options of `defineTasks`; returns the middleware list to use. */
export function resolveDefineTasksOptions<S>(options: DefineTasksOptions<S>): Array<Middleware<S>> {
  if (options.setup !== undefined && typeof options.setup !== 'function') {
    throw new TypeError(`defineTasks: "setup" must be a function, received ${String(options.setup)}`)
  }
  return validateMiddleware<S>(options.middleware)
}

/** A Comlink endpoint: a worker's global scope or a Node port. */
export type RuntimeEndpoint = Endpoint & PostTarget

/** Validates a task map and splits it into handlers and the manifest the pool reads. */
export function compileTasks(handlers: TaskMap): { tasks: Map<string, ResolvedTask>; manifest: WorkerManifest } {
  if (typeof handlers !== 'object' || handlers === null || Array.isArray(handlers)) {
    throw new TypeError(`defineTasks: expected an object of task handlers, received ${String(handlers)}`)
  }
  const tasks = new Map<string, ResolvedTask>()
  const manifest: WorkerManifest = { tasks: {} }
  for (const [name, entry] of Object.entries(handlers)) {
    if (typeof entry === 'function') {
      tasks.set(name, { handler: entry, retry: undefined })
      manifest.tasks[name] = {}
      continue
    }
    const def = entry as TaskDefinition | undefined
    if (typeof def !== 'object' || def === null || typeof def.handler !== 'function') {
      throw new TypeError(`defineTasks: task "${name}" must be a function or { handler, ...options }`)
    }
    const options = resolveTaskOptions(name, def as unknown as Record<string, unknown>)
    const meta: TaskMeta = {}
    if (options.timeout !== undefined) meta.timeout = options.timeout
    if (options.priority !== undefined) meta.priority = options.priority
    if (options.concurrency !== undefined) meta.concurrency = options.concurrency
    if (options.rateLimit !== undefined) meta.rateLimit = options.rateLimit
    if (options.network) meta.network = true
    if (options.groups !== undefined) meta.groups = options.groups
    if (options.batch) meta.batch = options.batch
    if (options.retry) {
      // Functions stay here; the pool sees a marker and gets their answers as hints.
      const retry: Record<string, unknown> = { ...options.retry }
      for (const key of ['backoff', 'retryOn', 'noRetryOn'] as const) {
        if (typeof retry[key] === 'function') retry[key] = WORKER_FUNCTION
      }
      meta.retry = retry
    }
    tasks.set(name, options.batch ? { handler: def.handler, retry: options.retry, batch: true } : { handler: def.handler, retry: options.retry })
    manifest.tasks[name] = meta
  }
  return { tasks, manifest }
}

/** Starts answering the pool on `endpoint`. */
export function startRuntime<S>(handlers: TaskMap, options: DefineTasksOptions<S>, endpoint: RuntimeEndpoint): void {
  const { tasks, manifest } = compileTasks(handlers)
  const middleware = resolveDefineTasksOptions(options)
  for (const task of tasks.values()) task.handler = composeMiddleware(middleware, task.handler)
  const running = new Map<string, AbortController>()
  let setup: Promise<S> | undefined

  const post = (message: WorkerMessage, transfer?: Transferable[]): void => endpoint.postMessage(message, transfer)

  const runSetup = (): Promise<S> => {
    if (!setup) {
      setup = Promise.resolve().then(() => (options.setup ? options.setup() : (undefined as S)))
      // A failed setup is tried again by the next job.
      setup.catch(() => (setup = undefined))
    }
    return setup
  }

  async function execute(request: RunRequest, controller: AbortController, reporter: JobReporter): Promise<Outcome> {
    const task = tasks.get(request.name)
    if (!task) {
      const error = unknownTask(request.name, [...tasks.keys()])
      return { type: 'failed', error: serializeError(error) }
    }
    try {
      const state = await runSetup()
      const ctx = createContext(request, controller.signal, state, reporter, request.steps)
      // Large binaries were stored as Blobs: read back here, off the page's main thread.
      const result: unknown = await task.handler(await fromStored(request.data), ctx)
      return { type: 'completed', result }
    } catch (thrown) {
      if (isInstance(thrown, Sleeping) && !controller.signal.aborted) {
        const { until, signal } = thrown as Sleeping
        return signal === undefined ? { type: 'sleep', until } : { type: 'sleep', until, signal }
      }
      return failure(task, request, thrown, controller.signal.aborted)
    }
  }

  // Jobs run one after another; outcomes are sent together when jobs are short.
  const queue: Array<RunRequest | RunRequest[]> = []
  let draining = false
  let pending: Array<{ jobId: string; outcome: Outcome }> = []
  let pendingTransfer: Transferable[] = []
  let pendingSince = 0

  const flushOutcomes = (): void => {
    if (pending.length === 0) return
    const outcomes = pending
    const transfer = pendingTransfer
    pending = []
    pendingTransfer = []
    try {
      post({ [MESSAGE_TAG]: 'done', outcomes }, transfer)
    } catch {
      // One result could not be sent: send them one by one, so only that job fails.
      for (const item of outcomes) sendOne(item.jobId, item.outcome)
    }
  }

  const sendOne = (jobId: string, outcome: Outcome): void => {
    const result = outcome.type === 'completed' ? outcome.result : undefined
    const list = typeof result === 'object' && result !== null ? transfers.get(result) : undefined
    try {
      post({ [MESSAGE_TAG]: 'done', outcomes: [{ jobId, outcome }] }, list)
    } catch (error) {
      const where = isDataCloneError(error) ? findUncloneablePath(result, 'result') : undefined
      const failure = new JobDataError(`The result cannot be sent back: ${where ?? 'it is not structured-cloneable'}`, {
        cause: error,
      })
      post({ [MESSAGE_TAG]: 'done', outcomes: [{ jobId, outcome: { type: 'failed', error: serializeError(failure) } }] })
    }
  }

  /** A job's outcome, queued to go in the next `done` message. */
  const finish = (request: RunRequest, outcome: Outcome, began: number): void => {
    outcome.ms = performance.now() - began
    running.delete(request.id)
    // Counted from the job's start: the outcome of a long job goes at once, short ones share a message.
    if (pending.length === 0) pendingSince = began
    const result = outcome.type === 'completed' ? outcome.result : undefined
    const list = typeof result === 'object' && result !== null ? transfers.get(result) : undefined
    if (list) pendingTransfer.push(...list)
    pending.push({ jobId: request.id, outcome })
  }

  /** The outcome of a failed attempt: its error, a retry asked for, the task's retry hints. */
  const failure = (task: ResolvedTask | undefined, request: RunRequest, thrown: unknown, aborted: boolean): Outcome => {
    const outcome: Outcome = { type: 'failed', error: serializeError(thrown) }
    // `instanceof` itself throws on a revoked Proxy: whatever was thrown, the job settles.
    if (isInstance(thrown, RetryError)) {
      const { delay } = thrown as RetryError
      outcome.retry = delay === undefined ? {} : { delay }
    }
    const hints = evaluateHints(task?.retry, request.attempt, thrown)
    if (hints) outcome.hints = hints
    if (aborted) outcome.aborted = true
    return outcome
  }

  // A batch task's code is loaded only by a module that has one (it costs the others nothing).
  let batchCode = [...tasks.values()].some((task) => task.batch) ? import('./batch-run.js') : undefined
  batchCode?.catch(() => (batchCode = undefined))
  const batchHost: BatchHost = {
    endpoint,
    running,
    tasks,
    setup: runSetup,
    finish,
    flush: () => flushOutcomes(),
    failure,
  }

  /** One call of a batch task's handler for `requests` (batch-run.ts); each job still ends on its own. */
  async function runBatchOf(requests: RunRequest[]): Promise<void> {
    const began = performance.now()
    try {
      const { executeBatch } = await (batchCode ??= import('./batch-run.js'))
      await executeBatch(batchHost, requests)
    } catch (error) {
      // Its code did not load: every job of the batch fails its attempt, saying so.
      const failed = notLoaded('the batch code of offthread/worker', error)
      for (const request of requests) if (running.has(request.id)) finish(request, failure(tasks.get(request.name), request, failed, false), began)
    }
  }

  async function drain(): Promise<void> {
    draining = true
    try {
      while (queue.length > 0) {
        const entry = queue.shift() as RunRequest | RunRequest[]
        if (Array.isArray(entry)) {
          await runBatchOf(entry)
          flushOutcomes()
          continue
        }
        const request = entry
        const controller = running.get(request.id) ?? new AbortController()
        const began = performance.now()
        let outcome: Outcome
        try {
          const reporter = new JobReporter(endpoint, request.id)
          outcome = controller.signal.aborted
            ? { type: 'failed', error: serializeError(controller.signal.reason), aborted: true }
            : await execute(request, controller, reporter)
          reporter.flush()
        } catch (error) {
          // Nothing a handler does may leave its job without an outcome, or this worker stuck.
          outcome = { type: 'failed', error: serializeError(error) }
        }
        finish(request, outcome, began)
        if (queue.length === 0 || performance.now() - pendingSince >= OUTCOME_FLUSH_MS) flushOutcomes()
      }
    } finally {
      draining = false
    }
  }

  const api: WorkerApi = {
    manifest: () => manifest,
    run(requests: RunRequest[], batch?: boolean): void {
      for (const request of requests) {
        running.set(request.id, new AbortController())
        if (!batch) queue.push(request)
      }
      if (batch) queue.push(requests)
      if (!draining) void drain()
    },
    abort(id: string, reason: SerializedError): void {
      running.get(id)?.abort(deserializeError(reason))
    },
    stepStored,
  }

  // `self.close()` ends a worker without any event on the page: say so first.
  const scope = endpoint as unknown as { close?: () => void }
  if (typeof scope.close === 'function') {
    const close = scope.close.bind(scope)
    scope.close = () => {
      post({ [MESSAGE_TAG]: 'exit' })
      close()
    }
  }

  expose(api, endpoint)
}

/** `value instanceof Class`, false where the check itself throws (a revoked Proxy). */
function isInstance(value: unknown, Class: abstract new (...args: never[]) => unknown): boolean {
  try {
    return value instanceof Class
  } catch {
    return false
  }
}

function evaluateHints(retry: RetryOptions | undefined, attempt: number, thrown: unknown): RetryHints | undefined {
  if (!retry) return undefined
  const error = isInstance(thrown, Error) ? (thrown as Error) : deserializeError(serializeError(thrown))
  const hints: RetryHints = {}
  let any = false
  try {
    if (typeof retry.retryOn === 'function') {
      hints.retryOn = Boolean(retry.retryOn(error))
      any = true
    }
    if (typeof retry.noRetryOn === 'function') {
      hints.noRetryOn = Boolean(retry.noRetryOn(error))
      any = true
    }
    if (typeof retry.backoff === 'function') {
      hints.backoff = Number(retry.backoff(attempt, error))
      any = true
    }
  } catch (error) {
    console.warn('[offthread] a retry option function threw; the job is not retried', error)
    return { noRetryOn: true }
  }
  return any ? hints : undefined
}

/** Whether this code runs inside a Web Worker (dedicated or shared). */
export function inWorkerScope(): boolean {
  if (typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope) return true
  // Bun's Web Workers have no WorkerGlobalScope; Bun says whether this is one.
  return typeof Bun !== 'undefined' && Bun.isMainThread === false
}

declare const WorkerGlobalScope: { new (): object; prototype: object } | undefined
declare const Bun: { isMainThread?: boolean } | undefined

export type { SerializedError }
