/**
 * The job state machine, the only place a job's status changes: the table of
 * every allowed move ({@link NEXT}), and pure functions that build the next
 * record (and the event that announces it, and the records to write with it)
 * for each: a job added, started, ended, retried, interrupted, cancelled,
 * unblocked, come due, moved by a debounce, or put back by `retry()`.
 */
import { InterruptedError, JobCancelledError, JobFailedError, deserializeError, serializeError } from '../shared/errors.js'
import type { Outcome } from '../shared/protocol.js'
import { decideRetry, type RetryOptions } from '../shared/retry.js'
import type { JobRecord, WriteOp } from '../store/store.js'
import { JOIN_TASK, type ErrorRecord, type JobStatus, type LogEntry, type Progress, type SerializedError } from '../shared/types.js'

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

/**
 * Where the runner's committed changes go: the queue's change path
 * (queue/changes.ts), handed to the runner as an object.
 */
export interface ChangeSink {
  /** A change made (and committed) here. */
  publish(change: JobChange, origin: 'here'): void
  /** Jobs found gone from the store (their database was deleted): their handles must hear. */
  removed(ids: readonly string[], origin: 'elsewhere'): void
}

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

/** What can happen to a job. */
export type Move =
  /** A runner takes it. */
  | 'start'
  /** Its handler returned. */
  | 'complete'
  /** Its attempt failed for good (attempts used up, `noRetryOn`, a timeout or crash on the last attempt). */
  | 'fail'
  /** Its attempt failed; the next runs at once. */
  | 'retry'
  /** Its attempt failed; the next runs after a backoff. */
  | 'retry-later'
  /** Its runner went away mid-attempt (reload, closed tab, crash, queue closed): it runs again, recorded. */
  | 'interrupt'
  /** Its attempt was interrupted {@link MAX_INTERRUPTIONS} times. */
  | 'give-up'
  /** Its worker died running another job of its batch, or its runner gave it up (frozen, hidden): it runs again, unharmed. */
  | 'resume'
  /** `cancel()`, a cancelled dependency, or `remove()`. */
  | 'cancel'
  /** A delayed job's time came (in the runner's memory: `start` is the next move written). */
  | 'due'
  /** A debounced add moved it later, with new data. */
  | 'move'
  /** Its dependencies completed. */
  | 'unblock'
  /** Its dependencies completed, and its own `runAt` is later. */
  | 'unblock-later'
  /** One of its dependencies failed (or no longer exists). */
  | 'dependency-failed'
  /** A join job: every member completed; its result is theirs. */
  | 'join'
  /** `queue.retry(id)`: attempts start again. */
  | 'requeue'
  /**
   * Its handler called `ctx.sleep(id, ms)` (it runs again at its time) or `ctx.waitFor(name)`
   * (when the signal comes, or at its timeout), its attempt not used up. (The store's `signal`
   * op wakes a job waiting for it: delayed to waiting, see write-rules.ts.)
   */
  | 'sleep'

/** Every move, for tests and tables. */
export const MOVES: readonly Move[] = [
  'start',
  'complete',
  'fail',
  'retry',
  'retry-later',
  'interrupt',
  'give-up',
  'resume',
  'cancel',
  'due',
  'move',
  'unblock',
  'unblock-later',
  'dependency-failed',
  'join',
  'requeue',
  'sleep',
]

/** Every allowed move: from a status, by a move, to a status. What is not here cannot happen. */
export const NEXT: Readonly<Record<JobStatus, Readonly<Partial<Record<Move, JobStatus>>>>> = {
  waiting: { start: 'running', cancel: 'cancelled' },
  delayed: { start: 'running', due: 'waiting', move: 'delayed', cancel: 'cancelled' },
  blocked: {
    unblock: 'waiting',
    'unblock-later': 'delayed',
    'dependency-failed': 'failed',
    cancel: 'cancelled',
    join: 'completed',
  },
  running: {
    complete: 'completed',
    fail: 'failed',
    retry: 'waiting',
    'retry-later': 'delayed',
    interrupt: 'waiting',
    'give-up': 'failed',
    resume: 'waiting',
    cancel: 'cancelled',
    sleep: 'delayed',
  },
  completed: {},
  failed: { requeue: 'waiting' },
  cancelled: { requeue: 'waiting' },
}

