/**
 * The worker's side of a batch of a batch task (task option `batch`): one call of the
 * handler (batch.ts) for the jobs of one `run` message, each job ending on its own. A job
 * cancelled (or timed out) while the others run ends at once; the batch's signal aborts
 * once every job's has. Loaded by runtime.ts only in a module that has a batch task.
 */
import { fromStored } from '../shared/binary.js'
import { serializeError, unknownTask } from '../shared/errors.js'
import type { Outcome, RunRequest } from '../shared/protocol.js'
import { runBatch, type BatchEnd } from './batch.js'
import { JobReporter, type PostTarget, type ReportSink } from './context.js'
import type { TaskHandler } from '../shared/types.js'
import type { RetryOptions } from '../shared/retry.js'

/** A task of the module: its handler (within the middleware), its retry functions, whether it runs in batches. */
export interface ResolvedTask {
  handler: TaskHandler
  retry: RetryOptions | undefined
  batch?: true
}

/** What a batch needs of the worker's runtime. */
export interface BatchHost {
  readonly endpoint: PostTarget
  /** Each job's abort controller, by id (aborted by the pool's `abort(id)`). */
  readonly running: Map<string, AbortController>
  readonly tasks: ReadonlyMap<string, ResolvedTask>
  /** The module's `setup()`, run once per worker: `ctx.state`. */
  readonly setup: () => Promise<unknown>
  /** A job's outcome, queued for the next `done` message. */
  readonly finish: (request: RunRequest, outcome: Outcome, began: number) => void
  /** Sends the outcomes queued now. */
  readonly flush: () => void
  /** The outcome of a failed attempt (its error, a retry asked for, its task's retry hints). */
  readonly failure: (task: ResolvedTask | undefined, request: RunRequest, thrown: unknown, aborted: boolean) => Outcome
}

/**
 * One call of a batch task's handler for `requests` (see batch.ts); each job still ends
 * on its own. A job cancelled (or timed out) while the others run ends at once, its result
 * dropped; the batch's signal aborts once every job's has.
 */
export async function executeBatch(host: BatchHost, requests: RunRequest[]): Promise<void> {
  const { endpoint, running, tasks, finish, failure } = host
  const began = performance.now()
  const live: Array<{ request: RunRequest; controller: AbortController; reporter: JobReporter }> = []
  for (const request of requests) {
    const controller = running.get(request.id) ?? new AbortController()
    // Aborted while it waited its turn: it never runs, the others do.
    if (controller.signal.aborted) finish(request, { type: 'failed', error: serializeError(controller.signal.reason), aborted: true }, began)
    else live.push({ request, controller, reporter: new JobReporter(endpoint, request.id) })
  }
  const first = live[0]
  const task = first && tasks.get(first.request.name)
  if (!first || !task) {
    const error = first && unknownTask(first.request.name, [...tasks.keys()])
    for (const { request } of live) finish(request, { type: 'failed', error: serializeError(error) }, began)
    return
  }
  const ended = new Set<string>()
  const whole = new AbortController()
  const listeners = live.map(({ request, controller, reporter }) => {
    const listener = (): void => {
      if (live.every((job) => job.controller.signal.aborted)) {
        whole.abort(controller.signal.reason)
        return
      }
      ended.add(request.id)
      reporter.flush()
      finish(request, { type: 'failed', error: serializeError(controller.signal.reason), aborted: true }, began)
      host.flush()
    }
    controller.signal.addEventListener('abort', listener, { once: true })
    return listener
  })
  let ends: BatchEnd[]
  try {
    const state = await host.setup()
    // Large binaries were stored as Blobs: read back here, off the page's main thread.
    const inputs = await Promise.all(live.map(({ request }) => fromStored(request.data)))
    const jobs = live.map(({ request, reporter }, i) => ({
      info: request,
      input: inputs[i],
      report: quietOnceEnded(reporter, () => ended.has(request.id)),
    }))
    ends = await runBatch(task.handler, jobs, state, whole.signal)
  } catch (error) {
    // Nothing a handler does may leave its jobs without an outcome: a failed setup, say.
    ends = live.map(() => ({ ok: false, error }))
  }
  for (const [i, { request, controller, reporter }] of live.entries()) {
    controller.signal.removeEventListener('abort', listeners[i] as () => void)
    if (ended.has(request.id)) continue
    reporter.flush()
    const end = ends[i] ?? { ok: false, error: new Error('no outcome') }
    const aborted = controller.signal.aborted
    finish(
      request,
      end.ok && !aborted ? { type: 'completed', result: end.result } : failure(task, request, end.ok ? controller.signal.reason : end.error, aborted),
      began,
    )
  }
}

/** A job's reports, dropped once it has ended (cancelled alone while its batch runs on). */
function quietOnceEnded(reporter: ReportSink, ended: () => boolean): ReportSink {
  return {
    progress: (value) => void (ended() || reporter.progress(value)),
    log: (entry) => void (ended() || reporter.log(entry)),
    heartbeat: () => void (ended() || reporter.heartbeat()),
    step: (step, value) => reporter.step(step, value),
  }
}
