/**
 * The runner's dispatcher: takes over the store when this tab becomes the runner,
 * builds the engines its hot loop (dispatch-loop.ts) drives, and runs their
 * lifecycle: start and pause, jobs taken in and forgotten, cancels, a shared store's
 * refresh, close, and abandon when the runner loses its place. A batch is sent only
 * once its `running` state is committed (dispatch-loop.ts); the life of each attempt
 * from there on is attempts.ts's.
 *
 * Every transition is committed before it is published: handles and queue
 * events only ever show durable state.
 */
import { Dependencies } from './dependencies.js'
import { JobCancelledError, QueueClosedError } from '../shared/errors.js'
import { JobIndex } from './job-index.js'
import { Network } from './network.js'
import { Limits } from './limits.js'
import type { Pool } from '../pool/pool.js'
import type { JobRecord } from '../store/store.js'
import { GroupSettings } from './group-settings.js'
import { Attempts, type Running } from './attempts.js'
import { Batching } from './batching.js'
import { DispatchLoop, type QueueSide } from './dispatch-loop.js'
import { LOST } from './lost.js'
import { TaskBatches } from './task-batches.js'
import type { Payload } from './send.js'
import type { RunnerOptions } from './options.js'
import { cancelled, givenUp, interrupted } from './transition.js'
import { clearLongTimeout, setLongTimeout, toError } from '../shared/timers.js'
import { signalStep } from '../shared/waits.js'
import { isFinal, type SerializedError } from '../shared/types.js'

/** What the dispatcher needs from the queue around it. */
export interface DispatcherHost extends QueueSide {
  readonly options: RunnerOptions
  /**
   * Whether the runner before this one said it gave this `running` job up as its page was
   * frozen or hidden (then no interruption is counted against it); asked once per job.
   */
  givenUp(id: string): boolean
}

/** Runs a queue's jobs on a pool of workers. */
export class Dispatcher {
  #host: DispatcherHost
  #pool: Pool
  #index: JobIndex
  /** Data of jobs added in this tab, kept until their first run (saves a read). */
  #payloads = new Map<string, Payload>()
  #attempts: Attempts
  #limits: Limits
  #deps: Dependencies
  /** Due jobs to workers, and the workers' answers back. */
  #loop: DispatchLoop
  #active = false
  #closing = false
  /** Set by abandon(); what waits on it is woken with LOST (see {@link Dispatcher.held}). */
  #abandoned = false
  #onAbandon = new Set<() => void>()
  /** Waiting jobs whose task this runner's release does not define: they wait for one that does. */
  #forRelease = new Map<string, JobRecord>()
  /** Due jobs of batch tasks, held until their batch goes (task-batches.ts). */
  #taskBatches: TaskBatches
  /** Whether the browser is online, for jobs that need the network. */
  #network: Network
  /** Job groups' limits: the queue's, and each group's own (read at load, and again when they change). */
  #groups: GroupSettings

