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
import { Dependencies } from './dependencies.js'
import { JobCancelledError, JobTimeoutError, QueueClosedError, WorkerError, serializeError } from './errors.js'
import { JobIndex } from './job-index.js'
import { Limits } from './limits.js'
import { mergeRetry, type ResolvedQueueOptions } from './options.js'
import { Pool, type PoolWorker } from './pool/pool.js'
import { MESSAGE_TAG, type Outcome, type RunRequest, type WorkerMessage } from './pool/protocol.js'
import type { JobRecord, Store, WriteOp } from './store/store.js'
import { afterAttempt, cancelled, interrupted, type JobChange, type Stop } from './transition.js'
import { isFinal, type SerializedError } from './types.js'

export type { JobChange } from './transition.js'
export { MAX_INTERRUPTIONS } from './transition.js'

/** What the dispatcher needs from the queue around it. */
export interface DispatcherHost {
  readonly options: ResolvedQueueOptions
  readonly store: Store
  readonly committer: Committer
  publish(change: JobChange): void
  error(error: Error): void
  idle(): void
}

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
  stop: Stop | undefined
  timers: Array<ReturnType<typeof setTimeout>>
  lastSeen: number
  settled: boolean
  onSettle: Array<(job: JobRecord) => void>
}

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
  #limits: Limits
  #deps: Dependencies
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
    this.#index = new JobIndex(host.store, (id) => this.#running.has(id) || this.#limits.isParked(id), () => this.#pump())
    this.#limits = new Limits(
      () => this.#pool.manifest,
      (jobs) => {
        for (const job of jobs) this.#index.add(job)
        this.#pump()
      },
    )
    this.#deps = new Dependencies({
      store: host.store,
      committer: host.committer,
      publish: (change) => host.publish(change),
      due: (job) => {
        this.#index.add(job)
        this.#pump()
      },
      closing: () => this.#closing,
      error: (error) => host.error(error),
    })
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
    const found: JobRecord[] = []
    await this.#host.store.scan(['running'], (job) => found.push(job))
    if (found.length > 0) {
      const now = Date.now()
      const changes = found.map((old) => interrupted(old, now))
      const results = await this.#host.committer.write(changes.flatMap((c) => c.ops))
      for (const [i, { job }] of changes.entries()) {
        // Cancelled (or taken) meanwhile by another tab: leave it.
        if (!results[i * 2]?.ok) continue
        if (job.status === 'failed') this.#host.publish({ event: 'failed', job, error: job.error as SerializedError })
        else this.#host.publish({ event: 'requeued', job })
      }
    }
    await this.#index.refill()
    await this.#deps.recheck()
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
      this.#deps.add(job)
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
    this.#limits.unpark(job.id)
    this.#index.remove(job.id)
    this.#payloads.delete(job.id)
    if (isFinal(job.status)) this.#deps.ended(job)
    this.#checkIdle()
  }

  /** Nothing waiting, due or running. */
  isIdle(): boolean {
    return this.#running.size === 0 && this.#limits.parked === 0 && this.#index.peek() === undefined && this.#index.empty
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
    const job = this.#index.get(id) ?? this.#limits.unpark(id)
    if (!job) return undefined
    this.#index.remove(id)
    this.#payloads.delete(id)
    const next = cancelled(job, reason, Date.now())
    const [result] = await this.#host.committer.write([{ op: 'put', job: next, expect: ['waiting', 'delayed', 'blocked'] }])
    if (!result?.ok) return false
    this.#host.publish({ event: 'cancelled', job: next, reason })
    this.#deps.ended(next)
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
    this.#limits.stop()
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
      const full = this.#limits.full(next)
      if (full !== undefined) {
        this.#limits.park(this.#index.take() as JobRecord, full)
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
      !this.#limits.applies(job)
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
    for (const job of batch) this.#limits.count(job, now)
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

  #stop(running: Running, kind: Stop['kind'], error: Error, reason?: string): void {
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
      const policy = mergeRetry(this.#host.options.defaults.retry, this.#pool.manifest?.tasks[job.name]?.retry, job.options.retry)
      const { next, change, ops } = afterAttempt(job, outcome, running.stop, policy, Date.now())
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

  /** The attempt's new state is durable (or the run did not count): publish, re-index, wake waiters. */
  #finish(running: Running, next: JobRecord, change: JobChange | undefined): void {
    const { id } = running.job
    this.#running.delete(id)
    this.#limits.uncount(running.job)
    if (change) {
      this.#host.publish(change)
      if (!isFinal(next.status) && !this.#closing) {
        // Its data is needed again: keep what we have rather than read it back.
        this.#payloads.set(id, { data: running.data, transfer: [] })
        this.#index.add(next)
      } else {
        this.#index.left(id)
        this.#suspects.delete(id)
        this.#deps.ended(next)
      }
    } else {
      this.#index.left(id)
    }
    for (const listener of running.onSettle.splice(0)) listener(next)
    this.#pump()
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
