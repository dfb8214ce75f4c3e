/**
 * The life of a running attempt, from its worker's first word to its durable
 * end: time limit and stall watchdog, progress and logs (live at once,
 * written coalesced), stops (cancel, timeout, stall, close) with the abort
 * grace, a dead worker's jobs, and the end committed on condition before it is
 * published. The dispatch loop (dispatch-loop.ts) decides what starts where.
 */
import { JobDataError, JobTimeoutError, OffthreadError, WorkerError, findUncloneablePath, serializeError } from '../shared/errors.js'
import { mergeRetry } from '../shared/options.js'
import { MESSAGE_TAG, type Outcome, type WorkerManifest, type WorkerMessage } from '../shared/protocol.js'
import { clearLongTimeout, setLongTimeout, toError, type LongTimer } from '../shared/timers.js'
import type { SerializedError } from '../shared/types.js'
import type { PoolWorker } from '../pool/pool.js'
import type { Writer } from '../store/committer.js'
import type { JobRecord, WriteOp } from '../store/store.js'
import type { RunnerOptions } from './options.js'
import { afterAttempt, type ChangeSink, type JobChange, type Stop } from './transition.js'

/** Jobs sent to a worker in one message. */
export interface Batch {
  remaining: number
}

/** A job this runner started: from its `running` commit to its durable end. */
export interface Running {
  job: JobRecord
  batch: Batch
  data: unknown
  /** Whether `data` may serve a later attempt (not when it was transferred away). */
  reusable: boolean
  worker: PoolWorker | undefined
  /** Whether it was sent to its worker (only once its `running` state is committed). */
  sent: boolean
  /** Resolves with whether the `running` state was committed (false: another tab changed the job first). */
  committed: Promise<boolean>
  stop: Stop | undefined
  timers: LongTimer[]
  lastSeen: number
  settled: boolean
  onSettle: Array<(job: JobRecord) => void>
}

/** What the attempts need from the runner around them. */
export interface AttemptsHost {
  readonly options: RunnerOptions
  readonly committer: Writer
  /** The worker module's tasks (their timeouts and retry policies). */
  manifest(): WorkerManifest | undefined
  /** Where committed changes go (the queue's change path). */
  readonly changes: ChangeSink
  error(error: Error): void
  closing(): boolean
  /** The attempt is over (its new state durable, or it did not count). */
  ended(running: Running, next: JobRecord, change: JobChange | undefined): void
  /** Kills a worker (a handler that ignored its aborted signal); the pool starts another. */
  terminate(worker: PoolWorker): void
  /** A worker with no job left goes back to the pool. */
  release(worker: PoolWorker): void
  /** A job whose batch's worker died: from now on it runs alone. */
  suspect(id: string): void
  /** Whether the store keeps durable steps (`Store.steps` and the `step` op); else steps are not stored. */
  readonly durableSteps: boolean
  /** Whether the job needs the network and the browser is offline now (see network.ts). */
  offline(job: JobRecord): boolean
}

const PROGRESS_WRITE_INTERVAL = 100
/** A write the store refused is tried again after this long (and then longer). */
export const STORAGE_RETRY_MS = 1000
/** The longest wait between two tries of a write the store refused. */
export const STORAGE_RETRY_MAX_MS = 30_000

/** The attempts running in this runner, by job id. */
export class Attempts {
  #host: AttemptsHost
  #running = new Map<string, Running>()
  #progressDirty = new Set<string>()
  #progressTimer: ReturnType<typeof setTimeout> | undefined

  constructor(host: AttemptsHost) {
    this.#host = host
  }

  get size(): number {
    return this.#running.size
  }

  get(id: string): Running | undefined {
    return this.#running.get(id)
  }

  has(id: string): boolean {
    return this.#running.has(id)
  }

  values(): IterableIterator<Running> {
    return this.#running.values()
  }

  /** A job the dispatcher reserved on a worker, its `running` state committing. */
  add(running: Running): void {
    this.#running.set(running.job.id, running)
  }

