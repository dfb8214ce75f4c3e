import { describe, expect, it } from 'vitest'
import { WORKER_FUNCTION, backoffDelay, decideRetry, type RetryOptions } from '../../src/shared/retry.js'

const boom = new Error('boom')

function namedError(name: string, code?: string | number): Error {
  const error = new Error(`${name} happened`)
  error.name = name
  if (code !== undefined) Object.assign(error, { code })
  return error
}

/** A `random()` that returns the given values in turn. */
function sequence(...values: number[]): () => number {
  let i = 0
  return () => values[i++ % values.length] as number
}

describe('backoffDelay', () => {
  it('fixed backoff waits the base delay on every attempt', () => {
    const policy: RetryOptions = { backoff: 'fixed', delay: 300, jitter: false }
    expect([1, 2, 3, 7].map((a) => backoffDelay(policy, a, boom))).toEqual([300, 300, 300, 300])
  })

  it('defaults to a fixed 1000 ms wait', () => {
    expect(backoffDelay({ jitter: false }, 3, boom)).toBe(1000)
    expect(backoffDelay(undefined, 1, boom, undefined, () => 0.999999)).toBe(1000)
  })

  it('linear backoff multiplies the delay by the attempt', () => {
    const policy: RetryOptions = { backoff: 'linear', delay: 100, jitter: false }
    expect([1, 2, 3, 4].map((a) => backoffDelay(policy, a, boom))).toEqual([100, 200, 300, 400])
  })

  it('exponential backoff doubles the delay and is capped by maxDelay', () => {
    const policy: RetryOptions = { backoff: 'exponential', delay: 100, jitter: false }
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(policy, a, boom))).toEqual([100, 200, 400, 800, 1600])
    const capped = { ...policy, maxDelay: 500 }
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(capped, a, boom))).toEqual([100, 200, 400, 500, 500])
  })

  it('a custom backoff function gets the attempt and the error, and its result is used without jitter', () => {
    const calls: Array<[number, Error]> = []
    const policy: RetryOptions = {
      backoff: (attempt, error) => {
        calls.push([attempt, error])
        return attempt * 7
      },
      // jitter stays at its default (true): custom functions decide their own spread
    }
    expect(backoffDelay(policy, 3, boom, undefined, () => 0)).toBe(21)
    expect(calls).toEqual([[3, boom]])
  })

  it('maxDelay caps a custom backoff function too', () => {
    expect(backoffDelay({ backoff: () => 10_000, maxDelay: 2500 }, 1, boom)).toBe(2500)
  })

  it('a custom backoff that returns a negative or non-finite number waits 0 ms', () => {
    expect(backoffDelay({ backoff: () => -50 }, 1, boom)).toBe(0)
    expect(backoffDelay({ backoff: () => Number.NaN }, 1, boom)).toBe(0)
    expect(backoffDelay({ backoff: () => Infinity }, 1, boom)).toBe(0)
  })

  it('jitter spreads the wait between half and all of it', () => {
    const policy: RetryOptions = { backoff: 'fixed', delay: 1000, jitter: true }
    expect(backoffDelay(policy, 1, boom, undefined, () => 0)).toBe(500)
    expect(backoffDelay(policy, 1, boom, undefined, () => 0.5)).toBe(750)
    expect(backoffDelay(policy, 1, boom, undefined, () => 0.999999)).toBe(1000)
    const random = sequence(0.13, 0.42, 0.77, 0.01, 0.99)
    for (let i = 0; i < 20; i++) {
      const wait = backoffDelay(policy, 1, boom, undefined, random)
      expect(wait).toBeGreaterThanOrEqual(500)
      expect(wait).toBeLessThanOrEqual(1000)
    }
  })

  it('jitter applies after the maxDelay cap', () => {
    const policy: RetryOptions = { backoff: 'exponential', delay: 1000, maxDelay: 3000, jitter: true }
    // attempt 5 would be 16 000 ms; capped at 3000, then jittered into [1500, 3000]
    expect(backoffDelay(policy, 5, boom, undefined, () => 0)).toBe(1500)
    expect(backoffDelay(policy, 5, boom, undefined, () => 0.999999)).toBe(3000)
  })

  it('a WORKER_FUNCTION backoff uses the wait the worker computed, without jitter', () => {
    const policy = { backoff: WORKER_FUNCTION, delay: 100 } as unknown as RetryOptions
    expect(backoffDelay(policy, 2, boom, { backoff: 4321 }, () => 0)).toBe(4321)
    // no hint: falls back to the base delay
    expect(backoffDelay(policy, 2, boom, undefined, () => 0)).toBe(100)
  })
})

