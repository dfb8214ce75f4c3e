/**
 * Middleware around a worker module's handlers, composed like Koa's onion: the
 * first listed runs outermost. Each can change the input on its way in, the
 * result on its way out, see errors, or answer without calling the handler.
 */
import { invalidOption } from '../shared/options.js'
import type { TaskContext, TaskHandler } from '../shared/types.js'

/**
 * What a middleware gets as its first argument: the job's context, plus the
 * input as it reaches this middleware.
 *
 * @typeParam S - what the worker's `setup()` returned (`ctx.state`)
 */
export interface MiddlewareContext<S = unknown> extends TaskContext<S> {
  /**
   * The input as this middleware received it: the job's data, or what an outer
   * middleware passed to `next(input)`. Read-only: pass a new input to `next`.
   */
  readonly input: unknown
}

/**
 * Runs the rest of the chain (the next middleware, and the handler last) and
 * resolves to its result, or rejects with its error. `next()` passes the current
 * input on; `next(input)` replaces it (even with `undefined`). Call it at most once.
 */
export type MiddlewareNext = (input?: unknown) => Promise<unknown>

/**
 * A function run around every job of a worker module (`defineTasks(…, {
 * middleware })`). What it returns (or resolves to) is the job's result, so a
 * middleware that only observes returns what `next()` resolved to; one that
 * returns without calling `next` answers in the handler's place.
 *
 * @typeParam S - what the worker's `setup()` returned; a middleware typed with
 * the default `unknown` fits any module
 *
 * @example
 * ```ts
 * const timing: Middleware = async (ctx, next) => {
 *   const start = performance.now()
 *   try {
 *     return await next()
 *   } catch (error) {
 *     ctx.log.error('failed', { name: ctx.name, error: String(error) })
 *     throw error
 *   } finally {
 *     ctx.log.info('took', { ms: performance.now() - start })
 *   }
 * }
 * ```
 */
export type Middleware<S = unknown> = (ctx: MiddlewareContext<S>, next: MiddlewareNext) => unknown | Promise<unknown>

/**
 * Checks a `middleware` option: undefined, or an array of functions.
 *
 * @returns a copy of the list (later changes to the caller's array do not apply)
 */
export function validateMiddleware<S>(value: unknown): Array<Middleware<S>> {
  if (value === undefined) return []
  if (!Array.isArray(value)) throw invalidOption('middleware', 'an array of functions', value)
  value.forEach((item: unknown, index) => {
    if (typeof item !== 'function') throw invalidOption(`middleware[${index}]`, 'a function', item)
  })
  return [...(value as Array<Middleware<S>>)]
}

/**
 * Wraps `handler` in `middleware`, the first outermost. Without middleware it
 * returns `handler` itself, so a module without middleware runs as before.
 */
export function composeMiddleware<S>(middleware: ReadonlyArray<Middleware<S>>, handler: TaskHandler): TaskHandler {
  if (middleware.length === 0) return handler
  return (data: unknown, ctx: TaskContext<S>) => {
    const dispatch = async (index: number, input: unknown): Promise<unknown> => {
      const layer = middleware[index]
      if (layer === undefined) return await handler(input, ctx)
      let called = false
      const next: MiddlewareNext = (...args: unknown[]) => {
        if (called) return Promise.reject(new Error(`middleware[${index}] called next() more than once`))
        called = true
        return dispatch(index + 1, args.length === 0 ? input : args[0])
      }
      return await layer(Object.freeze({ ...ctx, input }), next)
    }
    return dispatch(0, data)
  }
}