  /** Writes the progress still unwritten; no more later. */
  close(): void {
    clearTimeout(this.#progressTimer)
    this.#flushProgress()
  }

  /**
   * The runner lost its place: every attempt ends here, unwritten (the new runner counts
   * them as interrupted), and whoever waits on one (a `close` under way) stops waiting.
   */
  abandon(): void {
    clearTimeout(this.#progressTimer)
    this.#progressTimer = undefined
    for (const running of [...this.#running.values()]) {
      running.settled = true
      for (const timer of running.timers) clearLongTimeout(timer)
      for (const listener of running.onSettle.splice(0)) listener(running.job)
    }
    this.#running.clear()
  }

  /** Starts the time limit and stall watchdog of a job sent to its worker. */
  arm(running: Running): void {
    running.lastSeen = Date.now()
    const timeout = this.timeoutOf(running.job)
    if (timeout !== undefined) {
      running.timers.push(setLongTimeout(() => this.stop(running, 'timeout', new JobTimeoutError(`The job timed out after ${timeout} ms`)), timeout))
    }
    const stall = this.#host.options.stallTimeout
    if (stall === undefined) return
    const check = (): void => {
      if (running.settled || running.stop) return
      const quiet = Date.now() - running.lastSeen
      if (quiet >= stall) {
        this.stop(running, 'stall', new WorkerError(`The job stalled: no progress or heartbeat for ${stall} ms`))
      } else {
        running.timers.push(setLongTimeout(check, stall - quiet))
      }
    }
    running.timers.push(setLongTimeout(check, stall))
  }

  /** The job's time limit per attempt: its own, its task's, or the queue's default. */
  timeoutOf(job: JobRecord): number | undefined {
    return job.options.timeout ?? this.#host.manifest()?.tasks[job.name]?.timeout ?? this.#host.options.defaults.timeout
  }

  /** Progress, logs and heartbeats of a running job, from its worker. */
  report(worker: PoolWorker, message: WorkerMessage): void {
    if (message[MESSAGE_TAG] === 'done' || message[MESSAGE_TAG] === 'exit') return
    const running = this.#running.get(message.jobId)
    if (!running || running.worker !== worker || running.settled) return
    running.lastSeen = Date.now()
    switch (message[MESSAGE_TAG]) {
      case 'progress': {
        running.job = { ...running.job, progress: message.value }
        this.#progressDirty.add(running.job.id)
        this.#progressTimer ??= setTimeout(() => this.#flushProgress(), PROGRESS_WRITE_INTERVAL)
        // Live, not a transition: shown at once, written within PROGRESS_WRITE_INTERVAL.
        void running.committed.then((ok) => {
          if (ok) this.#host.changes.publish({ event: 'progress', job: running.job, progress: message.value }, 'here')
        })
        break
      }
      case 'logs': {
        const { entries } = message
        const id = running.job.id
        this.#host.committer.write([{ op: 'log', id, entries }]).then(
          () => {
            for (const entry of entries) this.#host.changes.publish({ event: 'log', job: running.job, entry }, 'here')
          },
          (error: unknown) => this.#host.error(toError(error)),
        )
        break
      }
      case 'heartbeat':
        break
      case 'step':
        this.#storeStep(worker, running, message.step, message.value, message.seq)
        break
    }
  }

  /**
   * Stores a durable step's result, then tells the worker (its `ctx.step` resolves).
   * Conditional on the job still being `running`: a runner that lost it stores nothing.
   */
  #storeStep(worker: PoolWorker, running: Running, step: string, value: unknown, seq: number): void {
    if (!this.#host.durableSteps) {
      worker.stepStored(seq)
      return
    }
    const id = running.job.id
    void running.committed
      .then(async (ok) => {
        if (!ok) throw new Error(`ctx.step("${step}"): job ${id} is not running here`)
        const [result] = await this.#host.committer.write([{ op: 'step', id, step, value }])
        if (result?.ok) return
        if (result && !result.ok && result.reason === 'uncloneable') {
          const path = findUncloneablePath(value)
          throw new JobDataError(`ctx.step("${step}"): its result cannot be stored${path ? ` (at ${path})` : ''}`, { cause: result.error })
        }
        throw new Error(`ctx.step("${step}"): job ${id} is no longer running (cancelled, or taken over), so the step was not stored`)
      })
      .then(
        () => worker.stepStored(seq),
        (error: unknown) => worker.stepStored(seq, toError(error)),
      )
  }

  /**
   * Jobs whose worker is gone. With `blame`, the only job fails its attempt
   * with it; a batch's jobs go back to `waiting` unblamed and run alone from
   * now on, so that the one that kills workers is the only one to fail.
   */
  orphan(worker: PoolWorker | undefined, jobs: string[], blame: SerializedError | undefined): void {
    for (const id of jobs) {
      worker?.jobs.delete(id)
      const running = this.#running.get(id)
      if (!running || running.settled) continue
      running.worker = undefined
      if (blame || running.stop) {
        this.settle(running, { type: 'failed', error: blame ?? serializeError(running.stop?.error), aborted: running.stop !== undefined })
      } else {
        this.#host.suspect(id)
        this.settle(running, undefined)
      }
    }
    if (worker && worker.jobs.size === 0) this.#host.release(worker)
  }

  #flushProgress(): void {
    this.#progressTimer = undefined
    const ops: WriteOp[] = []
    for (const id of this.#progressDirty) {
      const running = this.#running.get(id)
      if (running && !running.settled) ops.push({ op: 'put', job: running.job, expect: ['running'] })
    }
    this.#progressDirty.clear()
    if (ops.length > 0) {
      this.#host.committer.write(ops).catch((error: unknown) => this.#host.error(error as Error))
    }
  }