describe('decideRetry', () => {
  it('does not retry by default: attempts is 1', () => {
    expect(decideRetry(undefined, 1, boom)).toEqual({ retry: false })
    expect(decideRetry({}, 1, boom)).toEqual({ retry: false })
  })

  it('attempts counts runs: retries until the attempt number reaches attempts', () => {
    const policy: RetryOptions = { attempts: 3, delay: 10, jitter: false }
    expect(decideRetry(policy, 1, boom)).toEqual({ retry: true, delay: 10 })
    expect(decideRetry(policy, 2, boom)).toEqual({ retry: true, delay: 10 })
    expect(decideRetry(policy, 3, boom)).toEqual({ retry: false })
    expect(decideRetry(policy, 4, boom)).toEqual({ retry: false })
  })

  it('the delay of a retry follows the backoff and the injected random', () => {
    const policy: RetryOptions = { attempts: 5, backoff: 'exponential', delay: 100 }
    expect(decideRetry(policy, 3, boom, { random: () => 0 })).toEqual({ retry: true, delay: 200 })
    expect(decideRetry(policy, 3, boom, { random: () => 0.999999 })).toEqual({ retry: true, delay: 400 })
  })

  it('retryOn by error name retries only matching errors', () => {
    const policy: RetryOptions = { attempts: 3, retryOn: ['NetworkError'], jitter: false, delay: 5 }
    expect(decideRetry(policy, 1, namedError('NetworkError'))).toEqual({ retry: true, delay: 5 })
    expect(decideRetry(policy, 1, namedError('TypeError'))).toEqual({ retry: false })
  })

  it('retryOn matches an error by its code, string or number', () => {
    const policy: RetryOptions = { attempts: 3, retryOn: ['ECONNRESET', '503'], jitter: false, delay: 5 }
    expect(decideRetry(policy, 1, namedError('Error', 'ECONNRESET'))).toEqual({ retry: true, delay: 5 })
    expect(decideRetry(policy, 1, namedError('Error', 503))).toEqual({ retry: true, delay: 5 })
    expect(decideRetry(policy, 1, namedError('Error', 'EPERM'))).toEqual({ retry: false })
    expect(decideRetry(policy, 1, namedError('Error'))).toEqual({ retry: false })
  })

  it('retryOn as a predicate decides from the error', () => {
    const seen: Error[] = []
    const policy: RetryOptions = {
      attempts: 3,
      jitter: false,
      delay: 5,
      retryOn: (error) => {
        seen.push(error)
        return error.message.includes('transient')
      },
    }
    const transient = new Error('transient glitch')
    expect(decideRetry(policy, 1, transient)).toEqual({ retry: true, delay: 5 })
    expect(decideRetry(policy, 1, new Error('permanent'))).toEqual({ retry: false })
    expect(seen[0]).toBe(transient)
  })

  it('noRetryOn by name, by code and by predicate stops retries of matching errors only', () => {
    const base: RetryOptions = { attempts: 3, jitter: false, delay: 5 }
    expect(decideRetry({ ...base, noRetryOn: ['ValidationError'] }, 1, namedError('ValidationError'))).toEqual({
      retry: false,
    })
    expect(decideRetry({ ...base, noRetryOn: ['ValidationError'] }, 1, namedError('OtherError'))).toEqual({
      retry: true,
      delay: 5,
    })
    expect(decideRetry({ ...base, noRetryOn: ['E_FATAL'] }, 1, namedError('Error', 'E_FATAL'))).toEqual({
      retry: false,
    })
    expect(decideRetry({ ...base, noRetryOn: (e) => e.message === 'fatal' }, 1, new Error('fatal'))).toEqual({
      retry: false,
    })
    expect(decideRetry({ ...base, noRetryOn: (e) => e.message === 'fatal' }, 1, new Error('meh'))).toEqual({
      retry: true,
      delay: 5,
    })
  })

  it('noRetryOn wins over retryOn when both match', () => {
    const policy: RetryOptions = { attempts: 3, retryOn: ['HttpError'], noRetryOn: ['E404'], jitter: false, delay: 5 }
    expect(decideRetry(policy, 1, namedError('HttpError', 'E404'))).toEqual({ retry: false })
    expect(decideRetry(policy, 1, namedError('HttpError', 'E503'))).toEqual({ retry: true, delay: 5 })
  })

  it('ctx.retry() (requested) bypasses retryOn and noRetryOn', () => {
    const policy: RetryOptions = {
      attempts: 3,
      retryOn: ['NeverThrown'],
      noRetryOn: ['RetryError'],
      jitter: false,
      delay: 40,
    }
    const error = namedError('RetryError', 'ERR_RETRY')
    expect(decideRetry(policy, 1, error)).toEqual({ retry: false })
    expect(decideRetry(policy, 1, error, { requested: {} })).toEqual({ retry: true, delay: 40 })
  })

  it('ctx.retry() (requested) is still bounded by attempts', () => {
    expect(decideRetry({ attempts: 2 }, 2, boom, { requested: { delay: 0 } })).toEqual({ retry: false })
    expect(decideRetry(undefined, 1, boom, { requested: { delay: 10 } })).toEqual({ retry: false })
  })

  it('a requested delay is used instead of the backoff, never below 0', () => {
    const policy: RetryOptions = { attempts: 3, backoff: 'exponential', delay: 1000 }
    expect(decideRetry(policy, 2, boom, { requested: { delay: 123 }, random: () => 0 })).toEqual({
      retry: true,
      delay: 123,
    })
    expect(decideRetry(policy, 2, boom, { requested: { delay: -5 } })).toEqual({ retry: true, delay: 0 })
    // no requested delay: the backoff applies
    expect(decideRetry(policy, 2, boom, { requested: {}, random: () => 0 })).toEqual({ retry: true, delay: 1000 })
  })

  it('WORKER_FUNCTION matchers are answered by the hints the worker sent', () => {
    const policy = {
      attempts: 3,
      jitter: false,
      delay: 5,
      retryOn: WORKER_FUNCTION,
    } as unknown as RetryOptions
    expect(decideRetry(policy, 1, boom, { hints: { retryOn: true } })).toEqual({ retry: true, delay: 5 })
    expect(decideRetry(policy, 1, boom, { hints: { retryOn: false } })).toEqual({ retry: false })
    // a matcher that could not be evaluated does not match
    expect(decideRetry(policy, 1, boom)).toEqual({ retry: false })

    const never = { attempts: 3, jitter: false, delay: 5, noRetryOn: WORKER_FUNCTION } as unknown as RetryOptions
    expect(decideRetry(never, 1, boom, { hints: { noRetryOn: true } })).toEqual({ retry: false })
    expect(decideRetry(never, 1, boom, { hints: { noRetryOn: false } })).toEqual({ retry: true, delay: 5 })
    expect(decideRetry(never, 1, boom)).toEqual({ retry: true, delay: 5 })
  })

  it('a WORKER_FUNCTION backoff takes its delay from the hints', () => {
    const policy = { attempts: 3, backoff: WORKER_FUNCTION, delay: 5 } as unknown as RetryOptions
    expect(decideRetry(policy, 1, boom, { hints: { backoff: 777 }, random: () => 0 })).toEqual({
      retry: true,
      delay: 777,
    })
  })
})
