/**
 * The worker pool: spawns up to `size` workers, hands out idle ones, replaces
 * dead or terminated ones, and backs off when the worker script cannot start.
 */
import { WorkerError } from '../shared/errors.js'
import { clearLongTimeout, setLongTimeout } from '../shared/timers.js'
import type { SerializedError } from '../shared/types.js'
import { PoolWorker, type WorkerLike } from './pool-worker.js'
import { MESSAGE_TAG, type WorkerManifest, type WorkerMessage } from '../shared/protocol.js'

export type { WorkerLike } from './pool-worker.js'
export { PoolWorker } from './pool-worker.js'

/** What the pool tells the dispatcher. */
export interface PoolEvents {
  /** A worker is free: dispatch. */
  available(): void
  /** Progress, logs, heartbeats and outcomes of running jobs. */
  message(worker: PoolWorker, message: WorkerMessage): void
  /** A worker died with `jobs` sent to it and not reported done (in the order it ran them). */
  crashed(jobs: string[], error: SerializedError): void
  /** A worker could not start; the pool tries again after a pause. */
  error(error: Error): void
}

const RESTART_BASE = 250
const RESTART_MAX = 30_000

/** A pool of up to `size` workers made by `factory`. */
export class Pool {
  readonly size: number
  #factory: () => WorkerLike
  #events: PoolEvents
  #idle: PoolWorker[] = []
  #busy = new Set<PoolWorker>()
  #starting = 0
  #failures = 0
  #retryTimer: ReturnType<typeof setTimeout> | undefined
  #closed = false
  #manifest: WorkerManifest | undefined
  #manifestWaiters: Array<(manifest: WorkerManifest | undefined) => void> = []

  /**
   * @param events - until {@link attach}: only `error` is told (a pool that only loads its
   *   first worker, to learn the tasks, runs no job)
   */
  constructor(factory: () => WorkerLike, size: number, events: Pick<PoolEvents, 'error'>) {
    this.#factory = factory
    this.size = size
    this.#events = { available: () => undefined, message: () => undefined, crashed: () => undefined, ...events }
  }

  /** Hands the pool to its dispatcher: from now on it hears everything. */
  attach(events: PoolEvents): void {
    this.#events = events
    if (this.#idle.length > 0) events.available()
  }

  /** Whether its last worker failed to start (the pool tries again after a pause). */
  get failing(): boolean {
    return this.#failures > 0
  }

  /** Whether the pool is closed (it starts no more workers). */
  get closed(): boolean {
    return this.#closed
  }

  /** The tasks the worker module defines, once a worker has loaded. */
  get manifest(): WorkerManifest | undefined {
    return this.#manifest
  }

  /**
   * Resolves with the manifest once known; with undefined if a worker fails to
   * start first, at once while the worker script is failing, and after
   * `within` ms at most (a module that never finishes loading).
   */
  whenManifest(within = Infinity): Promise<WorkerManifest | undefined> {
    if (this.#manifest) return Promise.resolve(this.#manifest)
    if (this.#closed || this.#failures > 0) return Promise.resolve(undefined)
    if (this.#total() === 0) this.grow(1)
    return new Promise((resolve) => {
      const timer = setLongTimeout(() => resolve(undefined), within)
      this.#manifestWaiters.push((manifest) => {
        clearLongTimeout(timer)
        resolve(manifest)
      })
    })
  }

  /** Workers running or starting. */
  get busyCount(): number {
    return this.#busy.size
  }

  /** Takes an idle worker, or undefined (and starts more, up to `wanted` more jobs' worth). */
  acquire(): PoolWorker | undefined {
    const worker = this.#idle.pop()
    if (worker) this.#busy.add(worker)
    return worker
  }

  /** Gives a worker back after its job; it takes the next one. */
  release(worker: PoolWorker): void {
    worker.jobs.clear()
    if (!this.#busy.delete(worker)) return
    if (worker.dead || this.#closed) return
    this.#idle.push(worker)
    this.#events.available()
  }

  /** Starts workers so that `wanted` more jobs can run, within `size`. */
  grow(wanted: number): void {
    if (this.#closed || this.#retryTimer !== undefined) return
    const room = this.size - this.#total()
    const more = Math.min(room, wanted - this.#idle.length - this.#starting)
    // While the script keeps failing, try one worker at a time.
    const count = this.#failures > 0 ? Math.min(more, this.#starting === 0 ? 1 : 0) : more
    for (let i = 0; i < count; i++) this.#spawn()
  }

  /** Kills the worker (a hung job), and starts another in its place. */
  terminate(worker: PoolWorker): void {
    worker.terminate()
    this.#busy.delete(worker)
    this.#idle = this.#idle.filter((w) => w !== worker)
    if (!this.#closed) this.#events.available()
  }

  /** Terminates every worker; the pool starts no more. */
  close(): void {
    this.#closed = true
    clearTimeout(this.#retryTimer)
    for (const worker of [...this.#idle, ...this.#busy]) worker.terminate()
    this.#idle = []
    this.#busy.clear()
    for (const resolve of this.#manifestWaiters.splice(0)) resolve(undefined)
  }

  #total(): number {
    return this.#idle.length + this.#busy.size + this.#starting
  }

  #spawn(): void {
    let worker: PoolWorker
    this.#starting++
    try {
      worker = new PoolWorker(this.#factory, {
        message: (w, message) => {
          if (message[MESSAGE_TAG] === 'exit') w.exited()
          else this.#events.message(w, message)
        },
        died: (w, error) => this.#died(w, error),
      })
    } catch (error) {
      this.#starting--
      this.#startFailed(error instanceof Error ? error : new WorkerError(String(error)))
      return
    }
    worker.start().then(
      (manifest) => {
        this.#starting--
        this.#failures = 0
        if (this.#closed) {
          worker.terminate()
          return
        }
        if (!this.#manifest) {
          this.#manifest = manifest
          for (const resolve of this.#manifestWaiters.splice(0)) resolve(manifest)
        }
        this.#idle.push(worker)
        this.#events.available()
      },
      (error: Error) => {
        this.#starting--
        worker.terminate()
        if (!this.#closed) this.#startFailed(error)
      },
    )
  }

  #startFailed(error: Error): void {
    this.#failures++
    const wait = Math.min(RESTART_MAX, RESTART_BASE * 2 ** (this.#failures - 1))
    for (const resolve of this.#manifestWaiters.splice(0)) resolve(undefined)
    this.#events.error(
      new WorkerError(`A worker could not start (attempt ${this.#failures}); trying again in ${wait} ms: ${error.message}`, {
        cause: error,
      }),
    )
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined
      this.#events.available()
    }, wait)
  }

  #died(worker: PoolWorker, error: SerializedError): void {
    const jobs = [...worker.jobs]
    worker.jobs.clear()
    this.#busy.delete(worker)
    this.#idle = this.#idle.filter((w) => w !== worker)
    if (jobs.length > 0) this.#events.crashed(jobs, error)
    if (!this.#closed) this.#events.available()
  }
}
