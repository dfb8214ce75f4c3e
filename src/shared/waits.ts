/**
 * The durable waits of a handler (`ctx.sleep`, `ctx.waitFor`) as the store keeps them:
 * as steps of the job under reserved ids, so that every store that keeps steps keeps
 * them, and a job's delete takes them along. Shared by the worker (which reads and
 * writes them), the stores (a signal is a step) and the runner.
 */

/** The prefix of the step ids offthread keeps for itself: `ctx.step` and `ctx.sleep` refuse ids that start with it. */
export const RESERVED_STEP = 'offthread:'

/** The step id under which signal `name` sent to a job is stored: `{ payload }`. */
export const signalStep = (name: string): string => `${RESERVED_STEP}signal:${name}`

/** The step id of a `ctx.waitFor(name)`: `{ until, timedOut? }` (`until` null: no timeout). */
export const waitStep = (name: string): string => `${RESERVED_STEP}wait:${name}`

/** The `runAt` of a job that waits for a signal with no timeout: the last time a Date holds. */
export const FOREVER = 8.64e15

/** A signal name: a non-empty string of at most this many characters. */
export const MAX_SIGNAL_NAME = 200

/** Checks a signal name (`where` names the call in the error). */
export function checkSignalName(name: unknown, where: string): asserts name is string {
  if (typeof name !== 'string' || name === '' || name.length > MAX_SIGNAL_NAME) {
    throw new TypeError(
      `${where}: expected a signal name, a non-empty string of at most ${MAX_SIGNAL_NAME} characters, received ${typeof name === 'string' ? JSON.stringify(name.slice(0, 40)) : typeof name}`,
    )
  }
}
