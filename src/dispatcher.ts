/**
 * The runner's engine: an in-memory index of due and delayed jobs, the hot
 * loop that hands them to free workers, and the state machine of a running
 * attempt (completion, retry, timeout, cancel, stall, crash, close).
 *
 * Every transition is committed before it is published: handles and queue
 * events only ever show durable state.
 */
import type { Committer } from './committer.js'
import {
  InterruptedError,
  JobCancelledError,
  JobTimeoutError,
  QueueClosedError,
  WorkerError,
  deserializeError,
  serializeError,
} from './errors.js'
import { Heap } from './heap.js'
import { mergeRetry, type ResolvedQueueOptions } from './options.js'
import { Pool, type PoolWorker } from './pool/pool.js'
import { MESSAGE_TAG, type Outcome, type RunRequest, type WorkerMessage } from './pool/protocol.js'
import { decideRetry } from './retry.js'
import type { JobRecord, Store, WriteOp } from './store/store.js'
import type { JobStatus, LogEntry, Progress, SerializedError } from './types.js'

/** A committed change of one job, for handles and queue events; `data` when the runner holds it. */
export type JobChange = { data?: unknown } & (
  | { event: 'started'; job: JobRecord; data: unknown }
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

interface Running {
  job: JobRecord
  data: unknown
  worker: PoolWorker | undefined
  /** The worker has been sent the job. */
  sent: boolean
  stop: { kind: StopKind; error: Error; reason?: string } | undefined
  timers: Array<ReturnType<typeof setTimeout>>
  lastSeen: number
  settled: boolean
}

interface Ready {
  id: string
  priority: number
  seq: number
}

/** How many interruptions of one attempt fail the job (a job that crashes the tab must not loop). */
export const MAX_INTERRUPTIONS = 3

const PROGRESS_WRITE_INTERVAL = 100

/** Runs a queue's jobs on a pool of workers. */
export class Dispatcher {
  #host: DispatcherHost
  #pool: Pool
  /** Unfinished jobs this runner owns, by id. */
  #jobs = new Map<string, JobRecord>()
  /** Data of jobs added in this tab, kept until their first run (saves a read). */
  #payloads = new Map<string, { data: unknown; transfer: Transferable[] }>()
  /** Ids of the jobs in `#ready` that may still run; cancelled ones leave stale heap entries behind. */
  #readyIds = new Set<string>()
  #ready = new Heap<Ready>((a, b) => (a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq))
  #delayed = new Heap<{ id: string; runAt: number }>((a, b) => a.runAt < b.runAt)
  #delayTimer: ReturnType<typeof setTimeout> | undefined
  #delayAt = Infinity
  #running = new Map<string, Running>()
  #progressDirty = new Set<string>()
  #progressTimer: ReturnType<typeof setTimeout> | undefined
  #active = false
  #closing = false
  #wasIdle = true

  constructor(host: DispatcherHost, factory: ConstructorParameters<typeof Pool>[0]) {
    this.#host = host
    this.#pool = new Pool(factory, host.options.concurrency, {
      available: () => this.#pump(),
      message: (worker, message) => this.#onMessage(worker, message),
      crashed: (jobId, error) => this.#onCrash(jobId, error),
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
   * Loads the unfinished jobs from the store. Jobs found `running` were
   * interrupted (their runner is gone): back to `waiting`, recorded, or
   * `failed` after {@link MAX_INTERRUPTIONS}.
   */
  async load(): Promise<void> {
    const interrupted: JobRecord[] = []
    await this.#host.store.scan(['waiting', 'delayed', 'running'], (job) => {
      if (job.status === 'running') interrupted.push(job)
      else this.#index(job)
    })
    if (interrupted.length === 0) return
    const now = Date.now()
    const ops: WriteOp[] = []
    const changes: JobRecord[] = []
    for (const old of interrupted) {
      const interruptions = old.interruptions + 1
      const error = serializeError(
        new InterruptedError(`Attempt ${old.attempt} was interrupted (reload, closed tab or crash): ${interruptions} of ${MAX_INTERRUPTIONS}`),
      )
      const job: JobRecord =
        interruptions >= MAX_INTERRUPTIONS
          ? { ...old, status: 'failed', error, finishedAt: now, interruptions, rev: old.rev + 1 }
          : { ...old, status: 'waiting', interruptions, rev: old.rev + 1 }
      ops.push({ op: 'put', job, expect: ['running'] }, { op: 'error', id: job.id, record: errorRecord(job.attempt, error, now) })
      changes.push(job)
    }
    const results = await this.#host.committer.write(ops)
    for (const [i, job] of changes.entries()) {
      // Cancelled (or taken) meanwhile by another tab: leave it.
      if (!results[i * 2]?.ok) continue
      if (job.status === 'failed') this.#host.publish({ event: 'failed', job, error: job.error as SerializedError })
      else {
        this.#index(job)
        this.#host.publish({ event: 'requeued', job })
      }
    }
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
    const known = this.#jobs.get(job.id)
    if (known && known.rev >= job.rev) return
    if (payload) this.#payloads.set(job.id, payload)
    this.#index(job)
    this.#pump()
  }

  /** Drops a job another tab finished (cancelled) from the index; a running job is left alone. */
  forget(id: string): void {
    if (this.#running.has(id)) return
    this.#jobs.delete(id)
    this.#readyIds.delete(id)
    this.#payloads.delete(id)
    this.#checkIdle()
  }

  /** The in-memory view of a job this runner owns. */
  get(id: string): JobRecord | undefined {
    return this.#jobs.get(id)
  }

  /** Nothing waiting, due or running. */
  isIdle(): boolean {
    this.#promoteDue()
    return this.#readyIds.size === 0 && this.#running.size === 0
  }

  /**
   * Cancels a job this runner owns. A waiting job ends at once; a running one
   * has its signal aborted and ends `cancelled` when its handler settles or
   * its worker is terminated after `abortGrace`.
   *
   * @returns whether it was cancelled, or undefined if this runner does not own it
   */
  async cancel(id: string, reason: string | undefined): Promise<boolean | undefined> {
    const running = this.#running.get(id)
    if (running) {
      if (running.settled) return false
      const stopped = new Promise<boolean>((resolve) => {
        const unsub = this.#onSettle(id, (job) => {
          unsub()
          resolve(job.status === 'cancelled')
        })
      })
      this.#stop(running, 'cancel', new JobCancelledError(reason ?? 'The job was cancelled'), reason)
      return stopped
    }
    const job = this.#jobs.get(id)
    if (!job) return undefined
    this.#jobs.delete(id)
    this.#readyIds.delete(id)
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
    clearTimeout(this.#delayTimer)
    const pending = [...this.#running.keys()].map((id) => new Promise<void>((resolve) => {
      const unsub = this.#onSettle(id, () => {
        unsub()
        resolve()
      })
    }))
    const timer = setTimeout(() => {
      for (const running of this.#running.values()) this.#stop(running, 'close', new QueueClosedError())
    }, timeout)
    await Promise.all(pending)
    clearTimeout(timer)
    clearTimeout(this.#progressTimer)
    this.#flushProgress()
    this.#pool.close()
    this.#jobs.clear()
    this.#payloads.clear()
    this.#ready.clear()
    this.#readyIds.clear()
    this.#delayed.clear()
  }

  // ── the index ──────────────────────────────────────────────────────────

  #index(job: JobRecord): void {
    this.#jobs.set(job.id, job)
    if (job.status === 'waiting') {
      this.#pushReady(job)
    } else if (job.status === 'delayed') {
      this.#delayed.push({ id: job.id, runAt: job.runAt })
      this.#armDelayTimer()
    }
  }

  /** Moves delayed jobs whose time has come to `waiting` (in memory: `waiting` is written when they start). */
  #promoteDue(): void {
    const now = Date.now()
    for (let top = this.#delayed.peek(); top && top.runAt <= now; top = this.#delayed.peek()) {
      this.#delayed.pop()
      const job = this.#jobs.get(top.id)
      if (!job || job.status !== 'delayed' || job.runAt !== top.runAt) continue
      job.status = 'waiting'
      this.#pushReady(job)
    }
    this.#armDelayTimer()
  }

  #pushReady(job: JobRecord): void {
    this.#readyIds.add(job.id)
    this.#ready.push({ id: job.id, priority: job.priority, seq: job.seq })
  }

  #armDelayTimer(): void {
    const next = this.#delayed.peek()
    if (!next || this.#closing) return
    if (next.runAt >= this.#delayAt && this.#delayTimer !== undefined) return
    clearTimeout(this.#delayTimer)
    this.#delayAt = next.runAt
    this.#delayTimer = setTimeout(() => {
      this.#delayTimer = undefined
      this.#delayAt = Infinity
      this.#promoteDue()
      this.#pump()
    }, Math.max(0, next.runAt - Date.now()))
  }

  // ── the hot loop ───────────────────────────────────────────────────────

  #pump(): void {
    if (!this.#active || this.#closing) return
    this.#promoteDue()
    while (this.#readyIds.size > 0) {
      const worker = this.#pool.acquire()
      if (!worker) {
        this.#pool.grow(this.#readyIds.size)
        return
      }
      let job: JobRecord | undefined
      while (!job && this.#ready.size > 0) {
        const entry = this.#ready.pop() as Ready
        if (!this.#readyIds.delete(entry.id)) continue
        const candidate = this.#jobs.get(entry.id)
        if (candidate?.status === 'waiting' && !this.#running.has(entry.id)) job = candidate
      }
      if (!job) {
        this.#pool.release(worker)
        break
      }
      this.#begin(job, worker)
    }
    this.#checkIdle()
  }

  #begin(job: JobRecord, worker: PoolWorker): void {
    const now = Date.now()
    const started: JobRecord = { ...job, status: 'running', startedAt: now, rev: job.rev + 1 }
    this.#jobs.set(job.id, started)
    const payload = this.#payloads.get(job.id)
    this.#payloads.delete(job.id)
    const running: Running = {
      job: started,
      data: payload?.data,
      worker,
      sent: false,
      stop: undefined,
      timers: [],
      lastSeen: now,
      settled: false,
    }
    this.#running.set(job.id, running)
    worker.jobId = job.id
    const data = payload ? Promise.resolve(payload.data) : this.#host.store.getData([job.id]).then((d) => d[0])
    const committed = this.#host.committer.write([{ op: 'put', job: started, expect: ['waiting', 'delayed'] }])
    Promise.all([committed, data]).then(
      ([[result], value]) => {
        if (!result?.ok) {
          // Someone else changed it (cancelled in another tab): drop it.
          this.#running.delete(job.id)
          this.#jobs.delete(job.id)
          this.#pool.release(worker)
          this.#checkIdle()
          return
        }
        running.data = value
        this.#host.publish({ event: 'started', job: started, data: value })
        if (running.stop) {
          this.#settle(running, { type: 'failed', error: serializeError(running.stop.error), aborted: true })
          return
        }
        this.#send(running, worker, value, payload?.transfer ?? [])
      },
      (error: unknown) => {
        // The write failed (quota?): the job stays waiting in the store; try again later.
        this.#running.delete(job.id)
        this.#jobs.set(job.id, job)
        this.#pushReady(job)
        if (payload) this.#payloads.set(job.id, payload)
        this.#pool.release(worker)
        this.#host.error(error instanceof Error ? error : new Error(String(error)))
      },
    )
  }

  #send(running: Running, worker: PoolWorker, data: unknown, transfer: Transferable[]): void {
    const { job } = running
    const request: RunRequest = {
      id: job.id,
      name: job.name,
      queue: job.queue,
      attempt: job.attempt,
      createdAt: job.createdAt,
      data,
    }
    running.sent = true
    running.lastSeen = Date.now()
    const timeout = this.#timeoutOf(job)
    if (timeout !== undefined) {
      running.timers.push(
        setTimeout(() => this.#stop(running, 'timeout', new JobTimeoutError(`The job timed out after ${timeout} ms`)), timeout),
      )
    }
    const stall = this.#host.options.stallTimeout
    if (stall !== undefined) this.#watchStall(running, stall)
    try {
      worker.run(request, transfer)
    } catch (error) {
      // A transfer list that no longer applies (a detached buffer): send a copy.
      worker.run(request, [])
      void error
    }
  }

  #watchStall(running: Running, stall: number): void {
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
    const running = this.#running.get(message.jobId)
    if (!running || running.worker !== worker || running.settled) return
    running.lastSeen = Date.now()
    switch (message[MESSAGE_TAG]) {
      case 'progress': {
        running.job = { ...running.job, progress: message.value }
        this.#jobs.set(running.job.id, running.job)
        this.#progressDirty.add(running.job.id)
        this.#progressTimer ??= setTimeout(() => this.#flushProgress(), PROGRESS_WRITE_INTERVAL)
        // Live, not a transition: shown at once, written within PROGRESS_WRITE_INTERVAL.
        this.#host.publish({ event: 'progress', job: running.job, progress: message.value })
        break
      }
      case 'logs': {
        const { entries } = message
        const id = running.job.id
        this.#host.committer.write([{ op: 'log', id, entries }]).then(
          () => {
            const job = this.#jobs.get(id) ?? running.job
            for (const entry of entries) this.#host.publish({ event: 'log', job, entry })
          },
          (error: unknown) => this.#host.error(error instanceof Error ? error : new Error(String(error))),
        )
        break
      }
      case 'heartbeat':
        break
      case 'done':
        this.#pool.release(worker)
        running.worker = undefined
        this.#settle(running, message.outcome)
        this.#pump()
        break
    }
  }

  #onCrash(jobId: string, error: SerializedError): void {
    const running = this.#running.get(jobId)
    if (!running || running.settled) return
    running.worker = undefined
    this.#settle(running, { type: 'failed', error, aborted: running.stop !== undefined })
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

  // ── ending an attempt ──────────────────────────────────────────────────

  #stop(running: Running, kind: StopKind, error: Error, reason?: string): void {
    if (running.settled || running.stop) return
    running.stop = reason === undefined ? { kind, error } : { kind, error, reason }
    if (!running.sent) return // #begin settles it once the start is committed
    const worker = running.worker
    if (!worker) return
    worker.abort(running.job.id, error)
    running.timers.push(
      setTimeout(() => {
        if (running.settled || running.worker !== worker) return
        this.#pool.terminate(worker)
        running.worker = undefined
        this.#settle(running, {
          type: 'failed',
          error: serializeError(
            new WorkerError(`The handler ignored its aborted signal for ${this.#host.options.abortGrace} ms; its worker was terminated`, {
              cause: error,
            }),
          ),
          aborted: true,
        })
      }, this.#host.options.abortGrace),
    )
  }

  #settleListeners = new Map<string, Set<(job: JobRecord) => void>>()

  #onSettle(id: string, listener: (job: JobRecord) => void): () => void {
    let set = this.#settleListeners.get(id)
    if (!set) this.#settleListeners.set(id, (set = new Set()))
    set.add(listener)
    return () => set.delete(listener)
  }

  /** Ends the attempt: works out the next state, commits it, then publishes. */
  #settle(running: Running, outcome: Outcome): void {
    if (running.settled) return
    running.settled = true
    for (const timer of running.timers) clearTimeout(timer)
    this.#progressDirty.delete(running.job.id)
    const { job } = running
    const now = Date.now()
    const ops: WriteOp[] = []
    let next: JobRecord
    let change: JobChange
    const stop = running.stop
    if (stop?.kind === 'cancel') {
      next = { ...job, status: 'cancelled', finishedAt: now, error: serializeError(stop.error), rev: job.rev + 1 }
      change = { event: 'cancelled', job: next, reason: stop.reason }
    } else if (stop?.kind === 'close' && outcome.type !== 'completed') {
      const error = serializeError(new InterruptedError(`Attempt ${job.attempt} was interrupted: the queue closed`))
      next = { ...job, status: 'waiting', rev: job.rev + 1 }
      delete next.startedAt
      ops.push({ op: 'error', id: job.id, record: errorRecord(job.attempt, error, now) })
      change = { event: 'requeued', job: next }
    } else if (outcome.type === 'completed' && (!stop || stop.kind === 'close')) {
      next = { ...job, status: 'completed', finishedAt: now, rev: job.rev + 1 }
      ops.push({ op: 'result', id: job.id, value: outcome.result })
      change = { event: 'completed', job: next, result: outcome.result }
    } else {
      // A failure: the handler's, a timeout or stall (whatever the handler then did), or a crash.
      const error = stop ? serializeError(stop.error) : (outcome as Extract<Outcome, { type: 'failed' }>).error
      const failed = outcome.type === 'failed' ? outcome : undefined
      ops.push({ op: 'error', id: job.id, record: errorRecord(job.attempt, error, now) })
      const policy = mergeRetry(
        this.#host.options.defaults.retry,
        this.#pool.manifest?.tasks[job.name]?.retry,
        job.options.retry,
      )
      const decision =
        error.name === 'UnknownTaskError' || error.name === 'JobDataError'
          ? { retry: false as const }
          : decideRetry(policy, job.attempt, deserializeError(error), {
              requested: stop ? undefined : failed?.retry,
              hints: failed?.hints,
            })
      if (decision.retry) {
        const runAt = now + decision.delay
        next = {
          ...job,
          status: decision.delay > 0 ? 'delayed' : 'waiting',
          attempt: job.attempt + 1,
          runAt,
          error,
          interruptions: 0,
          rev: job.rev + 1,
        }
        delete next.startedAt
        change = { event: 'retrying', job: next, delay: decision.delay, error }
      } else {
        next = { ...job, status: 'failed', finishedAt: now, error, rev: job.rev + 1 }
        change = { event: 'failed', job: next, error }
      }
    }
    ops.unshift({ op: 'put', job: next, expect: ['running'] })
    const data = running.data
    change.data = data
    this.#host.committer.write(ops).then(
      ([result]) => {
        this.#running.delete(job.id)
        if (!result?.ok) {
          this.#jobs.delete(job.id)
        } else if (isFinalStatus(next.status)) {
          this.#jobs.delete(job.id)
          this.#host.publish(change)
        } else {
          this.#host.publish(change)
          if (!this.#closing) {
            // Its data is needed again: keep what we have rather than read it back.
            this.#payloads.set(next.id, { data, transfer: [] })
            this.#index(next)
          }
        }
        const listeners = this.#settleListeners.get(job.id)
        this.#settleListeners.delete(job.id)
        for (const listener of listeners ?? []) listener(next)
        this.#pump()
      },
      (error: unknown) => {
        // Not durable: the job stays `running` in the store and is resumed as interrupted on the next start.
        this.#running.delete(job.id)
        this.#jobs.delete(job.id)
        this.#host.error(error instanceof Error ? error : new Error(String(error)))
        const listeners = this.#settleListeners.get(job.id)
        this.#settleListeners.delete(job.id)
        for (const listener of listeners ?? []) listener(job)
      },
    )
  }

  #checkIdle(): void {
    const idle = this.#readyIds.size === 0 && this.#running.size === 0
    if (idle && !this.#wasIdle) {
      this.#wasIdle = true
      this.#host.idle()
    } else if (!idle) {
      this.#wasIdle = false
    }
  }
}

function isFinalStatus(status: JobStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled'
}

function errorRecord(attempt: number, error: SerializedError, at: number): import('./types.js').ErrorRecord {
  const record: import('./types.js').ErrorRecord = { attempt, name: error.name, message: error.message, failedAt: at }
  if (error.stack !== undefined) record.stack = error.stack
  return record
}
