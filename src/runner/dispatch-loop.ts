/**
 * The runner's hot loop: hands due jobs to free workers (several short jobs to a
 * message when the queue is deep, a few batches ahead per worker), commits each
 * batch's `running` state and only then sends it (send.ts); what the store refused
 * goes back later (refusals.ts). Then what the workers say: outcomes to attempts.ts,
 * and an attempt's end back into the index. The dispatcher (dispatcher.ts) builds it
 * from its engines and runs their lifecycle.
 */
import type { Pool, PoolWorker } from '../pool/pool.js'
import { MESSAGE_TAG, type WorkerMessage } from '../shared/protocol.js'
import { clearLongTimeout, toError } from '../shared/timers.js'
import { JOIN_TASK, isFinal, type SerializedError } from '../shared/types.js'
import type { Writer } from '../store/committer.js'
import type { JobRecord, Store } from '../store/store.js'
import type { Attempts, Batch, Running } from './attempts.js'
import type { Batching } from './batching.js'
import type { Dependencies } from './dependencies.js'
import type { JobIndex } from './job-index.js'
import { NETWORK, type Limits } from './limits.js'
import type { LOST } from './lost.js'
import { Refusals } from './refusals.js'
import { Sender, type Payload } from './send.js'
import type { TaskBatches } from './task-batches.js'
import { started, type ChangeSink, type JobChange } from './transition.js'
import { Waits } from './waits.js'

/** What the runner needs from the queue around it: its store, its change path, and what it tells the queue. */
export interface QueueSide {
  readonly store: Store
  readonly committer: Writer
  /** Where committed changes go (the queue's change path). */
  readonly changes: ChangeSink
  error(error: Error): void
  /** Nothing waiting, due or running any more. */
  idle(): void
  /**
   * What to do with a job whose task this runner's worker module does not define:
   * `'fail'` it (UnknownTaskError: the task was dropped) or `'wait'` for a release that
   * defines it (see shared/release.ts).
   */
  unknownTask(job: JobRecord): 'fail' | 'wait'
  /** A job now waits for another release (the runner may hand the queue over). */
  awaitingRelease(): void
}

/** What the loop needs besides the engines it drives: the queue's side, the dependencies, and the dispatcher's state. */
export interface LoopHost extends QueueSide {
  readonly deps: Dependencies
  /** Whether dispatching is on (started, not closing). */
  dispatching(): boolean
  closing(): boolean
  /** `work`'s outcome, or {@link LOST} once the runner is abandoned. */
  held<T>(work: Promise<T>): Promise<T | typeof LOST>
}

/**
 * Jobs sent whose `running` state is not committed yet, at most. When storage
 * is the bottleneck, more would only pile up behind it, and all their
 * outcomes would then wake at once when it commits: a long task.
 */
const MAX_UNCOMMITTED = 256

/** Due jobs to workers, committed before sent; the workers' answers back. */
export class DispatchLoop {
  #host: LoopHost
  #pool: Pool
  #index: JobIndex
  #limits: Limits
  #batching: Batching
  #attempts: Attempts
  /** Due jobs of batch tasks (task option `batch`), held until their batch goes. */
  #taskBatches: TaskBatches
  #payloads: Map<string, Payload>
  /** Jobs kept out of dispatch until a release, the network or their group lets them run (waits.ts). */
  #waits: Waits
  /** Batches sent to each worker and not yet done: a worker of short jobs gets its next batch before it runs dry. */
  #batches = new Map<PoolWorker, number>()
  #uncommitted = 0
  #wasIdle = true
  /** Jobs whose `running` write the store refused (a full origin): they go back later. */
  #refusals: Refusals
  /** The last step: committed batches to their worker. */
  #sender: Sender

