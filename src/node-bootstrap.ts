/// <reference types="node" />
/**
 * The first module of every thread `nodeWorker()` starts: it gives
 * `defineTasks` a Comlink endpoint over `parentPort` (Node threads have no
 * worker global scope to expose on), then loads the user's worker module.
 */
import { parentPort, workerData } from 'node:worker_threads'
import nodeEndpoint, { type NodeEndpoint } from 'comlink/dist/esm/node-adapter.mjs'

/** What `nodeWorker()` passes to the thread. */
export interface BootstrapData {
  /** The user's worker module, as a `file:` (or `data:`) URL. */
  url: string
}

if (!parentPort) throw new Error('offthread/node: the bootstrap must run in a worker thread started by nodeWorker()')
const data = workerData as BootstrapData
;(globalThis as { __offthreadEndpoint?: unknown }).__offthreadEndpoint = nodeEndpoint(parentPort as unknown as NodeEndpoint)
// A failed import throws here: the thread's `error` event carries it to the pool.
await import(data.url)
