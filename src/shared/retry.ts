/**
 * Retry policy: backoff strategies and the decision whether a failed attempt
 * runs again, and when.
 */

/** Matches errors by `name` (or `code`), or by a predicate. */
export type ErrorMatcher = readonly string[] | ((error: Error) => boolean)

/** A custom backoff: milliseconds to wait before the next attempt. */
export type BackoffFunction = (attempt: number, error: Error) => number

/** The `retry` option of a job. */
export interface RetryOptions {
  /**
   * Total runs allowed, the first one included.
   * @defaultValue 1
   */
  attempts?: number
  /**
   * How the wait grows: `fixed` = delay, `linear` = delay × attempt,
   * `exponential` = delay × 2^(attempt − 1), or a function.
   * @defaultValue 'fixed'
   */
  backoff?: 'fixed' | 'exponential' | 'linear' | BackoffFunction
  /**
   * Base wait in ms.
   * @defaultValue 1000
   */
  delay?: number
  /**
   * Upper bound of the wait in ms.
   * @defaultValue none
   */
  maxDelay?: number
  /**
   * Randomise each wait between half and all of it, so retries of many jobs spread out.
   * @defaultValue true
   */
  jitter?: boolean
  /**
   * Retry only errors that match (by `name` or `code`, or a predicate).
   * @defaultValue every error
   */
  retryOn?: ErrorMatcher
  /**
   * Never retry errors that match; wins over `retryOn`.
   * @defaultValue none
   */
  noRetryOn?: ErrorMatcher
}

/** Defaults of {@link RetryOptions}. */
export const RETRY_DEFAULTS = Object.freeze({
  attempts: 1,
  backoff: 'fixed' as const,
  delay: 1000,
  jitter: true,
})

/**
 * What the worker worked out for a task-level option that is a function (the
 * main thread cannot call it: it lives in the worker module).
 */
export interface RetryHints {
  retryOn?: boolean
  noRetryOn?: boolean
  backoff?: number
}

/** Where a retry option came from, for options that may be functions only the worker can call. */
export const WORKER_FUNCTION = '[worker function]'

/** The outcome of {@link decideRetry}. */
export type RetryDecision = { retry: false } | { retry: true; delay: number }

/**
 * Decides whether attempt `attempt` (1-based), which failed with `error`, runs again.
 *
 * @param policy - the merged policy; `WORKER_FUNCTION` markers are read from `hints`
 * @param requested - set when the handler threw `ctx.retry()`
 */
export function decideRetry(
  policy: RetryOptions | undefined,
  attempt: number,
  error: Error,
  options: { requested?: { delay?: number } | undefined; hints?: RetryHints | undefined; random?: () => number } = {},
): RetryDecision {
  const attempts = policy?.attempts ?? RETRY_DEFAULTS.attempts
  if (attempt >= attempts) return { retry: false }
  const { requested, hints } = options
  if (!requested) {
    if (policy?.noRetryOn !== undefined && matches(policy.noRetryOn, error, hints?.noRetryOn)) return { retry: false }
    if (policy?.retryOn !== undefined && !matches(policy.retryOn, error, hints?.retryOn)) return { retry: false }
  }
  if (requested?.delay !== undefined) return { retry: true, delay: Math.max(0, requested.delay) }
  return { retry: true, delay: backoffDelay(policy, attempt, error, hints, options.random) }
}

/** The wait before the attempt after `attempt`, with `maxDelay` and jitter applied. */
export function backoffDelay(
  policy: RetryOptions | undefined,
  attempt: number,
  error: Error,
  hints?: RetryHints,
  random: () => number = Math.random,
): number {
  const base = policy?.delay ?? RETRY_DEFAULTS.delay
  const backoff = policy?.backoff ?? RETRY_DEFAULTS.backoff
  let wait: number
  if (typeof backoff === 'function') wait = backoff(attempt, error)
  else if ((backoff as string) === WORKER_FUNCTION) wait = hints?.backoff ?? base
  else if (backoff === 'exponential') wait = base * 2 ** (attempt - 1)
  else if (backoff === 'linear') wait = base * attempt
  else wait = base
  if (!Number.isFinite(wait) || wait < 0) wait = 0
  if (policy?.maxDelay !== undefined) wait = Math.min(wait, policy.maxDelay)
  // Custom functions decide their own spread.
  if ((policy?.jitter ?? RETRY_DEFAULTS.jitter) && typeof backoff === 'string' && (backoff as string) !== WORKER_FUNCTION) {
    wait = wait / 2 + (random() * wait) / 2
  }
  return Math.round(wait)
}

function matches(matcher: ErrorMatcher, error: Error, hint: boolean | undefined): boolean {
  if (typeof matcher === 'function') return Boolean(matcher(error))
  if ((matcher as unknown) === WORKER_FUNCTION) return hint ?? false
  const code = (error as { code?: unknown }).code
  return matcher.includes(error.name) || (code !== undefined && matcher.includes(String(code)))
}
