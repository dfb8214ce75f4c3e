/**
 * The runner's code as one chunk, loaded on demand (queue/runner-code.ts): the dispatcher
 * with its loop, attempts, limits and batching, and the worker pool with Comlink. A page's
 * start never waits for it; a tab with a worker loads it as its queue opens.
 */
export { Dispatcher } from './dispatcher.js'
export { Pool } from '../pool/pool.js'
