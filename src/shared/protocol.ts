/**
 * Everything that crosses `postMessage` between the pool and a worker: plain
 * data with string-literal tags, readable in DevTools.
 *
 * Calls from the pool go through Comlink (`WorkerApi`). Everything the worker
 * reports (progress, logs, heartbeats, the outcome of a job) is a
 * `WorkerMessage` posted on the same port, so it arrives in the order it was
 * sent: a job's last progress before its outcome.
 */
import type { GroupLimits } from './options.js'
import type { RetryHints, RetryOptions } from './retry.js'
import type { LogEntry, Progress, SerializedError } from './types.js'

/** The tag that tells offthread's own messages from Comlink's. */
export const MESSAGE_TAG = '__offthread'

/** A task's options as the worker module defines them; functions become markers. */
export interface TaskMeta {
  timeout?: number
  priority?: number
  retry?: RetryOptions
  /** At most this many jobs of the task run at once. */
  concurrency?: number
  /** At most `max` jobs of the task start per `per` ms. */
  rateLimit?: { max: number; per: number }
  /** Its jobs need the network (see `JobOptions.network`). */
  network?: true
  /** The limits of each group of its jobs (see `JobOptions.group`), over the queue's. */
  groups?: GroupLimits
  /** A batch task: up to `size` jobs go to one call of its handler; the first waits up to `wait` ms for company. */
  batch?: { size: number; wait: number }
}

/** What a worker says about itself once it has loaded. */
export interface WorkerManifest {
  tasks: Record<string, TaskMeta>
}

/** One job for a worker to run. */
export interface RunRequest {
  id: string
  name: string
  queue: string
  attempt: number
  createdAt: number
  /** The release that added the job (`ctx.version`). */
  version?: string | number
  data: unknown
  /** The stored results of the job's durable steps (`ctx.step`), when it ran before. */
  steps?: Record<string, unknown>
}

/** The calls a worker answers (exposed with Comlink by `defineTasks`). */
export interface WorkerApi {
  /** Loads nothing, runs nothing: says which tasks the module has. */
  manifest(): WorkerManifest
  /**
   * Queues jobs to run one after another; their outcomes come back in `done`
   * messages (several outcomes to a message when jobs are short). With `batch`, the
   * requests are one batch of a batch task: its handler runs once, with their inputs in order,
   * and each job still has its own outcome.
   */
  run(requests: RunRequest[], batch?: boolean): void
  /** Aborts a job's signal with `reason` (a queued one is then skipped). */
  abort(id: string, reason: SerializedError): void
  /** The page stored step result `seq` (or could not: `error`); its `ctx.step` resolves (or rejects). */
  stepStored(seq: number, error?: SerializedError): void
}

/** How a job's attempt ended in the worker. */
export type Outcome = (
  | { type: 'completed'; result: unknown }
  /**
   * The handler called `ctx.sleep(id, ms)`: it runs again at `until` (ms since epoch); or
   * `ctx.waitFor(signal)`: it runs again when that signal comes, or at `until` (its timeout).
   */
  | { type: 'sleep'; until: number; signal?: string }
  | {
      type: 'failed'
      error: SerializedError
      /** Set when the handler threw `ctx.retry()`. */
      retry?: { delay?: number }
      /** The task-level retry functions, evaluated in the worker. */
      hints?: RetryHints
      /** Set when the signal had aborted before the handler settled. */
      aborted?: boolean
    }
) & {
  /** How long the handler ran, in ms (the dispatcher batches short tasks). */
  ms?: number
}

/** What a worker posts on its own: tagged with {@link MESSAGE_TAG}. */
export type WorkerMessage =
  | { [MESSAGE_TAG]: 'progress'; jobId: string; value: Progress }
  | { [MESSAGE_TAG]: 'logs'; jobId: string; entries: LogEntry[] }
  | { [MESSAGE_TAG]: 'heartbeat'; jobId: string }
  /** A durable step's result, to store before `ctx.step` resolves; answered by `stepStored(seq)`. */
  | { [MESSAGE_TAG]: 'step'; jobId: string; step: string; value: unknown; seq: number }
  | { [MESSAGE_TAG]: 'done'; outcomes: Array<{ jobId: string; outcome: Outcome }> }
  | { [MESSAGE_TAG]: 'exit' }

/** Whether a message event's data is one of offthread's own. */
export function isWorkerMessage(data: unknown): data is WorkerMessage {
  return typeof data === 'object' && data !== null && MESSAGE_TAG in data
}
