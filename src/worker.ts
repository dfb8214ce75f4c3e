/**
 * offthread's entry inside a Web Worker: register the tasks a queue can run.
 *
 * @packageDocumentation
 */
import {
  compileTasks,
  inWorkerScope,
  resolveDefineTasksOptions,
  startRuntime,
  type DefineTasksOptions,
  type RuntimeEndpoint,
} from './worker/runtime.js'
import type { TaskMap } from './shared/types.js'

/**
 * Registers a worker module's task handlers with the pool (through Comlink)
 * and returns the map unchanged, so `typeof tasks` carries every task's input
 * and output types to `createQueue<typeof tasks>()`.
 *
 * Outside a worker (say, a module imported on the page for its types) it only
 * validates the map.
 *
 * @param handlers - task name to handler `(input, ctx) => result`, or to `{ handler, timeout?, retry?, priority? }`
 * @param options - `setup`: runs once per worker before its first job; its value is `ctx.state`.
 *   `middleware`: functions `(ctx, next) => result` run around every job, the first outermost
 * @returns `handlers`, unchanged
 *
 * @example
 * ```ts
 * import { defineTasks } from 'offthread/worker'
 * export const tasks = defineTasks({
 *   async resize(input: { image: Blob; width: number }, ctx) {
 *     ctx.progress(50)
 *     return await scale(input.image, input.width)
 *   },
 * })
 * export type Tasks = typeof tasks
 * ```
 */
export function defineTasks<const T extends TaskMap<S>, S = undefined>(handlers: T, options: DefineTasksOptions<S> = {}): T {
  const endpoint = (globalThis as { __offthreadEndpoint?: RuntimeEndpoint }).__offthreadEndpoint
  if (endpoint) startRuntime(handlers, options, endpoint)
  else if (inWorkerScope()) startRuntime(handlers, options, globalThis as unknown as RuntimeEndpoint)
  else {
    compileTasks(handlers)
    resolveDefineTasksOptions(options)
  }
  return handlers
}

export { RetryError, TimeoutError } from './shared/errors.js'
export type { DefineTasksOptions } from './worker/runtime.js'
export type { Middleware, MiddlewareContext, MiddlewareNext } from './worker/middleware.js'
export type {
  BatchContext,
  BatchHandler,
  BatchOptions,
  BatchTaskDefinition,
  JobLogger,
  LogEntry,
  Progress,
  TaskBatch,
  TaskContext,
  TaskDefinition,
  TaskHandler,
  TaskMap,
  TaskOptions,
} from './shared/types.js'
export type { RetryOptions, BackoffFunction, ErrorMatcher } from './shared/retry.js'
