/**
 * One worker of the pool: starts it, learns its tasks, sends it jobs, and
 * notices when it dies (an `error` event, or `self.close()` announced by the
 * runtime).
 */
import { transfer as comlinkTransfer, wrap, type Remote } from 'comlink'
import { WorkerError, serializeError } from '../shared/errors.js'
import type { SerializedError } from '../shared/types.js'
import { isWorkerMessage, type RunRequest, type WorkerApi, type WorkerManifest, type WorkerMessage } from '../shared/protocol.js'

/** What the `worker` factory may return: a Web Worker, or anything shaped like one. */
export interface WorkerLike {
  postMessage(message: unknown, transfer?: Transferable[]): void
  // `any`: a real Worker's listener types are overloads per event name.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  addEventListener(type: string, listener: (event: any) => void): void
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  removeEventListener(type: string, listener: (event: any) => void): void
  terminate(): unknown
}

/** What a pool worker tells its pool. */
export interface PoolWorkerEvents {
  message(worker: PoolWorker, message: WorkerMessage): void
  /** The worker died (or announced its exit); `error` says how. */
  died(worker: PoolWorker, error: SerializedError): void
}

/** How long a worker may take to load before it counts as failed. */
const START_TIMEOUT = 30_000

let nextWorkerId = 1

/** A started (or starting) worker and the one job it runs. */
export class PoolWorker {
  readonly id = nextWorkerId++
  /** The jobs sent to it and not yet reported done, in the order it runs them. */
  readonly jobs = new Set<string>()
  #worker: WorkerLike
  #remote: Remote<WorkerApi>
  #events: PoolWorkerEvents
  #dead = false
  #onMessage = (event: MessageEvent): void => {
    if (isWorkerMessage(event.data)) this.#events.message(this, event.data)
  }
  #onError = (event: Event): void => {
    const message = (event as ErrorEvent).message
    // `preventDefault` keeps an error we handle out of the page's console as "uncaught".
    event.preventDefault?.()
    this.#die(
      new WorkerError(
        message ? `The worker failed: ${message}` : 'The worker failed to load or crashed (no message; see the browser console for the script error)',
      ),
    )
  }
  #onMessageError = (): void => {
    this.#die(new WorkerError('A message from the worker could not be deserialized'))
  }
  /** Bun fires `close` when a worker's thread ends (`process.exit()` in it); browsers and Deno never do. */
  #onClose = (): void => {
    this.#die(new WorkerError('The worker exited (its thread ended)'))
  }

  constructor(factory: () => WorkerLike, events: PoolWorkerEvents) {
    this.#events = events
    this.#worker = factory()
    if (!this.#worker || typeof this.#worker.postMessage !== 'function') {
      throw new TypeError(`The "worker" factory must return a Worker, received ${String(this.#worker)}`)
    }
    this.#worker.addEventListener('message', this.#onMessage)
    this.#worker.addEventListener('error', this.#onError)
    this.#worker.addEventListener('messageerror', this.#onMessageError)
    this.#worker.addEventListener('close', this.#onClose)
    this.#remote = wrap<WorkerApi>(this.#worker)
  }

  get dead(): boolean {
    return this.#dead
  }

  /** Resolves with the module's tasks once it has loaded; rejects if it dies first. */
  start(): Promise<WorkerManifest> {
    return new Promise<WorkerManifest>((resolve, reject) => {
      const timer = setTimeout(() => this.#die(new WorkerError(`The worker did not load within ${START_TIMEOUT} ms`)), START_TIMEOUT)
      this.#startFailed = (error) => {
        clearTimeout(timer)
        reject(error)
      }
      Promise.resolve(this.#remote.manifest()).then(
        (manifest) => {
          clearTimeout(timer)
          this.#startFailed = undefined
          if (!manifest || typeof manifest !== 'object' || !manifest.tasks) {
            reject(new WorkerError('The worker module did not call defineTasks()'))
          } else resolve(manifest)
        },
        (error: unknown) => {
          clearTimeout(timer)
          reject(new WorkerError('The worker module did not call defineTasks()', { cause: error }))
        },
      )
    })
  }

  #startFailed: ((error: Error) => void) | undefined

  /**
   * Sends jobs to run one after another; their outcomes arrive in `done` messages. With
   * `batch`, they are one batch of a batch task: one call of its handler.
   */
  run(requests: RunRequest[], transfer: Transferable[], batch = false): void {
    for (const request of requests) this.jobs.add(request.id)
    const list = transfer.length > 0 ? comlinkTransfer(requests, transfer) : requests
    const call = batch ? this.#remote.run(list, true) : this.#remote.run(list)
    Promise.resolve(call).catch((error: unknown) => this.#die(new WorkerError('The worker refused the job', { cause: error })))
  }

  /** Aborts the running job's signal. */
  abort(jobId: string, reason: Error): void {
    if (this.#dead) return
    void Promise.resolve(this.#remote.abort(jobId, serializeError(reason))).catch(() => undefined)
  }

  /** Answers a `step` message: the step's result is stored (or, with `error`, is not). */
  stepStored(seq: number, error?: Error): void {
    if (this.#dead) return
    void Promise.resolve(this.#remote.stepStored(seq, error && serializeError(error))).catch(() => undefined)
  }

  /** Stops the worker at once. No `died` event follows. */
  terminate(): void {
    if (this.#dead) return
    this.#dead = true
    this.#detach()
    this.#startFailed?.(new WorkerError('The worker was terminated while starting'))
    void this.#worker.terminate()
  }

  /** The runtime said it is closing (`self.close()`). */
  exited(): void {
    this.#die(new WorkerError('The worker closed itself (self.close())'))
  }

  #die(error: WorkerError): void {
    if (this.#dead) return
    this.#dead = true
    this.#detach()
    void this.#worker.terminate()
    if (this.#startFailed) this.#startFailed(error)
    else this.#events.died(this, serializeError(error))
  }

  #detach(): void {
    this.#worker.removeEventListener('message', this.#onMessage)
    this.#worker.removeEventListener('error', this.#onError)
    this.#worker.removeEventListener('messageerror', this.#onMessageError)
    this.#worker.removeEventListener('close', this.#onClose)
  }
}
