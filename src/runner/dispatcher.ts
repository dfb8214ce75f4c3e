/**
 * The runner's dispatch loop: takes over the store when this tab becomes the
 * runner, and hands due jobs to free workers (several short jobs to a message
 * when the queue is deep, a few batches ahead per worker). A batch is sent only
 * once its `running` state is committed; the life of each attempt from there
 * on is attempts.ts's.
 *
 * Every transition is committed before it is published: handles and queue
 * events only ever show durable state.
 */
import type { Writer } from '../store/committer.js'
import { Dependencies } from './dependencies.js'
import { JobCancelledError, QueueClosedError } from '../shared/errors.js'
import { JobIndex } from './job-index.js'
import { Limits } from './limits.js'
import type { Pool, PoolWorker } from '../pool/pool.js'
import { MESSAGE_TAG, type WorkerMessage } from '../shared/protocol.js'
import type { JobRecord, Store } from '../store/store.js'
import { Attempts, type Batch, type Running } from './attempts.js'
import { Batching } from './batching.js'
import { Refusals } from './refusals.js'
import { Sender } from './send.js'
import type { RunnerOptions } from './options.js'
import { awaitingRelease, cancelled, givenUp, interrupted, started, type ChangeSink, type JobChange } from './transition.js'
import { clearLongTimeout, setLongTimeout, toError } from '../shared/timers.js'
import { JOIN_TASK, isFinal, type SerializedError } from '../shared/types.js'

/** What the dispatcher needs from the queue around it. */
export interface DispatcherHost {
  readonly options: RunnerOptions
  readonly store: Store
  readonly committer: Writer
  /** Where committed changes go (the queue's change path). */
  readonly changes: ChangeSink
  error(error: Error): void
  idle(): void
  /**
   * What to do with a job whose task this runner's worker module does not define:
   * `'fail'` it (UnknownTaskError: the task was dropped) or `'wait'` for a release that
   * defines it (see shared/release.ts).
   */
  unknownTask(job: JobRecord): 'fail' | 'wait'
  /** A job now waits for another release (the runner may hand the queue over). */
  awaitingRelease(): void
  /**
   * Whether the runner before this one said it gave this `running` job up as its page was
   * frozen or hidden (then no interruption is counted against it); asked once per job.
   */
  givenUp(id: string): boolean
}

/**
 * Jobs sent whose `running` state is not committed yet, at most. When storage
 * is the bottleneck, more would only pile up behind it, and all their
 * outcomes would then wake at once when it commits: a long task.
 */
const MAX_UNCOMMITTED = 256

/**
 * What a call into the runner gives when the runner lost its place while the call
 * was under way ({@link Dispatcher.abandon}): its writes will never land, and the
 * caller redoes the call as a follower.
 */
export const LOST: unique symbol = Symbol('offthread.lost')

/** Runs a queue's jobs on a pool of workers. */
export class Dispatcher {
  #host: DispatcherHost
  #pool: Pool
  #index: JobIndex
  /** Data of jobs added in this tab, kept until their first run (saves a read). */
  #payloads = new Map<string, { data: unknown; transfer: Transferable[] }>()
  #attempts: Attempts
  #batching: Batching
  #limits: Limits
  #deps: Dependencies
  /** Batches sent to each worker and not yet done: a worker of short jobs gets its next batch before it runs dry. */
  #batches = new Map<PoolWorker, number>()
  #uncommitted = 0
  #active = false
  #closing = false
  #wasIdle = true
  /** Set by abandon(); what waits on it is woken with LOST (see {@link Dispatcher.held}). */
  #abandoned = false
  #onAbandon = new Set<() => void>()
  /** Jobs whose `running` write the store refused (a full origin): they go back later. */
  #refusals: Refusals
  /** The last step: committed batches to their worker. */
  #sender: Sender
  /** Waiting jobs whose task this runner's release does not define: they wait for one that does. */
  #forRelease = new Map<string, JobRecord>()
  /** The tasks of those jobs the host was told of (see {@link DispatcherHost.awaitingRelease}). */
  #toldTasks = new Set<string>()