  stop(running: Running, kind: Stop['kind'], error: Error, reason?: string): void {
    if (running.settled || running.stop) return
    running.stop = reason === undefined ? { kind, error } : { kind, error, reason }
    const worker = running.worker
    // Not sent yet: it never will be (see #send), so there is nothing to abort.
    if (!worker || !running.sent) return
    worker.abort(running.job.id, error)
    running.timers.push(
      setLongTimeout(() => {
        if (running.settled || running.worker !== worker) return
        const others = [...worker.jobs].filter((id) => id !== running.job.id)
        this.#host.terminate(worker)
        running.worker = undefined
        this.settle(running, {
          type: 'failed',
          error: serializeError(
            new WorkerError(`The handler ignored its aborted signal for ${this.#host.options.abortGrace} ms; its worker was terminated`, {
              cause: error,
            }),
          ),
          aborted: true,
        })
        this.orphan(undefined, others, undefined)
      }, this.#host.options.abortGrace),
    )
  }

  /**
   * Ends the attempt: works out the next state, commits it, then publishes.
   * Without an outcome, the job goes back to `waiting` unharmed (its worker
   * died running another job of its batch).
   */
  settle(running: Running, outcome: Outcome | undefined): void {
    if (running.settled) return
    running.settled = true
    for (const timer of running.timers) clearLongTimeout(timer)
    this.#progressDirty.delete(running.job.id)
    void running.committed.then((committed) => {
      const { job } = running
      if (!committed) {
        this.finish(running, job, undefined)
        return
      }
      // A sleep needs its step stored, to end when it should: without durable steps it is an error, not a loop.
      if (outcome?.type === 'sleep' && !this.#host.durableSteps) {
        const error = new OffthreadError(
          'ctx.sleep() and ctx.waitFor() need a store that keeps durable steps (idbStore, sqliteStore, memoryStore); this one does not',
        )
        outcome = { type: 'failed', error: serializeError(error) }
      }
      const policy = mergeRetry(this.#host.options.defaults.retry, this.#host.manifest()?.tasks[job.name]?.retry, job.options.retry)
      this.#commitOutcome(running, afterAttempt(job, outcome, running.stop, policy, Date.now(), this.#host.offline(job)), 0)
    })
  }

  /**
   * Commits the end of an attempt, on condition that the job is still the
   * `running` job this runner started (a database deleted meanwhile, or
   * another runner, must not get it back). A result or progress value that
   * cannot be stored fails the job with a `JobDataError`, not its neighbours;
   * a store that refuses the write is asked again, later, so that no job
   * stays `running` in a live runner.
   */
  #commitOutcome(running: Running, end: ReturnType<typeof afterAttempt>, tries: number, stage = 0): void {
    const { next, change, ops } = end
    const put: WriteOp =
      change.event === 'completed'
        ? { op: 'put', job: next, expect: ['running'], result: change.result }
        : { op: 'put', job: next, expect: ['running'] }
    change.data = running.data
    this.#host.committer.write([put, ...ops]).then(
      ([result]) => {
        if (result?.ok) {
          this.finish(running, next, change)
        } else if (result?.reason === 'uncloneable' && stage < 2) {
          this.#commitOutcome(running, this.#unstorable(running, end, stage, result.error), tries, stage + 1)
        } else {
          // Changed meanwhile (the database deleted, another runner): this run does not count.
          this.finish(running, running.job, undefined)
          if (result && !result.ok && result.reason === 'conflict' && !result.job) this.#host.changes.removed([running.job.id], 'elsewhere')
        }
      },
      (error: unknown) => {
        this.#host.error(toError(error))
        if (this.#host.closing()) {
          // Not durable: the job stays `running` in the store and resumes as interrupted on the next start.
          this.finish(running, running.job, undefined)
          return
        }
        const wait = Math.min(STORAGE_RETRY_MAX_MS, STORAGE_RETRY_MS * 2 ** tries)
        setTimeout(() => this.#commitOutcome(running, end, tries + 1, stage), wait)
      },
    )
  }

  /**
   * The attempt's end again, after the store refused what it produced: first
   * without its last progress value (postable, not storable), then as a
   * failure with a `JobDataError` (a result that cannot be stored).
   */
  #unstorable(running: Running, end: ReturnType<typeof afterAttempt>, stage: number, cause: unknown): ReturnType<typeof afterAttempt> {
    const job: JobRecord = { ...running.job }
    delete job.progress
    running.job = job
    if (stage === 0 && end.next.progress !== undefined) {
      const next = { ...end.next }
      delete next.progress
      return { next, change: { ...end.change, job: next }, ops: end.ops }
    }
    const { change } = end
    const path = change.event === 'completed' ? findUncloneablePath(change.result, 'result') : undefined
    const error = new JobDataError(
      `The ${change.event === 'completed' ? 'result' : 'outcome'} of job ${job.id} (${job.name}) cannot be stored${path ? ` (${path})` : ''}: ${toError(cause).message}`,
      { cause },
    )
    return afterAttempt(job, { type: 'failed', error: serializeError(error) }, undefined, { attempts: 1 }, Date.now())
  }

  /** The attempt is over: it leaves, the runner does its bookkeeping, and whoever waited on it hears. */
  finish(running: Running, next: JobRecord, change: JobChange | undefined): void {
    if (this.#running.get(running.job.id) === running) this.#running.delete(running.job.id)
    this.#host.ended(running, next, change)
    for (const listener of running.onSettle.splice(0)) listener(next)
  }
}
