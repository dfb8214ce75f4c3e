/**
 * The runner's engine: the hot loop that hands due jobs to free workers
 * (several short jobs to a message when the queue is deep), and the state
 * machine of a running attempt (completion, retry, timeout, cancel, stall,
 * crash, close).
 *
 * Every transition is committed before it is published: handles and queue
 * events only ever show durable state. A batch of jobs is sent to its worker
 * while their `running` state is being committed, not after, so a worker never
 * idles through a commit; their outcomes are published only after it landed.
 */
import type { Committer } from './committer.js'
import {
  InterruptedError,
  JobCancelledError,
  JobFailedError,
  JobTimeoutError,
  QueueClosedError,
  WorkerError,
  deserializeError,
  serializeError,
} from './errors.js'
import { JOIN_TASK } from './flow.js'
import { JobIndex } from './job-index.js'
import { mergeRetry, type ResolvedQueueOptions } from './options.js'
import { Pool, type PoolWorker } from './pool/pool.js'
import { MESSAGE_TAG, type Outcome, type RunRequest, type WorkerMessage } from './pool/protocol.js'
import { decideRetry } from './retry.js'
import type { JobRecord, Store, WriteOp } from './store/store.js'
import { isFinal, type ErrorRecord, type LogEntry, type Progress, type SerializedError } from './types.js'

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

/** What the dispatcher needs from the queue around it. */
export interface DispatcherHost {
  readonly options: ResolvedQueueOptions
  readonly store: Store
  readonly committer: Committer
  publish(change: JobChange): void
  error(error: Error): void
  idle(): void
}

/** Why a running attempt is being stopped. */
type StopKind = 'cancel' | 'timeout' | 'stall' | 'close'

/** Jobs sent to a worker in one message. */
interface Batch {
  remaining: number
}

interface Running {
  job: JobRecord
  batch: Batch
  data: unknown
  worker: PoolWorker | undefined
  /** Resolves with whether the `running` state was committed (false: another tab changed the job first). */
  committed: Promise<boolean>
  stop: { kind: StopKind; error: Error; reason?: string } | undefined
  timers: Array<ReturnType<typeof setTimeout>>
  lastSeen: number
  settled: boolean
  onSettle: Array<(job: JobRecord) => void>
}

/** How many interruptions of one attempt fail the job (a job that crashes the tab must not loop). */
export const MAX_INTERRUPTIONS = 3

const PROGRESS_WRITE_INTERVAL = 100
/** Jobs of a task that takes at most this long on average may share a message. */
const BATCH_MAX_AVERAGE_MS = 2
/** A batch holds about this much work. */
const BATCH_BUDGET_MS = 8
const MAX_BATCH = 64
/**
 * Jobs sent whose `running` state is not committed yet, at most. When storage
 * is the bottleneck, more would only pile up behind it, and all their
 * outcomes would then wake at once when it commits: a long task.
 */
const MAX_UNCOMMITTED = 256

/** Runs a queue's jobs on a pool of workers. */
export class Dispatcher {
  #host: DispatcherHost
  #pool: Pool
  #index: JobIndex
  /** Data of jobs added in this tab, kept until their first run (saves a read). */
  #payloads = new Map<string, { data: unknown; transfer: Transferable[] }>()
  #running = new Map<string, Running>()
  /** Average handler time per task, from the workers' reports. */
  #durations = new Map<string, number>()
  /** Running jobs per limit group (a task with limits, a throttle key). */
  #runningByTask = new Map<string, number>()
  /** Recent start times per rate-limited group. */
  #startsByTask = new Map<string, number[]>()
  /** Due jobs set aside because a limit of theirs is full, by group; back in the index when it frees. */
  #parked = new Map<string, JobRecord[]>()
  #parkedIds = new Set<string>()
  #rateTimers = new Map<string, ReturnType<typeof setTimeout>>()
  /** Blocked jobs by the id of each job they wait for (only ids: their records are read when it matters). */
  #blockedOn = new Map<string, Set<string>>()
  /** Jobs that were in a batch whose worker died: they run alone, so a culprit is found. */
  #suspects = new Set<string>()
  /** Batches sent to each worker and not yet done: a worker of short jobs gets its next batch before it runs dry. */
  #batches = new Map<PoolWorker, number>()
  #progressDirty = new Set<string>()
  #progressTimer: ReturnType<typeof setTimeout> | undefined
  #uncommitted = 0
  #active = false
  #closing = false
  #wasIdle = true

