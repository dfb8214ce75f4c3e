/**
 * Which jobs share a message to a worker, and how many batches a worker holds
 * ahead: short jobs (by the durations the workers report) of a deep queue go
 * several to a message, so that a worker of 1 ms jobs does not spend its time
 * waiting for this thread or for a commit.
 */
import type { JobRecord } from '../store/store.js'

/** Jobs of a task that takes at most this long on average may share a message. */
const BATCH_MAX_AVERAGE_MS = 2
/** A batch holds about this much work. */
const BATCH_BUDGET_MS = 8
const MAX_BATCH = 64
/**
 * Batches of short jobs a worker holds (running, sent, or committing): a batch
 * is sent only once its `running` state is committed, so the worker works
 * through the ones before it meanwhile. As many as cover the commit time, within these.
 */
const MIN_BATCHES_AHEAD = 2
const MAX_BATCHES_AHEAD = 8
/**
 * Jobs of a task that takes at most this long on average, and too long to share a
 * message, are sent one behind another on a busy worker: a commit between two jobs of
 * 20 ms would cost the worker a quarter of its time. Longer ones are not: a job queued
 * behind another is `running` before its handler starts, by at most this long.
 */
const AHEAD_MAX_AVERAGE_MS = 50

/** What batching needs to know of the runner. */
export interface BatchingHost {
  /** Due jobs in memory. */
  readyCount(): number
  /** Workers in the pool, at most. */
  readonly poolSize: number
  /** Whether a stall watchdog runs (a batch would share it). */
  readonly stallTimeout: number | undefined
  /** The job's time limit per attempt, if any (a batch would share it). */
  timeoutOf(job: JobRecord): number | undefined
  /** Whether a task limit or throttle applies to the job (it is counted alone). */
  limited(job: JobRecord): boolean
}

/** The runner's batching: what it learned of durations and commits, and its rules. */
export class Batching {
  #host: BatchingHost
  /** Average handler time per task, from the workers' reports. */
  #durations = new Map<string, number>()
  /** Jobs that were in a batch whose worker died: they run alone, so a culprit is found. */
  #suspects = new Set<string>()
  /** How long a `running` commit takes, on average (ms). */
  #commitMs = 0

  constructor(host: BatchingHost) {
    this.#host = host
  }

  /** A worker reports how long a job of `task` ran. */
  learn(task: string, ms: number): void {
    const average = this.#durations.get(task)
    this.#durations.set(task, average === undefined ? ms : average * 0.8 + ms * 0.2)
  }

  /** A `running` commit took `ms`. */
  committed(ms: number): void {
    this.#commitMs = this.#commitMs * 0.8 + ms * 0.2
  }

  /** The job was in a batch whose worker died: from now on it runs alone. */
  suspect(id: string): void {
    this.#suspects.add(id)
  }

  /** Whether the job was in a batch whose worker died (it runs alone). */
  suspected(id: string): boolean {
    return this.#suspects.has(id)
  }

  /** The job finished: it is no longer a suspect. */
  cleared(id: string): void {
    this.#suspects.delete(id)
  }

  /** Short jobs without a time limit may share a message when the queue is deep. */
  batchable(job: JobRecord): boolean {
    const host = this.#host
    const average = this.#durations.get(job.name)
    return (
      average !== undefined &&
      average <= BATCH_MAX_AVERAGE_MS &&
      host.readyCount() >= 2 * host.poolSize &&
      host.stallTimeout === undefined &&
      host.timeoutOf(job) === undefined &&
      !this.#suspects.has(job.id) &&
      !host.limited(job)
    )
  }

  /** Whether jobs of `task` take at most {@link AHEAD_MAX_AVERAGE_MS} on average (as far as the workers told). */
  short(task: string): boolean {
    const average = this.#durations.get(task)
    return average !== undefined && average <= AHEAD_MAX_AVERAGE_MS
  }

  /**
   * Short jobs that do not share a message ({@link batchable}'s other conditions) may wait
   * on a busy worker, one behind the job it runs (a short one too: see DispatchLoop's
   * `queueBehind`), when the queue is as deep as the pool.
   */
  aheadable(job: JobRecord): boolean {
    const host = this.#host
    return (
      this.short(job.name) &&
      host.readyCount() >= host.poolSize &&
      host.stallTimeout === undefined &&
      host.timeoutOf(job) === undefined &&
      !this.#suspects.has(job.id) &&
      !host.limited(job)
    )
  }

  /** How many jobs like `job` make one message's worth. */
  size(job: JobRecord): number {
    const average = Math.max(0.01, this.#durations.get(job.name) ?? BATCH_BUDGET_MS)
    const share = Math.ceil((this.#host.readyCount() + 1) / this.#host.poolSize)
    return Math.max(1, Math.min(MAX_BATCH, Math.floor(BATCH_BUDGET_MS / average), share))
  }

  /** How many batches a worker of short jobs should hold: enough to cover a commit. */
  ahead(): number {
    return Math.min(MAX_BATCHES_AHEAD, MIN_BATCHES_AHEAD + Math.ceil(this.#commitMs / BATCH_BUDGET_MS))
  }
}