  /**
   * Builds the engines in the order they need one another, each given what it uses. The
   * loop, made last from the others, is what they call back (due jobs, an attempt's end,
   * a worker to kill or free): bound late, called only once it is made.
   *
   * @param pool - the pool to run on (made by the queue, which may have loaded its first worker already); closed with the dispatcher
   */
  constructor(host: DispatcherHost, pool: Pool) {
    this.#host = host
    this.#pool = pool
    const closing = (): boolean => this.#closing
    this.#groups = new GroupSettings(host.store, host.options.groups)
    const error = (error: Error): void => host.error(error)
    this.#index = new JobIndex(
      host.store,
      (id) => this.#attempts.has(id) || this.#limits.isParked(id) || this.#forRelease.has(id) || taskBatches.has(id),
      () => this.#loop.pump(),
    )
    // Jobs that need the network wait for it while the browser is offline (limits.ts parks them).
    this.#network = new Network((online) => {
      if (online) this.#limits.online()
    })
    this.#limits = new Limits(
      () => pool.manifest,
      (jobs) => {
        for (const job of jobs) this.#index.add(job)
        this.#loop.pump()
      },
      () => this.#network.online,
      this.#groups,
    )
    this.#deps = new Dependencies({
      store: host.store,
      committer: host.committer,
      changes: host.changes,
      due: (job) => {
        this.#index.add(job)
        this.#loop.pump()
      },
      closing,
      error,
    })
    this.#attempts = new Attempts({
      options: host.options,
      committer: host.committer,
      manifest: () => pool.manifest,
      changes: host.changes,
      error,
      closing,
      ended: (running, next, change) => {
        this.#loop.ended(running, next, change)
        if (change && next.waitingFor === 'signal') this.#wakeIfSignalled(next)
      },
      terminate: (worker) => this.#loop.terminate(worker),
      release: (worker) => this.#loop.release(worker),
      suspect: (id) => batching.suspect(id),
      durableSteps: typeof host.store.steps === 'function',
      offline: (job) => !this.#network.online && this.#limits.needsNetwork(job),
    })
    const taskBatches: TaskBatches = new TaskBatches({
      manifest: () => pool.manifest,
      limits: this.#limits,
      due: () => this.#loop.pump(),
      suspect: (id: string): boolean => batching.suspected(id),
    })
    this.#taskBatches = taskBatches
    const batching: Batching = new Batching({
      readyCount: () => this.#index.readyCount,
      poolSize: host.options.concurrency,
      stallTimeout: host.options.stallTimeout,
      timeoutOf: (job) => this.#attempts.timeoutOf(job),
      // A batch task's jobs go in batches of their own (task-batches.ts), never with other jobs.
      limited: (job) => this.#limits.applies(job) || taskBatches.isBatchTask(job.name),
    })
    this.#loop = new DispatchLoop(
      {
        store: host.store,
        committer: host.committer,
        changes: host.changes,
        error,
        idle: () => host.idle(),
        unknownTask: (job) => host.unknownTask(job),
        awaitingRelease: () => host.awaitingRelease(),
        deps: this.#deps,
        dispatching: () => this.#active && !this.#closing,
        closing,
        held: (work) => this.held(work),
      },
      pool,
      this.#index,
      this.#limits,
      batching,
      this.#attempts,
      taskBatches,
      this.#payloads,
      this.#forRelease,
    )
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
    await this.#readGroups()
    await this.#index.refill()
    await this.#deps.recheck()
  }

  /**
   * The groups' own settings changed (in this tab or another: `queue.groups.set`, `.pause`,
   * `.resume`): reads them again; the parked jobs of groups that changed go back to the index.
   */
  async groupsChanged(): Promise<void> {
    if (this.#closing) return
    await this.held(this.#readGroups())
    this.#loop.pump()
  }

  async #readGroups(): Promise<void> {
    const changed = await this.#groups.read()
    if (changed.size > 0) this.#limits.groupsChanged(changed)
  }

  /** Starts dispatching (and one worker, to learn the tasks). */
  start(): void {
    if (this.#closing) return
    this.#active = true
    if (this.#pool.manifest === undefined) this.#pool.grow(1)
    this.#loop.pump()
  }

  /** Stops taking new jobs; running ones go on. */
  pause(): void {
    this.#active = false
  }

  /** Takes a stored job into the index (and its data, when this tab added it). */
  enqueue(job: JobRecord, payload?: Payload): void {
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
    // Held for a batch: the newer view goes back through the index instead.
    this.#taskBatches.remove(job.id)
    // A newer view (a debounced add moved it, maybe with new data): what this tab held may be stale.
    if (payload) this.#payloads.set(job.id, payload)
    else if (known) this.#payloads.delete(job.id)
    this.#index.add(job)
    this.#loop.pump()
  }

  /**
   * A job that now waits for a signal (`ctx.waitFor`): one sent while it ran (stored, but after
   * its run read its steps, and while it was not yet `delayed` to be woken) wakes it now: the
   * signal op again, which wakes it only if it still waits for that signal.
   */
  #wakeIfSignalled(job: JobRecord): void {
    const { store, committer, changes } = this.#host
    const name = job.signal
    if (name === undefined || !store.steps) return
    void this.held(store.steps(job.id))
      .then(async (steps) => {
        if (steps === LOST || this.#closing) return
        const stored = steps[signalStep(name)] as { payload?: unknown } | undefined
        if (stored === undefined) return
        const written = await this.held(committer.write([{ op: 'signal', id: job.id, name, payload: stored.payload, at: Date.now() }]))
        if (written === LOST) return
        const woken = written[0]?.ok ? written[0].job : undefined
        if (!woken) return
        changes.publish({ event: 'requeued', job: woken }, 'here')
        this.enqueue(woken)
      })
      .catch((error: unknown) => this.#host.error(toError(error)))
  }

  /** A job ended elsewhere (cancelled in another tab, or by the queue): drop it, and move its dependents on. */
  forget(job: JobRecord): void {
    if (this.#attempts.has(job.id)) return
    this.#limits.unpark(job.id)
    this.#taskBatches.remove(job.id)
    this.#forRelease.delete(job.id)
    this.#index.remove(job.id)
    this.#payloads.delete(job.id)
    if (isFinal(job.status)) this.#deps.ended(job)
    this.#loop.checkIdle()
  }

  /** Nothing waiting, due or running. */
  isIdle(): boolean {
    return this.#loop.isIdle()
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
    const job = this.#index.get(id) ?? this.#limits.unpark(id) ?? this.#taskBatches.remove(id) ?? this.#forRelease.get(id)
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
    this.#loop.checkIdle()
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
    this.#taskBatches.clear()
    this.#pool.close()
    this.#limits.stop()
    this.#network.stop()
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
    // Jobs it holds that waited for a signal: another process may have sent it (and woken them).
    const waiting = this.#index.held((job) => job.status === 'delayed' && job.waitingFor === 'signal')
    if (waiting.length > 0) {
      for (const job of await this.#host.store.get(waiting.map((j) => j.id))) if (job?.status === 'waiting') this.enqueue(job)
    }
    await this.#readGroups()
    await this.#index.refill()
    await this.#deps.recheck()
    this.#loop.pump()
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
    this.#taskBatches.clear()
    for (const wake of [...this.#onAbandon]) wake()
    this.#onAbandon.clear()
    this.#pool.close()
    this.#limits.stop()
    this.#index.stop()
    this.#payloads.clear()
    return ids
  }
}
