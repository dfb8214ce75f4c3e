/**
 * The state machine of an attempt, as pure functions: given a running job and
 * how its attempt ended, the job's next state, the event that announces it,
 * and the records to write with it.
 */
import { InterruptedError, JobCancelledError, deserializeError, serializeError } from '../shared/errors.js'
import type { Outcome } from '../shared/protocol.js'
import { decideRetry, type RetryOptions } from '../shared/retry.js'
import type { JobRecord, WriteOp } from '../store/store.js'
import type { ErrorRecord, LogEntry, Progress, SerializedError } from '../shared/types.js'

/** A committed change of one job, for handles and queue events; `data` when the runner holds it. */
export type JobChange = { data?: unknown } & (
  | { event: 'started'; job: JobRecord }
  | { event: 'progress'; job: JobRecord; progress: Progress }
  | { event: 'log'; job: JobRecord; entry: LogEntry }
  | { event: 'retrying'; job: JobRecord; delay: number; error: SerializedError }
  | { event: 'completed'; job: JobRecord; result: unknown }
  | { event: 'failed'; job: JobRecord; error: SerializedError }
  | { event: 'cancelled'; job: JobRecord; reason: string | undefined }
  | { event: 'requeued'; job: JobRecord }
)

/** Why a running attempt is being stopped. */
export type StopKind = 'cancel' | 'timeout' | 'stall' | 'close'

/** A stop asked of a running attempt. */
export interface Stop {
  kind: StopKind
  error: Error
  reason?: string
}

/** How many interruptions of one attempt fail the job (a job that crashes the tab must not loop). */
export const MAX_INTERRUPTIONS = 3

/** One failed (or interrupted) attempt, as `errors()` lists it. */
export function errorRecord(attempt: number, error: SerializedError, at: number): ErrorRecord {
  const record: ErrorRecord = { attempt, name: error.name, message: error.message, failedAt: at }
  if (error.stack !== undefined) record.stack = error.stack
  return record
}

/** A job that had not started, cancelled. */
export function cancelled(job: JobRecord, reason: string | undefined, now: number): JobRecord {
  return {
    ...job,
    status: 'cancelled',
    finishedAt: now,
    error: serializeError(new JobCancelledError(reason ?? 'The job was cancelled')),
    rev: job.rev + 1,
  }
}

/** A job found `running` when a runner starts: its runner is gone. */
export function interrupted(old: JobRecord, now: number): { job: JobRecord; ops: WriteOp[] } {
  const interruptions = old.interruptions + 1
  const error = serializeError(
    new InterruptedError(`Attempt ${old.attempt} was interrupted (reload, closed tab or crash): ${interruptions} of ${MAX_INTERRUPTIONS}`),
  )
  const job: JobRecord =
    interruptions >= MAX_INTERRUPTIONS
      ? { ...old, status: 'failed', error, finishedAt: now, interruptions, rev: old.rev + 1 }
      : { ...old, status: 'waiting', interruptions, rev: old.rev + 1 }
  if (job.status === 'waiting') delete job.startedAt
  return { job, ops: [{ op: 'put', job, expect: ['running'] }, { op: 'error', id: job.id, record: errorRecord(job.attempt, error, now) }] }
}

/**
 * The end of an attempt. Without an outcome, the job goes back to `waiting`
 * unharmed (its worker died running another job of its batch).
 *
 * @param policy - the merged retry policy of the job
 */
export function afterAttempt(
  job: JobRecord,
  outcome: Outcome | undefined,
  stop: Stop | undefined,
  policy: RetryOptions,
  now: number,
): { next: JobRecord; change: JobChange; ops: WriteOp[] } {
  const ops: WriteOp[] = []
  const rev = job.rev + 1
  if (stop?.kind === 'cancel') {
    const next: JobRecord = { ...job, status: 'cancelled', finishedAt: now, error: serializeError(stop.error), rev }
    return { next, change: { event: 'cancelled', job: next, reason: stop.reason }, ops }
  }
  if (outcome === undefined || (stop?.kind === 'close' && outcome.type !== 'completed')) {
    const next: JobRecord = { ...job, status: 'waiting', rev }
    delete next.startedAt
    if (outcome !== undefined) {
      const error = serializeError(new InterruptedError(`Attempt ${job.attempt} was interrupted: the queue closed`))
      ops.push({ op: 'error', id: job.id, record: errorRecord(job.attempt, error, now) })
    }
    return { next, change: { event: 'requeued', job: next }, ops }
  }
  if (outcome.type === 'completed' && (!stop || stop.kind === 'close')) {
    const next: JobRecord = { ...job, status: 'completed', finishedAt: now, rev }
    return { next, change: { event: 'completed', job: next, result: outcome.result }, ops }
  }
  // A failure: the handler's, a timeout or stall (whatever the handler then did), or a crash.
  const failed = outcome.type === 'failed' ? outcome : undefined
  const error = stop ? serializeError(stop.error) : (failed as Extract<Outcome, { type: 'failed' }>).error
  ops.push({ op: 'error', id: job.id, record: errorRecord(job.attempt, error, now) })
  const decision =
    error.name === 'UnknownTaskError' || error.name === 'JobDataError'
      ? { retry: false as const }
      : decideRetry(policy, job.attempt, deserializeError(error), {
          requested: stop ? undefined : failed?.retry,
          hints: failed?.hints,
        })
  if (decision.retry) {
    const next: JobRecord = {
      ...job,
      status: decision.delay > 0 ? 'delayed' : 'waiting',
      attempt: job.attempt + 1,
      runAt: now + decision.delay,
      error,
      interruptions: 0,
      rev,
    }
    delete next.startedAt
    return { next, change: { event: 'retrying', job: next, delay: decision.delay, error }, ops }
  }
  const next: JobRecord = { ...job, status: 'failed', finishedAt: now, error, rev }
  return { next, change: { event: 'failed', job: next, error }, ops }
}