  /**
   * @param pool - the pool to run on (made by the queue, which may have loaded its first worker already); closed with the dispatcher
   */
  constructor(host: DispatcherHost, pool: Pool) {
    this.#host = host
    this.#index = new JobIndex(
      host.store,
      (id) => this.#attempts.has(id) || this.#limits.isParked(id) || this.#forRelease.has(id),
      () => this.#pump(),
    )
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
      changes: host.changes,
      due: (job) => {
        this.#index.add(job)
        this.#pump()
      },
      closing: () => this.#closing,
      error: (error) => host.error(error),
    })
    this.#attempts = new Attempts({
      options: host.options,
      committer: host.committer,
      manifest: () => this.#pool.manifest,
      changes: host.changes,
      error: (error) => host.error(error),
      closing: () => this.#closing,
      ended: (running, next, change) => this.#ended(running, next, change),
      terminate: (worker) => {
        this.#batches.delete(worker)
        this.#pool.terminate(worker)
      },
      release: (worker) => {
        this.#batches.delete(worker)
        this.#pool.release(worker)
      },
      suspect: (id) => this.#batching.suspect(id),
      durableSteps: typeof host.store.steps === 'function',
    })
    this.#batching = new Batching({
      readyCount: () => this.#index.readyCount,
      poolSize: host.options.concurrency,
      stallTimeout: host.options.stallTimeout,
      timeoutOf: (job) => this.#attempts.timeoutOf(job),
      limited: (job) => this.#limits.applies(job),
    })
    this.#refusals = new Refusals(
      (job, payload) => {
        if (payload && payload.transfer.length === 0) this.#payloads.set(job.id, payload)
        this.#index.add(job)
        this.#pump()
      },
      () => this.#closing,
    )
    this.#sender = new Sender({
      store: host.store,
      attempts: this.#attempts,
      limits: this.#limits,
      error: (error) => host.error(error),
      releaseIfIdle: (worker) => this.#releaseIfIdle(worker),
    })
    this.#pool = pool
    pool.attach({
      available: () => this.#pump(),
      message: (worker, message) => this.#onMessage(worker, message),
      crashed: (jobs, error) => this.#onCrash(jobs, error),
      error: (error) => host.error(error),
    })
  }

  /** The tasks that jobs waiting for another release need (see {@link DispatcherHost.unknownTask}). */
  get neededTasks(): ReadonlySet<string> {
    return new Set([...this.#forRelease.values()].map((job) => job.name))
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
   * `MAX_INTERRUPTIONS` (transition.ts), unless their runner said it gave them up
   * (frozen, hidden: then uncounted); then the first window of due jobs is loaded.
   */
  async load(): Promise<void> {
    const found: JobRecord[] = []
    await this.#host.store.scan(['running'], (job) => found.push(job))
    if (found.length > 0) {
      const now = Date.now()
      const changes = found.map((old) => (this.#host.givenUp(old.id) ? givenUp(old) : interrupted(old, now)))
      const results = await this.#host.committer.write(changes.flatMap((c) => c.ops))
      let at = 0
      for (const { job, ops } of changes) {
        // Each change's first op is its put. Cancelled (or taken) meanwhile by another tab: leave it.
        const result = results[at]
        at += ops.length
        if (!result?.ok) continue
        if (job.status === 'failed') this.#host.changes.publish({ event: 'failed', job, error: job.error as SerializedError }, 'here')
        else this.#host.changes.publish({ event: 'requeued', job }, 'here')
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
    if (this.#closing || this.#attempts.has(job.id)) return
    if (job.status === 'blocked') {
      if (payload) this.#payloads.set(job.id, payload)
      this.#deps.add(job)
      return
    }
    const parked = this.#forRelease.get(job.id)
    if (parked && parked.rev >= job.rev) return
    this.#forRelease.delete(job.id)
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
    if (this.#attempts.has(job.id)) return
    this.#limits.unpark(job.id)
    this.#forRelease.delete(job.id)
    this.#index.remove(job.id)
    this.#payloads.delete(job.id)
    if (isFinal(job.status)) this.#deps.ended(job)
    this.#checkIdle()
  }

  /** Nothing waiting, due or running. */
  isIdle(): boolean {
    return this.#attempts.size === 0 && this.#limits.parked === 0 && this.#index.peek() === undefined && this.#index.empty
  }

  /**
   * Cancels a job this runner owns. A waiting job ends at once; a running one
   * has its signal aborted and ends `cancelled` when its handler settles or
   * its worker is terminated after `abortGrace`.
   *
   * @returns whether it was cancelled, undefined if this runner does not hold it, or
   * {@link LOST} if this runner lost its place meanwhile (nothing it wrote after that landed)
   */
  async cancel(id: string, reason: string | undefined): Promise<boolean | undefined | typeof LOST> {
    if (this.#abandoned) return LOST
    const running = this.#attempts.get(id)
    if (running) {
      if (running.settled) return false
      // abandon() settles every attempt, unwritten: then the cancel did not happen here.
      const stopped = new Promise<boolean | typeof LOST>((resolve) =>
        running.onSettle.push((job) => resolve(this.#abandoned ? LOST : job.status === 'cancelled')),
      )
      this.#attempts.stop(running, 'cancel', new JobCancelledError(reason ?? 'The job was cancelled'), reason)
      return stopped
    }
    const job = this.#index.get(id) ?? this.#limits.unpark(id) ?? this.#forRelease.get(id)
    if (!job) return undefined
    this.#forRelease.delete(id)
    this.#index.remove(id)
    this.#payloads.delete(id)
    const next = cancelled(job, reason, Date.now())
    const written = await this.held(this.#host.committer.write([{ op: 'put', job: next, expect: ['waiting', 'delayed', 'blocked'] }]))
    if (written === LOST) return LOST
    const [result] = written
    if (!result?.ok) return false
    this.#host.changes.publish({ event: 'cancelled', job: next, reason }, 'here')
    this.#deps.ended(next)
    this.#checkIdle()
    return true
  }

  /**
   * Stops: no new jobs; running ones get `timeout` ms to finish, then their
   * signal aborts with `QueueClosedError`; what is still running after
   * `abortGrace` is terminated. Interrupted jobs go back to `waiting`.
   */
  async close(timeout: number, reason?: string): Promise<void> {
    this.#closing = true
    this.#active = false
    const pending = [...this.#attempts.values()].map(
      (running) => new Promise<void>((resolve) => (running.settled ? resolve() : running.onSettle.push(() => resolve()))),
    )
    const timer = setLongTimeout(() => {
      for (const running of this.#attempts.values()) this.#attempts.stop(running, 'close', new QueueClosedError(reason), reason)
    }, timeout)
    await Promise.all(pending)
    clearLongTimeout(timer)
    this.#attempts.close()
    this.#pool.close()
    this.#limits.stop()
    this.#index.stop()
    this.#payloads.clear()
    this.#forRelease.clear()
  }

  /**
   * Another process wrote to the store (a store shared between processes, which no
   * BroadcastChannel reaches): take in the jobs it added or requeued, and stop the
   * attempts it cancelled or deleted (only those whose `running` state is committed:
   * a job about to start is `waiting` in the store still).
   */
  async refresh(): Promise<void> {
    // A runner that loses its place mid-way never finishes (its writes never settle): the caller goes on.
    await this.held(this.#refresh())
  }

  async #refresh(): Promise<void> {
    if (this.#closing) return
    const running = [...this.#attempts.values()].filter((r) => r.sent && !r.settled && !r.stop)
    if (running.length > 0) {
      const stored = await this.#host.store.get(running.map((r) => r.job.id))
      for (const [i, job] of stored.entries()) {
        const attempt = running[i] as Running
        if (job?.status === 'running' || this.#closing) continue
        const reason = job?.status === 'cancelled' ? job.error?.message : undefined
        this.#attempts.stop(attempt, 'cancel', new JobCancelledError(reason ?? `Job ${attempt.job.id} was cancelled or deleted elsewhere`), reason)
      }
    }
    await this.#index.refill()
    await this.#deps.recheck()
    this.#pump()
  }

  /**
   * `work`'s outcome, or {@link LOST} once this runner is abandoned: a call from outside
   * (a user's cancel, the store poll) never waits forever on a write of a runner that
   * lost its place (its fenced writer never settles, so that none of its code runs on).
   */
  held<T>(work: Promise<T>): Promise<T | typeof LOST> {
    if (this.#abandoned) return Promise.resolve(LOST)
    return new Promise<T | typeof LOST>((resolve, reject) => {
      const wake = (): void => resolve(LOST)
      this.#onAbandon.add(wake)
      work.then(
        (value) => {
          this.#onAbandon.delete(wake)
          resolve(value)
        },
        (error: unknown) => {
          this.#onAbandon.delete(wake)
          reject(error)
        },
      )
    })
  }

  /**
   * This runner lost its place (another tab or process took over, see leadership.ts):
   * stops at once, writes nothing more (its writes are fenced anyway), and terminates
   * every worker. Its running jobs are the new runner's: it counts them as interrupted.
   *
   * @returns the ids of the jobs it had running (or sent to a worker, not begun yet)
   */
  abandon(): string[] {
    const ids = [...this.#attempts.values()].map((running) => running.job.id)
    this.#closing = true
    this.#active = false
    this.#abandoned = true
    this.#attempts.abandon()
    for (const wake of [...this.#onAbandon]) wake()
    this.#onAbandon.clear()
    this.#pool.close()
    this.#limits.stop()
    this.#index.stop()
    this.#payloads.clear()
    return ids
  }

  // ── the hot loop ───────────────────────────────────────────────────────

  #pump(): void {
    if (!this.#active || this.#closing) {
      this.#checkIdle()
      return
    }
    const tasks = this.#pool.manifest?.tasks
    for (let next = this.#index.peek(); next && this.#uncommitted < MAX_UNCOMMITTED; next = this.#index.peek()) {
      // A task this release does not define, added by a newer (or another) release: it waits for one that does.
      if (tasks && !(next.name in tasks) && next.name !== JOIN_TASK && this.#host.unknownTask(next) === 'wait') {
        this.#awaitRelease(this.#index.take() as JobRecord)
        continue
      }
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
      // Short jobs: queue more batches behind the first, so the worker never waits for this
      // thread, nor for the commit of its next batch's `running` state.
      if (batch.length > 1) this.#prefetch(worker)
    }
    this.#checkIdle()
  }

  /**
   * Keeps a job out of this runner's dispatch (no head-of-line blocking) and writes why it
   * waits, once: its snapshot says `waitingFor: 'release'` in every tab.
   */
  #awaitRelease(job: JobRecord): void {
    this.#forRelease.set(job.id, job)
    // Once per task that jobs wait for, not once per job (10,000 of them, say).
    if (!this.#toldTasks.has(job.name)) {
      this.#toldTasks.add(job.name)
      this.#host.awaitingRelease()
    }
    if (job.waitingFor === 'release' && job.status === 'waiting') return
    const next = awaitingRelease(job)
    this.#forRelease.set(job.id, next)
    void this.held(this.#host.committer.write([{ op: 'put', job: next, expect: ['waiting', 'delayed'] }])).then(
      (written) => {
        if (written === LOST) return
        const [result] = written
        if (result?.ok) this.#host.changes.publish({ event: 'requeued', job: next }, 'here')
        // Moved meanwhile (cancelled, taken by another runner): not this runner's to hold.
        else if (this.#forRelease.get(job.id) === next) this.#forRelease.delete(job.id)
      },
      (error: unknown) => {
        // Not written: it still waits here (the reason shows once a write lands).
        this.#host.error(toError(error))
      },
    )
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
   */
  #begin(batch: JobRecord[], worker: PoolWorker): void {
    const now = Date.now()
    const sent: Batch = { remaining: 0 }
    for (const job of batch) this.#limits.count(job, now)
    this.#batches.set(worker, (this.#batches.get(worker) ?? 0) + 1)
    const entries = batch.map((job) => {
      return { job, started: started(job, now), payload: this.#payloads.get(job.id) }
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
        this.#pump()
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
        this.#sender.send(worker, go)
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
    if (worker.jobs.size === 0) {
      this.#batches.delete(worker)
      this.#pool.release(worker)
    }
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
        this.#batches.delete(worker)
        this.#pool.release(worker)
      } else if (this.#active && !this.#closing) {
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
    this.#pump()
  }

  /** An attempt is over (its new state durable, or it did not count): re-index, move dependents on, dispatch. */
  #ended(running: Running, next: JobRecord, change: JobChange | undefined): void {
    const { id } = running.job
    this.#limits.uncount(running.job)
    if (change) {
      this.#host.changes.publish(change, 'here')
      if (!isFinal(next.status) && !this.#closing) {
        // Its data is needed again: keep what we have rather than read it back (unless it was transferred away).
        if (running.reusable) this.#payloads.set(id, { data: running.data, transfer: [] })
        this.#index.add(next)
      } else {
        this.#index.left(id)
        this.#batching.cleared(id)
        this.#deps.ended(next)
      }
    } else {
      this.#index.left(id)
    }
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