/**
 * The job after `move`, with `fields` changed and its revision advanced.
 *
 * @throws TypeError when the move is not allowed from the job's status (a bug, never user input)
 */
export function step(job: JobRecord, move: Move, fields: Partial<JobRecord> = {}): JobRecord {
  const status = NEXT[job.status][move]
  if (status === undefined) throw new TypeError(`offthread: a ${job.status} job cannot ${move} (job ${job.id})`)
  return { ...job, ...fields, status, rev: job.rev + 1 }
}

/** The status a new job starts in. */
export function initialStatus(blocked: boolean, runAt: number, now: number): JobStatus {
  return blocked ? 'blocked' : runAt > now ? 'delayed' : 'waiting'
}

/** A waiting (or due) job a runner takes. */
export function started(job: JobRecord, now: number): JobRecord {
  const next = step(job, 'start', { startedAt: now })
  delete next.waitingFor
  delete next.signal
  return next
}

/**
 * A waiting (or due) job whose task the runner's release does not define, kept
 * `waiting` for a release that does: its status stays, its reason is written.
 */
export function awaitingRelease(job: JobRecord): JobRecord {
  return { ...job, status: 'waiting', waitingFor: 'release', rev: job.rev + 1 }
}

/**
 * Whether an attempt failed as one does offline: a `TypeError` (what `fetch` throws when
 * the network is down), or the handler's own `throw ctx.retry({ reason: 'offline' })`.
 */
function failedOffline(outcome: Outcome): boolean {
  if (outcome.type !== 'failed') return false
  return outcome.error.name === 'TypeError' || (outcome.error.name === 'RetryError' && outcome.error.message === 'offline')
}

/** A due job that needs the network while the browser is offline: it stays `waiting`, its reason written. */
export function awaitingNetwork(job: JobRecord): JobRecord {
  return { ...job, status: 'waiting', waitingFor: 'network', rev: job.rev + 1 }
}

/** A delayed job whose time came, in the runner's memory (same revision: nothing is written). */
export function due(job: JobRecord): JobRecord {
  return { ...step(job, 'due'), rev: job.rev }
}

/** A delayed job a debounced add moved: it starts at `runAt`, with the new data. */
export function moved(job: JobRecord, runAt: number): JobRecord {
  return step(job, 'move', { runAt })
}

/** A failed or cancelled job put back by `queue.retry()`: attempts start again. */
export function requeued(job: JobRecord, now: number): JobRecord {
  const next = step(job, 'requeue', { attempt: 1, interruptions: 0, runAt: now })
  delete next.waitingFor
  delete next.signal
  delete next.finishedAt
  delete next.startedAt
  delete next.progress
  return next
}

/**
 * A blocked job, given its dependencies as stored (undefined: deleted):
 * undefined while some are unfinished; else its next record and event. A join
 * job's `completed` event carries no result yet: the caller reads the
 * members' results and sets it.
 */
export function unblocked(
  job: JobRecord,
  deps: ReadonlyArray<JobRecord | undefined>,
  now: number,
): { next: JobRecord; change: JobChange } | undefined {
  const missing = job.dependencies.find((_, i) => !deps[i])
  const failed = deps.find((d) => d?.status === 'failed')
  const cancelledDep = deps.find((d) => d?.status === 'cancelled')
  if (missing !== undefined || failed) {
    const message = missing !== undefined ? `Dependency ${missing} no longer exists` : `Dependency ${failed?.id} (${failed?.name}) failed`
    const error = serializeError(new JobFailedError(message, { cause: failed?.error && deserializeError(failed.error) }, failed?.id))
    const next = step(job, 'dependency-failed', { finishedAt: now, error })
    return { next, change: { event: 'failed', job: next, error } }
  }
  if (cancelledDep) {
    const error = serializeError(
      new JobCancelledError(`Dependency ${cancelledDep.id} (${cancelledDep.name}) was cancelled`, {
        cause: cancelledDep.error && deserializeError(cancelledDep.error),
      }),
    )
    const next = step(job, 'cancel', { finishedAt: now, error })
    return { next, change: { event: 'cancelled', job: next, reason: error.message } }
  }
  if (!deps.every((d) => d?.status === 'completed')) return undefined
  if (job.name === JOIN_TASK) {
    const next = step(job, 'join', { startedAt: now, finishedAt: now })
    return { next, change: { event: 'completed', job: next, result: undefined } }
  }
  const next = step(job, job.runAt > now ? 'unblock-later' : 'unblock')
  return { next, change: { event: 'requeued', job: next } }
}