  /**
   * The engines it drives, made by the dispatcher before it, and the two maps it shares with the dispatcher.
   *
   * @param payloads - data of jobs added in this tab, kept until their first run (saves a read)
   * @param forRelease - waiting jobs whose task this runner's release does not define (kept for one that does), by id
   */
  constructor(
    host: LoopHost,
    pool: Pool,
    index: JobIndex,
    limits: Limits,
    batching: Batching,
    attempts: Attempts,
    taskBatches: TaskBatches,
    payloads: Map<string, Payload>,
    forRelease: Map<string, JobRecord>,
  ) {
    this.#host = host
    this.#pool = pool
    this.#index = index
    this.#limits = limits
    this.#batching = batching
    this.#attempts = attempts
    this.#taskBatches = taskBatches
    this.#payloads = payloads
    this.#waits = new Waits({
      committer: host.committer,
      changes: host.changes,
      limits,
      forRelease,
      error: (error) => host.error(error),
      awaitingRelease: () => host.awaitingRelease(),
      held: (work) => host.held(work),
      checkIdle: () => this.checkIdle(),
    })
    this.#refusals = new Refusals(
      (job, payload) => {
        if (payload && payload.transfer.length === 0) this.#payloads.set(job.id, payload)
        this.#index.add(job)
        this.pump()
      },
      () => host.closing(),
    )
    this.#sender = new Sender({
      store: host.store,
      attempts,
      limits,
      error: (error) => host.error(error),
      releaseIfIdle: (worker) => this.#releaseIfIdle(worker),
    })
    pool.attach({
      available: () => this.pump(),
      message: (worker, message) => this.#onMessage(worker, message),
      crashed: (jobs, error) => this.#onCrash(jobs, error),
      error: (error) => host.error(error),
    })
  }

  /** Nothing waiting, due or running. */
  isIdle(): boolean {
    const held = this.#limits.parked + this.#taskBatches.size
    return this.#attempts.size === 0 && held === 0 && this.#index.peek() === undefined && this.#index.empty
  }

  /** Tells the host once the runner has become idle. */
  checkIdle(): void {
    const idle = this.isIdle()
    if (idle && !this.#wasIdle) {
      this.#wasIdle = true
      this.#host.idle()
    } else if (!idle) {
      this.#wasIdle = false
    }
  }

  /** Kills a worker (a handler that ignored its aborted signal); the pool starts another. */
  terminate(worker: PoolWorker): void {
    this.#batches.delete(worker)
    this.#pool.terminate(worker)
  }

  /** A worker with no job left goes back to the pool. */
  release(worker: PoolWorker): void {
    this.#batches.delete(worker)
    this.#pool.release(worker)
  }

  // ── the hot loop ───────────────────────────────────────────────────────

  /** Starts what is due on the free workers (while dispatching is on). */
  pump(): void {
    if (!this.#host.dispatching()) {
      this.checkIdle()
      return
    }
    const tasks = this.#pool.manifest?.tasks
    this.#startTaskBatches()
    for (let next = this.#index.peek(); next && this.#uncommitted < MAX_UNCOMMITTED; next = this.#index.peek()) {
      // A task this release does not define, added by a newer (or another) release: it waits for one that does.
      if (tasks && !(next.name in tasks) && next.name !== JOIN_TASK && this.#host.unknownTask(next) === 'wait') {
        this.#waits.release(this.#index.take() as JobRecord)
        continue
      }
      const full = this.#limits.full(next)
      if (full === NETWORK) {
        this.#waits.park(this.#index.take() as JobRecord, 'network', NETWORK)
        continue
      }
      if (full !== undefined) {
        const job = this.#index.take() as JobRecord
        // A paused group says so on its jobs; a full one does not (it passes as one of its jobs ends).
        if (this.#limits.paused(job)) this.#waits.park(job, 'group', full)
        else this.#limits.park(job, full)
        continue
      }
      if (this.#taskBatches.isBatchTask(next.name)) {
        this.#taskBatches.hold(this.#index.take() as JobRecord, Date.now())
        continue
      }
      const worker = this.#pool.acquire()
      if (!worker) {
        this.#pool.grow(this.#index.readyCount)
        this.#queueBehind(tasks)
        break
      }
      const batch = this.#nextBatch()
      this.#begin(batch, worker)
      // Short jobs: queue more batches behind the first, so the worker never waits for this
      // thread, nor for the commit of its next batch's `running` state.
      if (batch.length > 1) this.#prefetch(worker)
    }
    this.#startTaskBatches()
    this.checkIdle()
  }

  /** Sends the batches of batch tasks that may go (see task-batches.ts), each to a worker of its own. */
  #startTaskBatches(): void {
    for (let task = this.#taskBatches.ready(); task !== undefined && this.#uncommitted < MAX_UNCOMMITTED; task = this.#taskBatches.ready()) {
      const worker = this.#pool.acquire()
      if (!worker) {
        this.#pool.grow(1 + this.#index.readyCount)
        return
      }
      this.#begin(this.#taskBatches.take(task, Date.now()), worker, true)
    }
  }

  /**
   * Every worker busy: a short job (see `Batching.aheadable`) goes behind the one job of each
   * worker busy with a short job, its `running` committed while that one runs, so that the
   * worker does not wait for a commit between the two.
   */
  #queueBehind(tasks: Readonly<Record<string, unknown>> | undefined): void {
    for (const [worker, held] of this.#batches) {
      if (held !== 1 || this.#uncommitted >= MAX_UNCOMMITTED) continue
      // Never behind a long job (a video's transcode), nor behind a batch task's call: only behind jobs of short tasks.
      if (this.#runsTaskBatch(worker) || ![...worker.jobs].every((id) => this.#batching.short(this.#attempts.get(id)?.job.name ?? ''))) continue
      const next = this.#index.peek()
      if (!next || (tasks && !(next.name in tasks)) || !this.#batching.aheadable(next) || this.#limits.full(next) !== undefined) return
      this.#begin([this.#index.take() as JobRecord], worker)
    }
  }

  /**
   * Whether `worker` runs a batch task's call (nothing is queued behind it). Its first job tells:
   * a worker given a batch task's call is given nothing else until it is done.
   */
  #runsTaskBatch(worker: PoolWorker): boolean {
    const [first] = worker.jobs
    return first !== undefined && this.#taskBatches.isBatchTask(this.#attempts.get(first)?.job.name ?? '')
  }

  /** Queues batches of short jobs behind the ones `worker` has: enough to cover a commit. */
  #prefetch(worker: PoolWorker): void {
    const ahead = this.#batching.ahead()
    while ((this.#batches.get(worker) ?? 0) < ahead && this.#uncommitted < MAX_UNCOMMITTED) {
      const next = this.#index.peek()
      if (!next || !this.#batching.batchable(next)) return
      this.#begin(this.#nextBatch(), worker)
    }
  }

  /** The next job, with as many short jobs behind it as make one message's worth. */
  #nextBatch(): JobRecord[] {
    const first = this.#index.take() as JobRecord
    const batch = [first]
    if (this.#batching.batchable(first)) {
      const size = this.#batching.size(first)
      for (let next = this.#index.peek(); next && batch.length < size && this.#batching.batchable(next); next = this.#index.peek()) {
        batch.push(this.#index.take() as JobRecord)
      }
    }
    return batch
  }

  /**
   * Starts a batch on `worker`: commits the jobs' `running` state, then sends
   * them. Never before the commit lands: another tab (a follower's cancel, a
   * second runner where Web Locks are missing, a database deleted under the
   * queue) may have changed a job first, and then its handler must not run.
   * The worker keeps busy meanwhile with the batch queued before this one.
   *
   * @param taskBatch - the jobs are one batch of a batch task (counted by its limits already): one call of its handler
   */
  #begin(batch: JobRecord[], worker: PoolWorker, taskBatch = false): void {
    const now = Date.now()
    const sent: Batch = { remaining: 0 }
    if (!taskBatch) for (const job of batch) this.#limits.count(job, now)
    this.#batches.set(worker, (this.#batches.get(worker) ?? 0) + 1)
    const entries = batch.map((job) => {
      const next = started(job, now)
      // Its snapshot tells what batch its run is in (the inspector shows it).
      if (taskBatch) next.batch = batch.length
      return { job, started: next, payload: this.#payloads.get(job.id) }
    })
    const write = this.#host.committer.write(
      entries.map(({ started }) => ({ op: 'put' as const, job: started, expect: ['waiting', 'delayed'] as const })),
    )
    this.#uncommitted += batch.length
    const asked = performance.now()
    void write
      .finally(() => {
        this.#batching.committed(performance.now() - asked)
        this.#uncommitted -= batch.length
        this.pump()
      })
      .catch(() => undefined)
    for (const [i, { job, started, payload }] of entries.entries()) {
      this.#payloads.delete(job.id)
      // Reserved: the worker is not handed out again while its next batch commits.
      worker.jobs.add(job.id)
      const running: Running = {
        job: started,
        batch: sent,
        data: payload?.data,
        reusable: payload !== undefined && payload.transfer.length === 0,
        worker,
        sent: false,
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
      this.#attempts.add(running)
    }
    write.then(
      (results) => {
        this.#refusals.back()
        const go: typeof entries = []
        for (const [i, entry] of entries.entries()) {
          const running = this.#attempts.get(entry.job.id)
          if (!running || running.job !== entry.started) continue
          if (results[i]?.ok) {
            go.push(entry)
          } else {
            // Another tab changed it first (cancelled, moved, or the database is gone): this run does not happen.
            this.#unsend(running)
            this.#attempts.finish(running, entry.job, undefined)
            const result = results[i]
            if (result && !result.ok && result.reason === 'conflict' && !result.job) this.#host.changes.removed([entry.job.id], 'elsewhere')
          }
        }
        if (go.length === 0) {
          this.#releaseIfIdle(worker)
          return
        }
        // The worker first; then the news.
        this.#sender.send(worker, go, taskBatch)
        for (const { started } of go) {
          const running = this.#attempts.get(started.id)
          if (running && running.job === started) this.#host.changes.publish({ event: 'started', job: started, data: running.data }, 'here')
        }
      },
      (error: unknown) => {
        // Not stored: the jobs are still `waiting`. They go back to the index and run later.
        this.#host.error(toError(error))
        for (const { job, payload } of entries) {
          const running = this.#attempts.get(job.id)
          if (!running || running.settled) continue
          this.#unsend(running)
          this.#attempts.finish(running, job, undefined)
          this.#refusals.later(job, payload)
        }
        this.#releaseIfIdle(worker)
      },
    )
  }

  /** A reserved job that will not be sent: its worker no longer waits for it. */
  #unsend(running: Running): void {
    running.settled = true
    for (const timer of running.timers) clearLongTimeout(timer)
    running.worker?.jobs.delete(running.job.id)
    running.worker = undefined
  }

  /** A worker none of whose reserved jobs was sent goes back to the pool. */
  #releaseIfIdle(worker: PoolWorker): void {
    this.#batches.set(worker, (this.#batches.get(worker) ?? 1) - 1)
    if (worker.jobs.size === 0) this.release(worker)
  }

  // ── from the workers ───────────────────────────────────────────────────

  #onMessage(worker: PoolWorker, message: WorkerMessage): void {
    if (message[MESSAGE_TAG] === 'exit') return
    if (message[MESSAGE_TAG] === 'done') {
      for (const { jobId, outcome } of message.outcomes) {
        worker.jobs.delete(jobId)
        const running = this.#attempts.get(jobId)
        if (!running || running.worker !== worker) continue
        if (outcome.ms !== undefined) this.#batching.learn(running.job.name, outcome.ms)
        if (--running.batch.remaining === 0) this.#batches.set(worker, (this.#batches.get(worker) ?? 1) - 1)
        running.worker = undefined
        this.#attempts.settle(running, outcome)
      }
      if (worker.jobs.size === 0) {
        this.release(worker)
      } else if (this.#host.dispatching() && !this.#runsTaskBatch(worker)) {
        this.#prefetch(worker)
      }
      return
    }
    this.#attempts.report(worker, message)
  }

  #onCrash(jobs: string[], error: SerializedError): void {
    for (const id of jobs) {
      const worker = this.#attempts.get(id)?.worker
      if (worker) this.#batches.delete(worker)
    }
    this.#attempts.orphan(undefined, jobs, jobs.length === 1 ? error : undefined)
    this.pump()
  }

  /** An attempt is over (its new state durable, or it did not count): re-index, move dependents on, dispatch. */
  ended(running: Running, next: JobRecord, change: JobChange | undefined): void {
    const { id } = running.job
    this.#limits.uncount(running.job)
    if (change) {
      this.#host.changes.publish(change, 'here')
      if (!isFinal(next.status) && !this.#host.closing()) {
        // Its data is needed again: keep what we have rather than read it back (unless it was transferred away).
        if (running.reusable) this.#payloads.set(id, { data: running.data, transfer: [] })
        this.#index.add(next)
      } else {
        this.#index.left(id)
        this.#batching.cleared(id)
        this.#host.deps.ended(next)
      }
    } else {
      this.#index.left(id)
    }
    this.pump()
  }
}
