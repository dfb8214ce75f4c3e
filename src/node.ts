/// <reference types="node" />
/**
 * offthread on Node: `nodeWorker(url)` starts a worker module in a
 * `worker_threads` thread and wraps it in the Web-Worker-like shape the pool
 * expects, so `createQueue({ worker: () => nodeWorker(url) })` runs jobs off
 * the main thread as it does in a browser.
 *
 * @packageDocumentation
 */
import { Worker } from 'node:worker_threads'
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'
import type { WorkerLike } from './pool/pool-worker.js'
import type { BootstrapData } from './node-bootstrap.js'

/** Options of {@link nodeWorker}: a subset of `worker_threads`' `WorkerOptions`. */
export interface NodeWorkerOptions {
  /** The thread's name (shown in debuggers). */
  name?: string
  /** The thread's `process.env`; defaults to a copy of the parent's. */
  env?: Record<string, string | undefined>
  /** Node CLI options for the thread; defaults to the parent's (less `--input-type`). */
  execArgv?: string[]
  /** V8 heap limits for the thread (MB). */
  resourceLimits?: { maxYoungGenerationSizeMb?: number; maxOldGenerationSizeMb?: number; codeRangeSizeMb?: number; stackSizeMb?: number }
  /**
   * Let the process exit while the thread is alive (as `worker.unref()`).
   * @defaultValue false: the thread keeps the process running until the queue closes
   */
  unref?: boolean
}

/** The Web-Worker-like object {@link nodeWorker} returns. */
export interface NodeWorker extends WorkerLike {
  postMessage(message: unknown, transfer?: Transferable[]): void
  addEventListener(type: 'message' | 'messageerror' | 'error' | (string & {}), listener: (event: NodeWorkerEvent) => void): void
  removeEventListener(type: string, listener: (event: NodeWorkerEvent) => void): void
  /** Stops the thread at once, even in the middle of synchronous code. */
  terminate(): Promise<number>
  /** The underlying `worker_threads` Worker's thread id. */
  readonly threadId: number
}

/** An event of a {@link NodeWorker}: `data` on `message`, `message` and `error` on `error`. */
export interface NodeWorkerEvent {
  type: string
  data?: unknown
  message?: string
  error?: unknown
  preventDefault(): void
}

const BOOTSTRAP = new URL('./node-bootstrap.js', import.meta.url)

/** A URL, or a path (relative to the current directory), as a URL string. */
function toModuleUrl(url: URL | string): string {
  if (url instanceof URL) return url.href
  if (/^(file|data):/.test(url)) return url
  return pathToFileURL(resolve(url)).href
}

/**
 * The parent's CLI options, as a thread inherits them by default, less
 * `--input-type` (`node --input-type=module -e …`): with it, Node refuses to
 * start a thread from a file.
 */
function inheritedExecArgv(): string[] {
  const out: string[] = []
  const args = process.execArgv
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    if (arg.startsWith('--input-type=')) continue
    if (arg === '--input-type') {
      i++
      continue
    }
    out.push(arg)
  }
  return out
}

/**
 * Starts worker module `url` (one that calls `defineTasks` from
 * `offthread/worker`, written in JS Node can load) in a new thread.
 *
 * The thread ending on its own (`process.exit()` in it, an uncaught error)
 * is reported as an `error` event, so the pool fails or retries the job that
 * was running.
 *
 * @example
 * ```js
 * import { createQueue, memoryStore } from 'offthread'
 * import { nodeWorker } from 'offthread/node'
 * const queue = createQueue({
 *   store: memoryStore(),
 *   worker: () => nodeWorker(new URL('./tasks.worker.js', import.meta.url)),
 * })
 * ```
 */
export function nodeWorker(url: URL | string, options: NodeWorkerOptions = {}): NodeWorker {
  const { unref, execArgv = inheritedExecArgv(), ...rest } = options
  const data: BootstrapData = { url: toModuleUrl(url) }
  const thread = new Worker(BOOTSTRAP, { ...rest, execArgv, workerData: data })
  if (unref) thread.unref()

  const listeners = new Map<string, Set<(event: NodeWorkerEvent) => void>>()
  const emit = (type: string, fields: Partial<NodeWorkerEvent>): void => {
    const set = listeners.get(type)
    if (!set) return
    const event: NodeWorkerEvent = { type, ...fields, preventDefault() {} }
    for (const listener of [...set]) listener(event)
  }
  let ended = false

  thread.on('message', (value: unknown) => emit('message', { data: value }))
  thread.on('messageerror', (error: unknown) => emit('messageerror', { error }))
  thread.on('error', (error: unknown) => {
    if (ended) return
    ended = true
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    emit('error', { message, error })
  })
  thread.on('exit', (code: number) => {
    if (ended) return
    ended = true
    emit('error', { message: `The worker thread exited (code ${code})` })
  })

  return {
    get threadId() {
      return thread.threadId
    },
    postMessage(message, transfer) {
      thread.postMessage(message, transfer as never)
    },
    addEventListener(type, listener) {
      let set = listeners.get(type)
      if (!set) listeners.set(type, (set = new Set()))
      set.add(listener)
    },
    removeEventListener(type, listener) {
      listeners.get(type)?.delete(listener)
    },
    terminate() {
      ended = true
      return thread.terminate()
    },
  }
}