  constructor(host: DispatcherHost, factory: ConstructorParameters<typeof Pool>[0]) {
    this.#host = host
    this.#index = new JobIndex(host.store, (id) => this.#running.has(id) || this.#parkedIds.has(id), () => this.#pump())
    this.#pool = new Pool(factory, host.options.concurrency, {
      available: () => this.#pump(),
      message: (worker, message) => this.#onMessage(worker, message),
      crashed: (jobs, error) => this.#onCrash(jobs, error),
      error: (error) => host.error(error),
    })
  }

  /** The pool, for the manifest of tasks. */
  get pool(): Pool {
    return this.#pool
  }

  /** Whether dispatching is on. */
  get active(): boolean {
    return this.#active
  }

  /**
   * Takes over the store: jobs found `running` were interrupted (their runner
   * is gone) and go back to `waiting`, recorded, or `failed` after
   * {@link MAX_INTERRUPTIONS}; then the first window of due jobs is loaded.
   */
  async load(): Promise<void> {
    const interrupted: JobRecord[] = []
    await this.#host.store.scan(['running'], (job) => interrupted.push(job))
    if (interrupted.length > 0) {
      const now = Date.now()
      const ops: WriteOp[] = []
      const changes: JobRecord[] = []
      for (const old of interrupted) {
        const interruptions = old.interruptions + 1
        const error = serializeError(
          new InterruptedError(
            `Attempt ${old.attempt} was interrupted (reload, closed tab or crash): ${interruptions} of ${MAX_INTERRUPTIONS}`,
          ),
        )
        const job: JobRecord =
          interruptions >= MAX_INTERRUPTIONS
            ? { ...old, status: 'failed', error, finishedAt: now, interruptions, rev: old.rev + 1 }
            : { ...old, status: 'waiting', interruptions, rev: old.rev + 1 }
        if (job.status === 'waiting') delete job.startedAt
        ops.push({ op: 'put', job, expect: ['running'] }, { op: 'error', id: job.id, record: errorRecord(job.attempt, error, now) })
        changes.push(job)
      }
      const results = await this.#host.committer.write(ops)
      for (const [i, job] of changes.entries()) {
        // Cancelled (or taken) meanwhile by another tab: leave it.
        if (!results[i * 2]?.ok) continue
        if (job.status === 'failed') this.#host.publish({ event: 'failed', job, error: job.error as SerializedError })
        else this.#host.publish({ event: 'requeued', job })
      }
    }
    await this.#index.refill()
    // A runner that stopped between a dependency ending and its dependents moving on left them blocked: look again.
    const blocked: JobRecord[] = []
    await this.#host.store.scan(['blocked'], (job) => blocked.push(job))
    for (const job of blocked) this.#watch(job)
    await Promise.all(blocked.map((job) => this.#evaluate(job.id)))
  }

  /** Starts dispatching (and one worker, to learn the tasks). */
  start(): void {
    if (this.#closing) return
    this.#active = true
    if (this.#pool.manifest === undefined) this.#pool.grow(1)
    this.#pump()
  }

  /** Stops taking new jobs; running ones go on. */
  pause(): void {
    this.#active = false
  }

  /** Takes a stored job into the index (and its data, when this tab added it). */
  enqueue(job: JobRecord, payload?: { data: unknown; transfer: Transferable[] }): void {
    if (this.#closing || this.#running.has(job.id)) return
    if (job.status === 'blocked') {
      if (payload) this.#payloads.set(job.id, payload)
      // Watch first, then look: a dependency that ends in between is seen either way.
      this.#watch(job)
      void this.#evaluate(job.id)
      return
    }
    const known = this.#index.get(job.id)
    if (known && known.rev >= job.rev) return
    // A newer view (a debounced add moved it, maybe with new data): what this tab held may be stale.
    if (payload) this.#payloads.set(job.id, payload)
    else if (known) this.#payloads.delete(job.id)
    this.#index.add(job)
    this.#pump()
  }

  /** A job ended elsewhere (cancelled in another tab, or by the queue): drop it, and move its dependents on. */
  forget(job: JobRecord): void {
    if (this.#running.has(job.id)) return
    this.#unparkOne(job.id)
    this.#index.remove(job.id)
    this.#payloads.delete(job.id)
    if (isFinal(job.status)) this.#ended(job)
    this.#checkIdle()
  }

  /** Nothing waiting, due or running. */
  isIdle(): boolean {
    return this.#running.size === 0 && this.#parkedIds.size === 0 && this.#index.peek() === undefined && this.#index.empty
  }

  /**
   * Cancels a job this runner owns. A waiting job ends at once; a running one
   * has its signal aborted and ends `cancelled` when its handler settles or
   * its worker is terminated after `abortGrace`.
   *
   * @returns whether it was cancelled, or undefined if this runner does not hold it
   */
  async cancel(id: string, reason: string | undefined): Promise<boolean | undefined> {
    const running = this.#running.get(id)
    if (running) {
      if (running.settled) return false
      const stopped = new Promise<boolean>((resolve) => running.onSettle.push((job) => resolve(job.status === 'cancelled')))
      this.#stop(running, 'cancel', new JobCancelledError(reason ?? 'The job was cancelled'), reason)
      return stopped
    }
    const job = this.#index.get(id) ?? this.#unparkOne(id)
    if (!job) return undefined
    this.#index.remove(id)
    this.#payloads.delete(id)
    const next: JobRecord = {
      ...job,
      status: 'cancelled',
      finishedAt: Date.now(),
      error: serializeError(new JobCancelledError(reason ?? 'The job was cancelled')),
      rev: job.rev + 1,
    }
    const [result] = await this.#host.committer.write([{ op: 'put', job: next, expect: ['waiting', 'delayed', 'blocked'] }])
    if (!result?.ok) return false
    this.#host.publish({ event: 'cancelled', job: next, reason })
    this.#ended(next)
    this.#checkIdle()
    return true
  }

  /**
   * Stops: no new jobs; running ones get `timeout` ms to finish, then their
   * signal aborts with `QueueClosedError`; what is still running after
   * `abortGrace` is terminated. Interrupted jobs go back to `waiting`.
   */
  async close(timeout: number): Promise<void> {
    this.#closing = true
    this.#active = false
    const pending = [...this.#running.values()].map(
      (running) => new Promise<void>((resolve) => (running.settled ? resolve() : running.onSettle.push(() => resolve()))),
    )
    const timer = setTimeout(() => {
      for (const running of this.#running.values()) this.#stop(running, 'close', new QueueClosedError())
    }, timeout)
    await Promise.all(pending)
    clearTimeout(timer)
    clearTimeout(this.#progressTimer)
    this.#flushProgress()
    this.#pool.close()
    for (const timer of this.#rateTimers.values()) clearTimeout(timer)
    this.#index.stop()
    this.#payloads.clear()
  }

  // ── the hot loop ───────────────────────────────────────────────────────

  #pump(): void {
    if (!this.#active || this.#closing) {
      this.#checkIdle()
      return
    }
    for (let next = this.#index.peek(); next && this.#uncommitted < MAX_UNCOMMITTED; next = this.#index.peek()) {
      const full = this.#limited(next)
      if (full !== undefined) {
        this.#park(this.#index.take() as JobRecord, full)
        continue
      }
      const worker = this.#pool.acquire()
      if (!worker) {
        this.#pool.grow(this.#index.readyCount)
        break
      }
      const batch = this.#nextBatch()
      this.#begin(batch, worker)
      // Short jobs: queue a second batch behind the first, so the worker never waits for this thread.
      if (batch.length > 1 && this.#uncommitted < MAX_UNCOMMITTED && this.#index.peek() && this.#batchable(this.#index.peek() as JobRecord)) {
        this.#begin(this.#nextBatch(), worker)
      }
    }
    this.#checkIdle()
  }

  /** The next job, with as many short jobs behind it as make one message's worth. */
  #nextBatch(): JobRecord[] {
    const first = this.#index.take() as JobRecord
    const batch = [first]
    if (this.#batchable(first)) {
      const size = this.#batchSize(first)
      for (let next = this.#index.peek(); next && batch.length < size && this.#batchable(next); next = this.#index.peek()) {
        batch.push(this.#index.take() as JobRecord)
      }
    }
    return batch
  }

  /** Short jobs without a time limit may share a message when the queue is deep. */
  #batchable(job: JobRecord): boolean {
    const average = this.#durations.get(job.name)
    return (
      average !== undefined &&
      average <= BATCH_MAX_AVERAGE_MS &&
      this.#index.readyCount >= 2 * this.#pool.size &&
      this.#host.options.stallTimeout === undefined &&
      this.#timeoutOf(job) === undefined &&
      !this.#suspects.has(job.id) &&
      this.#limitsOf(job) === undefined
    )
  }

  #batchSize(job: JobRecord): number {
    const average = Math.max(0.01, this.#durations.get(job.name) ?? BATCH_BUDGET_MS)
    const share = Math.ceil((this.#index.readyCount + 1) / this.#pool.size)
    return Math.max(1, Math.min(MAX_BATCH, Math.floor(BATCH_BUDGET_MS / average), share))
  }

  #begin(batch: JobRecord[], worker: PoolWorker): void {
    const now = Date.now()
    const sent: Batch = { remaining: batch.length }
    for (const job of batch) this.#counted(job, now)
    this.#batches.set(worker, (this.#batches.get(worker) ?? 0) + 1)
    const entries = batch.map((job) => {
      const started: JobRecord = { ...job, status: 'running', startedAt: now, rev: job.rev + 1 }
      return { job, started, payload: this.#payloads.get(job.id) }
    })
    const write = this.#host.committer.write(
      entries.map(({ started }) => ({ op: 'put' as const, job: started, expect: ['waiting', 'delayed'] as const })),
    )
    this.#uncommitted += batch.length
    void write.finally(() => {
      this.#uncommitted -= batch.length
      this.#pump()
    }).catch(() => undefined)
    for (const [i, { job, started, payload }] of entries.entries()) {
      this.#payloads.delete(job.id)
      const running: Running = {
        job: started,
        batch: sent,
        data: payload?.data,
        worker,
        committed: write.then(
          (results) => results[i]?.ok === true,
          () => false,
        ),
        stop: undefined,
        timers: [],
        lastSeen: now,
        settled: false,
        onSettle: [],
      }
      this.#running.set(job.id, running)
    }
    write.then(
      (results) => {
        for (const [i, { started }] of entries.entries()) {
          const running = this.#running.get(started.id)
          if (!running || running.job.rev < started.rev) continue
          if (results[i]?.ok) {
            this.#host.publish({ event: 'started', job: started, data: running.data })
          } else if (!running.settled) {
            // Another tab changed it first (cancelled it): this run does not count.
            this.#stop(running, 'cancel', new JobCancelledError('The job changed in another tab'))
          }
        }
      },
      (error: unknown) => this.#host.error(error instanceof Error ? error : new Error(String(error))),
    )
    const missing = entries.filter((e) => !e.payload && e.job.inputFrom === undefined).map((e) => e.job.id)
    const fromResults = entries.filter((e) => e.job.inputFrom !== undefined)
    const send = (data: Map<string, unknown>): void => {
      const requests: RunRequest[] = []
      const transfer: Transferable[] = []
      for (const { job, payload } of entries) {
        const running = this.#running.get(job.id)
        if (!running || running.settled) continue
        if (!payload || job.inputFrom !== undefined) running.data = data.get(job.id)
        requests.push({ id: job.id, name: job.name, queue: job.queue, attempt: job.attempt, createdAt: job.createdAt, data: running.data })
        if (payload) transfer.push(...payload.transfer)
        this.#arm(running)
      }
      if (requests.length === 0) return
      try {
        worker.run(requests, transfer)
      } catch {
        // A transfer list that no longer applies (a buffer already detached): send copies.
        worker.run(requests, [])
      }
    }
    if (missing.length === 0 && fromResults.length === 0) send(new Map())
    else {
      // A chain step's input is the result of the step before it.
      const results = Promise.all(fromResults.map((e) => this.#host.store.getFull(e.job.inputFrom as string)))
      Promise.all([this.#host.store.getData(missing), results]).then(
        ([values, previous]) => {
          const data = new Map<string, unknown>(missing.map((id, i) => [id, values[i]]))
          fromResults.forEach((e, i) => data.set(e.job.id, previous[i]?.result))
          send(data)
        },
        (error: unknown) => {
          this.#host.error(error instanceof Error ? error : new Error(String(error)))
          this.#orphan(worker, entries.map((e) => e.job.id), undefined)
        },
      )
    }
  }

  /** Starts the time limit and stall watchdog of a job sent to its worker. */
  #arm(running: Running): void {
    running.lastSeen = Date.now()
    const timeout = this.#timeoutOf(running.job)
    if (timeout !== undefined) {
      running.timers.push(
        setTimeout(() => this.#stop(running, 'timeout', new JobTimeoutError(`The job timed out after ${timeout} ms`)), timeout),
      )
    }
    const stall = this.#host.options.stallTimeout
    if (stall === undefined) return
    const check = (): void => {
      if (running.settled || running.stop) return
      const quiet = Date.now() - running.lastSeen
      if (quiet >= stall) {
        this.#stop(running, 'stall', new WorkerError(`The job stalled: no progress or heartbeat for ${stall} ms`))
      } else {
        running.timers.push(setTimeout(check, stall - quiet))
      }
    }
    running.timers.push(setTimeout(check, stall))
  }

  #timeoutOf(job: JobRecord): number | undefined {
    return job.options.timeout ?? this.#pool.manifest?.tasks[job.name]?.timeout ?? this.#host.options.defaults.timeout
  }

  // ── from the workers ───────────────────────────────────────────────────

  #onMessage(worker: PoolWorker, message: WorkerMessage): void {
    if (message[MESSAGE_TAG] === 'exit') return
    if (message[MESSAGE_TAG] === 'done') {
      for (const { jobId, outcome } of message.outcomes) {
        worker.jobs.delete(jobId)
        const running = this.#running.get(jobId)
        if (!running || running.worker !== worker) continue
        if (outcome.ms !== undefined) this.#learn(running.job.name, outcome.ms)
        if (--running.batch.remaining === 0) this.#batches.set(worker, (this.#batches.get(worker) ?? 1) - 1)
        running.worker = undefined
        this.#settle(running, outcome)
      }
      if (worker.jobs.size === 0) {
        this.#batches.delete(worker)
        this.#pool.release(worker)
      } else if (this.#active && !this.#closing && (this.#batches.get(worker) ?? 0) < 2 && this.#uncommitted < MAX_UNCOMMITTED) {
        const next = this.#index.peek()
        if (next && this.#batchable(next)) this.#begin(this.#nextBatch(), worker)
      }
      return
    }
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
          if (ok) this.#host.publish({ event: 'progress', job: running.job, progress: message.value })
        })
        break
      }
      case 'logs': {
        const { entries } = message
        const id = running.job.id
        this.#host.committer.write([{ op: 'log', id, entries }]).then(
          () => {
            for (const entry of entries) this.#host.publish({ event: 'log', job: running.job, entry })
          },
          (error: unknown) => this.#host.error(error instanceof Error ? error : new Error(String(error))),
        )
        break
      }
      case 'heartbeat':
        break
    }
  }

  #learn(task: string, ms: number): void {
    const average = this.#durations.get(task)
    this.#durations.set(task, average === undefined ? ms : average * 0.8 + ms * 0.2)
  }

  #onCrash(jobs: string[], error: SerializedError): void {
    for (const id of jobs) {
      const worker = this.#running.get(id)?.worker
      if (worker) this.#batches.delete(worker)
    }
    this.#orphan(undefined, jobs, jobs.length === 1 ? error : undefined)
    this.#pump()
  }

  /**
   * Jobs whose worker is gone. With `blame`, the only job fails its attempt
   * with it; a batch's jobs go back to `waiting` unblamed and run alone from
   * now on, so that the one that kills workers is the only one to fail.
   */
  #orphan(worker: PoolWorker | undefined, jobs: string[], blame: SerializedError | undefined): void {
    for (const id of jobs) {
      worker?.jobs.delete(id)
      const running = this.#running.get(id)
      if (!running || running.settled) continue
      running.worker = undefined
      if (blame || running.stop) {
        this.#settle(running, { type: 'failed', error: blame ?? serializeError(running.stop?.error), aborted: running.stop !== undefined })
      } else {
        this.#suspects.add(id)
        this.#settle(running, undefined)
      }
    }
    if (worker && worker.jobs.size === 0) {
      this.#batches.delete(worker)
      this.#pool.release(worker)
    }
  }

  #flushProgress(): void {
    this.#progressTimer = undefined
    const ops: WriteOp[] = []
    for (const id of this.#progressDirty) {
      const running = this.#running.get(id)
      if (running && !running.settled) ops.push({ op: 'put', job: running.job })
    }
    this.#progressDirty.clear()
    if (ops.length > 0) {
      this.#host.committer.write(ops).catch((error: unknown) => this.#host.error(error as Error))
    }
  }

  // ── ending an attempt ──────────────────────────────────────────────────

  #stop(running: Running, kind: StopKind, error: Error, reason?: string): void {
    if (running.settled || running.stop) return
    running.stop = reason === undefined ? { kind, error } : { kind, error, reason }
    const worker = running.worker
    if (!worker) return
    worker.abort(running.job.id, error)
    running.timers.push(
      setTimeout(() => {
        if (running.settled || running.worker !== worker) return
        const others = [...worker.jobs].filter((id) => id !== running.job.id)
        this.#batches.delete(worker)
        this.#pool.terminate(worker)
        running.worker = undefined
        this.#settle(running, {
          type: 'failed',
          error: serializeError(
            new WorkerError(
              `The handler ignored its aborted signal for ${this.#host.options.abortGrace} ms; its worker was terminated`,
              { cause: error },
            ),
          ),
          aborted: true,
        })
        this.#orphan(undefined, others, undefined)
      }, this.#host.options.abortGrace),
    )
  }

  /**
   * Ends the attempt: works out the next state, commits it, then publishes.
   * Without an outcome, the job goes back to `waiting` unharmed (its worker
   * died running another job of its batch).
   */
  #settle(running: Running, outcome: Outcome | undefined): void {
    if (running.settled) return
    running.settled = true
    for (const timer of running.timers) clearTimeout(timer)
    this.#progressDirty.delete(running.job.id)
    void running.committed.then((committed) => {
      const { job } = running
      if (!committed) {
        this.#finish(running, job, undefined)
        return
      }
      const { next, change, ops } = this.#transition(running, outcome)
      // No `expect` here: only the runner writes a running job (other tabs ask it), and this one is ours.
      ops.unshift(change.event === 'completed' ? { op: 'put', job: next, result: change.result } : { op: 'put', job: next })
      change.data = running.data
      this.#host.committer.write(ops).then(
        ([result]) => this.#finish(running, next, result?.ok ? change : undefined),
        (error: unknown) => {
          // Not durable: the job stays `running` in the store and resumes as interrupted on the next start.
          this.#host.error(error instanceof Error ? error : new Error(String(error)))
          this.#finish(running, job, undefined)
        },
      )
    })
  }

  #transition(running: Running, outcome: Outcome | undefined): { next: JobRecord; change: JobChange; ops: WriteOp[] } {
    const { job } = running
    const now = Date.now()
    const ops: WriteOp[] = []
    const stop = running.stop
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
    const policy = mergeRetry(this.#host.options.defaults.retry, this.#pool.manifest?.tasks[job.name]?.retry, job.options.retry)
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

  /** The attempt's new state is durable (or the run did not count): publish, re-index, wake waiters. */
  #finish(running: Running, next: JobRecord, change: JobChange | undefined): void {
    const { id } = running.job
    this.#running.delete(id)
    this.#uncount(running.job)
    if (change) {
      this.#host.publish(change)
      if (!isFinal(next.status) && !this.#closing) {
        // Its data is needed again: keep what we have rather than read it back.
        this.#payloads.set(id, { data: running.data, transfer: [] })
        this.#index.add(next)
      } else {
        this.#index.left(id)
        this.#suspects.delete(id)
        this.#ended(next)
      }
    } else {
      this.#index.left(id)
    }
    for (const listener of running.onSettle.splice(0)) listener(next)
    this.#pump()
  }

  // ── per-task limits and throttles ──────────────────────────────────────

  /** The limits a job counts against: its task's (`concurrency`, `rateLimit`) and its own `throttle` key's. */
  #groupsOf(job: JobRecord): Array<{ group: string; concurrency?: number; rate?: { max: number; per: number } }> {
    const groups: Array<{ group: string; concurrency?: number; rate?: { max: number; per: number } }> = []
    const meta = this.#pool.manifest?.tasks[job.name]
    if (meta && (meta.concurrency !== undefined || meta.rateLimit !== undefined)) {
      const group: { group: string; concurrency?: number; rate?: { max: number; per: number } } = { group: `task:${job.name}` }
      if (meta.concurrency !== undefined) group.concurrency = meta.concurrency
      if (meta.rateLimit !== undefined) group.rate = meta.rateLimit
      groups.push(group)
    }
    const throttle = job.options.throttle
    if (throttle) groups.push({ group: `throttle:${throttle.key}`, rate: { max: throttle.max, per: throttle.window } })
    return groups
  }

  #limitsOf(job: JobRecord): unknown {
    return this.#groupsOf(job).length > 0 ? true : undefined
  }

  /** The group whose limit the job would pass if it started now, if any. */
  #limited(job: JobRecord): string | undefined {
    const now = Date.now()
    for (const { group, concurrency, rate } of this.#groupsOf(job)) {
      if (concurrency !== undefined && (this.#runningByTask.get(group) ?? 0) >= concurrency) return group
      if (!rate) continue
      const starts = (this.#startsByTask.get(group) ?? []).filter((t) => t > now - rate.per)
      this.#startsByTask.set(group, starts)
      if (starts.length < rate.max) continue
      // Wake when the oldest start leaves the window.
      if (!this.#rateTimers.has(group)) {
        const wait = (starts[0] as number) + rate.per - now
        this.#rateTimers.set(
          group,
          setTimeout(() => {
            this.#rateTimers.delete(group)
            this.#unpark(group)
          }, Math.max(0, wait)),
        )
      }
      return group
    }
    return undefined
  }

  #counted(job: JobRecord, now: number): void {
    for (const { group, rate } of this.#groupsOf(job)) {
      this.#runningByTask.set(group, (this.#runningByTask.get(group) ?? 0) + 1)
      if (rate) this.#startsByTask.set(group, [...(this.#startsByTask.get(group) ?? []), now])
    }
  }

  #uncount(job: JobRecord): void {
    for (const { group } of this.#groupsOf(job)) {
      const count = this.#runningByTask.get(group)
      if (count === undefined) continue
      if (count <= 1) this.#runningByTask.delete(group)
      else this.#runningByTask.set(group, count - 1)
      this.#unpark(group)
    }
  }

  #park(job: JobRecord, group: string): void {
    const list = this.#parked.get(group)
    if (list) list.push(job)
    else this.#parked.set(group, [job])
    this.#parkedIds.add(job.id)
  }

  /** The group has room again: its parked jobs go back in the index, in their order. */
  #unpark(group: string): void {
    const list = this.#parked.get(group)
    if (!list) return
    this.#parked.delete(group)
    for (const job of list) {
      this.#parkedIds.delete(job.id)
      this.#index.add(job)
    }
    this.#pump()
  }

  #unparkOne(id: string): JobRecord | undefined {
    if (!this.#parkedIds.delete(id)) return undefined
    for (const [task, list] of this.#parked) {
      const at = list.findIndex((job) => job.id === id)
      if (at < 0) continue
      const [job] = list.splice(at, 1)
      if (list.length === 0) this.#parked.delete(task)
      return job
    }
    return undefined
  }

  // ── dependencies ───────────────────────────────────────────────────────

  /** Notes what a blocked job waits for. */
  #watch(job: JobRecord): void {
    for (const dep of job.dependencies) {
      let set = this.#blockedOn.get(dep)
      if (!set) this.#blockedOn.set(dep, (set = new Set()))
      set.add(job.id)
    }
  }

  /** A job is final: the jobs blocked on it may move on. */
  #ended(job: JobRecord): void {
    const waiting = this.#blockedOn.get(job.id)
    if (!waiting) return
    this.#blockedOn.delete(job.id)
    for (const id of waiting) void this.#evaluate(id)
  }

  /**
   * Looks at a blocked job's dependencies: all completed, it becomes due (a
   * join job completes with their results); one failed or cancelled, it ends
   * the same way, with that as its cause; else it waits on.
   */
  async #evaluate(id: string): Promise<void> {
    try {
      const [job] = await this.#host.store.get([id])
      if (!job || job.status !== 'blocked' || this.#closing) return
      const deps = await this.#host.store.get(job.dependencies)
      const now = Date.now()
      const rev = job.rev + 1
      const missing = job.dependencies.find((_, i) => !deps[i])
      const failed = deps.find((d) => d?.status === 'failed')
      const cancelled = deps.find((d) => d?.status === 'cancelled')
      let next: JobRecord
      let change: JobChange
      const ops: WriteOp[] = []
      if (missing !== undefined || failed) {
        const message = missing !== undefined ? `Dependency ${missing} no longer exists` : `Dependency ${failed?.id} (${failed?.name}) failed`
        const error = serializeError(new JobFailedError(message, { cause: failed?.error && deserializeError(failed.error) }, failed?.id))
        next = { ...job, status: 'failed', finishedAt: now, error, rev }
        change = { event: 'failed', job: next, error }
      } else if (cancelled) {
        const error = serializeError(
          new JobCancelledError(`Dependency ${cancelled.id} (${cancelled.name}) was cancelled`, {
            cause: cancelled.error && deserializeError(cancelled.error),
          }),
        )
        next = { ...job, status: 'cancelled', finishedAt: now, error, rev }
        change = { event: 'cancelled', job: next, reason: error.message }
      } else if (deps.every((d) => d?.status === 'completed')) {
        if (job.name === JOIN_TASK) {
          const full = await Promise.all(job.dependencies.map((dep) => this.#host.store.getFull(dep)))
          const result = full.map((f) => f?.result)
          next = { ...job, status: 'completed', startedAt: now, finishedAt: now, rev }
          change = { event: 'completed', job: next, result }
          ops.push({ op: 'put', job: next, expect: ['blocked'], result })
        } else {
          next = { ...job, status: job.runAt > now ? 'delayed' : 'waiting', rev }
          change = { event: 'requeued', job: next }
        }
      } else {
        // Still waiting on some: make sure each is watched (one may have come from another tab).
        this.#watch(job)
        return
      }
      if (ops.length === 0) ops.push({ op: 'put', job: next, expect: ['blocked'] })
      const [result] = await this.#host.committer.write(ops)
      if (!result?.ok) return
      this.#host.publish(change)
      if (isFinal(next.status)) this.#ended(next)
      else {
        this.#index.add(next)
        this.#pump()
      }
    } catch (error) {
      // Closing: the next runner looks at blocked jobs again.
      if (!this.#closing) this.#host.error(error instanceof Error ? error : new Error(String(error)))
    }
  }

  #checkIdle(): void {
    const idle = this.isIdle()
    if (idle && !this.#wasIdle) {
      this.#wasIdle = true
      this.#host.idle()
    } else if (!idle) {
      this.#wasIdle = false
    }
  }
}

function errorRecord(attempt: number, error: SerializedError, at: number): ErrorRecord {
  const record: ErrorRecord = { attempt, name: error.name, message: error.message, failedAt: at }
  if (error.stack !== undefined) record.stack = error.stack
  return record
}
