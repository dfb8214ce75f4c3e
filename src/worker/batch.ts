/**
 * One call of a batch task's handler (task option `batch`): the context it gets, with
 * `ctx.batch`, and how each job of the batch ends. The worker's runtime (runtime.ts)
 * and `offthread/testing` both run a batch through {@link runBatch}.
 */
import { JobDataError, OffthreadError } from '../shared/errors.js'
import type { BatchContext, JobLogger, TaskBatch, TaskHandler } from '../shared/types.js'
import { createContext, createLogger, type JobInfo, type ReportSink } from './context.js'

/** One job of a batch: what `ctx` says of it, its input, and where its own reports go. */
export interface BatchJob {
  info: JobInfo
  input: unknown
  report: ReportSink
}

/** How one job of a batch ended: its result, or what failed its attempt. */
export type BatchEnd = { ok: true; result: unknown } | { ok: false; error: unknown }

/**
 * Calls `handler` once with the jobs' inputs, in order, and a context for the batch.
 * Never rejects for what the handler does: a throw fails every job not failed already
 * (`ctx.batch.fail`), and so does a result that is not an array of one result per input.
 *
 * @param signal - the batch's signal (aborted once every job of the batch is)
 * @returns one end per job, in order
 */
export async function runBatch<S>(handler: TaskHandler, jobs: readonly BatchJob[], state: S, signal: AbortSignal): Promise<BatchEnd[]> {
  const first = jobs[0]
  if (!first) return []
  const { name } = first.info
  const size = jobs.length
  const failed = new Map<number, unknown>()
  const at = (method: string, index: unknown): number => {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= size) {
      throw new RangeError(
        `ctx.batch.${method}(index, …) in batch task "${name}": expected an integer from 0 to ${size - 1} (the batch has ${size} jobs), received ${String(index)}`,
      )
    }
    return index
  }
  // `ctx.progress`, `ctx.log` and `ctx.heartbeat` are about every job of the batch.
  const every: ReportSink = {
    progress: (value) => jobs.forEach((job) => job.report.progress(value)),
    log: (entry) => jobs.forEach((job) => job.report.log(entry)),
    heartbeat: () => jobs.forEach((job) => job.report.heartbeat()),
    step: () => Promise.reject(noSteps(name, 'step')),
  }
  const loggers = new Map<number, JobLogger>()
  const batch: TaskBatch = Object.freeze({
    ids: Object.freeze(jobs.map((job) => job.info.id)),
    attempts: Object.freeze(jobs.map((job) => job.info.attempt)),
    fail(index: number, error: unknown): void {
      const i = at('fail', index)
      // The first failure of a job stands.
      if (!failed.has(i)) failed.set(i, error)
    },
    progress(index: number, value: Parameters<TaskBatch['progress']>[1]): void {
      jobs[at('progress', index)]?.report.progress(value)
    },
    log(index: number): JobLogger {
      const i = at('log', index)
      let logger = loggers.get(i)
      if (!logger) loggers.set(i, (logger = createLogger((jobs[i] as BatchJob).report)))
      return logger
    },
  })
  const base = createContext<S>(first.info, signal, state, every)
  const ctx: BatchContext<S> = Object.freeze({
    ...base,
    // A durable step is one job's; the jobs of a batch share one call.
    step: () => Promise.reject(noSteps(name, 'step')),
    sleep: () => Promise.reject(noSteps(name, 'sleep')),
    waitFor: () => Promise.reject(noSteps(name, 'waitFor')),
    batch,
  })
  const end = (i: number, otherwise: BatchEnd): BatchEnd => (failed.has(i) ? { ok: false, error: failed.get(i) } : otherwise)
  let results: unknown
  try {
    results = await handler(
      jobs.map((job) => job.input),
      ctx,
    )
  } catch (error) {
    return jobs.map((_, i) => end(i, { ok: false, error }))
  }
  if (!Array.isArray(results) || results.length !== size) {
    const error = new JobDataError(
      `Batch task "${name}" must return an array of ${size} results, one per input in order; it returned ${
        Array.isArray(results) ? `an array of ${results.length}` : results === null ? 'null' : typeof results
      }`,
    )
    return jobs.map((_, i) => end(i, { ok: false, error }))
  }
  const list: unknown[] = results
  return jobs.map((_, i) => end(i, { ok: true, result: list[i] }))
}

function noSteps(task: string, what: 'step' | 'sleep' | 'waitFor'): OffthreadError {
  const durable = { step: 'step', sleep: 'sleep', waitFor: 'wait' }[what]
  return new OffthreadError(
    `ctx.${what}() cannot be used in batch task "${task}": the jobs of a batch share one call of the handler, and a durable ${durable} belongs to one job`,
  )
}