/** One failed (or interrupted) attempt, as `errors()` lists it. */
export function errorRecord(attempt: number, error: SerializedError, at: number): ErrorRecord {
  const record: ErrorRecord = { attempt, name: error.name, message: error.message, failedAt: at }
  if (error.stack !== undefined) record.stack = error.stack
  return record
}

/** A job that had not started, cancelled. */
export function cancelled(job: JobRecord, reason: string | undefined, now: number): JobRecord {
  return step(job, 'cancel', { finishedAt: now, error: serializeError(new JobCancelledError(reason ?? 'The job was cancelled')) })
}

/**
 * A job found `running` that its runner gave up as its page was frozen or hidden: it
 * runs again, no interruption counted (it did not take the page down).
 */
export function givenUp(old: JobRecord): { job: JobRecord; ops: WriteOp[] } {
  const job = step(old, 'resume')
  delete job.startedAt
  return { job, ops: [{ op: 'put', job, expect: ['running'] }] }
}

/** A job found `running` when a runner starts: its runner is gone. */
export function interrupted(old: JobRecord, now: number): { job: JobRecord; ops: WriteOp[] } {
  const interruptions = old.interruptions + 1
  const error = serializeError(
    new InterruptedError(`Attempt ${old.attempt} was interrupted (reload, closed tab or crash): ${interruptions} of ${MAX_INTERRUPTIONS}`),
  )
  const job =
    interruptions >= MAX_INTERRUPTIONS ? step(old, 'give-up', { error, finishedAt: now, interruptions }) : step(old, 'interrupt', { interruptions })
  if (job.status === 'waiting') delete job.startedAt
  return {
    job,
    ops: [
      { op: 'put', job, expect: ['running'] },
      { op: 'error', id: job.id, record: errorRecord(job.attempt, error, now) },
    ],
  }
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
  offline = false,
): { next: JobRecord; change: JobChange; ops: WriteOp[] } {
  const ops: WriteOp[] = []
  if (stop?.kind === 'cancel') {
    const next = step(job, 'cancel', { finishedAt: now, error: serializeError(stop.error) })
    return { next, change: { event: 'cancelled', job: next, reason: stop.reason }, ops }
  }
  if (outcome === undefined || (stop?.kind === 'close' && outcome.type !== 'completed' && outcome.type !== 'sleep')) {
    const next = step(job, outcome === undefined ? 'resume' : 'interrupt')
    delete next.startedAt
    if (outcome !== undefined) {
      const error = serializeError(new InterruptedError(`Attempt ${job.attempt} was interrupted: ${stop?.reason ?? 'the queue closed'}`))
      ops.push({ op: 'error', id: job.id, record: errorRecord(job.attempt, error, now) })
    }
    return { next, change: { event: 'requeued', job: next }, ops }
  }
  if (outcome.type === 'sleep' && (!stop || stop.kind === 'close')) {
    // `ctx.sleep`: the run ends, no worker held, and the job runs again at its time (its steps stored, the sleep's too).
    const next = step(job, 'sleep', { runAt: outcome.until, slept: true, waitingFor: outcome.signal === undefined ? 'sleep' : 'signal' })
    if (outcome.signal !== undefined) next.signal = outcome.signal
    delete next.startedAt
    return { next, change: { event: 'requeued', job: next }, ops }
  }
  if (offline && !stop && failedOffline(outcome)) {
    // A job that needs the network, failed while the browser is offline: it waits for the network, its attempt not used up.
    const next = step(job, 'resume', { waitingFor: 'network' })
    delete next.startedAt
    return { next, change: { event: 'requeued', job: next }, ops }
  }
  if (outcome.type === 'completed' && (!stop || stop.kind === 'close')) {
    const next = step(job, 'complete', { finishedAt: now })
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
    const next = step(job, decision.delay > 0 ? 'retry-later' : 'retry', {
      attempt: job.attempt + 1,
      runAt: now + decision.delay,
      error,
      interruptions: 0,
    })
    delete next.startedAt
    return { next, change: { event: 'retrying', job: next, delay: decision.delay, error }, ops }
  }
  const next = step(job, 'fail', { finishedAt: now, error })
  return { next, change: { event: 'failed', job: next, error }, ops }
}
