import { afterEach, describe, expect, it, vi } from 'vitest'
import { mergeRetry, resolveJobOptions, resolveRetry, resolveTaskOptions } from '../../src/shared/options.js'
import { DEFAULTS, resolveQueueOptions } from '../../src/queue/options.js'
import { RETRY_DEFAULTS, WORKER_FUNCTION } from '../../src/shared/retry.js'
import { memoryStore } from '../../src/store/memory-store.js'

const NOW = 1_700_000_000_000

/** Runs `fn`, expects it to throw, and returns the error. */
function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected the call to throw')
}

/** Asserts an option error: its class, and a message naming the option, the expected and the received value. */
function expectOptionError(fn: () => unknown, Kind: typeof TypeError | typeof RangeError, option: string, expected: string, received: string): void {
  const error = thrown(fn)
  expect(error).toBeInstanceOf(Kind)
  // RangeError is not a TypeError and vice versa: the kind is exact
  expect(error.constructor).toBe(Kind)
  expect(error.message).toBe(`Invalid option "${option}": expected ${expected}, received ${received}`)
}

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('resolveQueueOptions', () => {
  it('fills every default when called without options', () => {
    vi.stubGlobal('navigator', undefined)
    const resolved = resolveQueueOptions(undefined)
    expect(resolved).toEqual({
      name: 'default',
      worker: undefined,
      concurrency: 1,
      store: undefined,
      defaults: {},
      retention: {
        completed: { age: 24 * 3_600_000, count: 1000 },
        failed: { age: 7 * 24 * 3_600_000 },
        cancelled: { age: 7 * 24 * 3_600_000 },
      },
      stallTimeout: undefined,
      abortGrace: 1000,
      runnerTimeout: 10_000,
      autostart: true,
      replace: true,
      version: undefined,
      persist: false,
    })
    expect(resolveQueueOptions({})).toEqual(resolved)
    expect(Object.isFrozen(DEFAULTS)).toBe(true)
  })

  it('concurrency defaults to one less than the cores, at least 1', () => {
    vi.stubGlobal('navigator', { hardwareConcurrency: 8 })
    expect(resolveQueueOptions({}).concurrency).toBe(7)
    vi.stubGlobal('navigator', { hardwareConcurrency: 1 })
    expect(resolveQueueOptions({}).concurrency).toBe(1)
  })

  it('keeps the options it is given', () => {
    const store = memoryStore()
    const worker = (): never => {
      throw new Error('not called')
    }
    const resolved = resolveQueueOptions({
      name: 'media',
      worker,
      concurrency: 3,
      store,
      defaults: { priority: 2, delay: 10, timeout: 500, retry: { attempts: 4, backoff: () => 1 } },
      retention: { completed: false, failed: { count: 5 } },
      stallTimeout: 2000,
      abortGrace: 0,
      autostart: false,
    })
    expect(resolved.name).toBe('media')
    expect(resolved.worker).toBe(worker)
    expect(resolved.concurrency).toBe(3)
    expect(resolved.store).toBe(store)
    expect(resolved.defaults).toMatchObject({ priority: 2, delay: 10, timeout: 500, retry: { attempts: 4 } })
    expect(typeof resolved.defaults.retry?.backoff).toBe('function')
    expect(resolved.retention).toEqual({
      completed: false,
      failed: { count: 5 },
      cancelled: { age: 7 * 24 * 3_600_000 },
    })
    expect(resolved.stallTimeout).toBe(2000)
    expect(resolved.abortGrace).toBe(0)
    expect(resolved.autostart).toBe(false)
  })

  it('rejects concurrency 0 and 1.5 with a RangeError, and a string with a TypeError', () => {
    expectOptionError(() => resolveQueueOptions({ concurrency: 0 }), RangeError, 'concurrency', 'an integer ≥ 1', '0')
    expectOptionError(() => resolveQueueOptions({ concurrency: 1.5 }), RangeError, 'concurrency', 'an integer ≥ 1', '1.5')
    expectOptionError(() => resolveQueueOptions({ concurrency: '2' }), TypeError, 'concurrency', 'an integer ≥ 1', '"2"')
    expectOptionError(() => resolveQueueOptions({ concurrency: Number.NaN }), TypeError, 'concurrency', 'an integer ≥ 1', 'NaN')
  })

  it('rejects an empty or overlong name', () => {
    const expected = 'a non-empty string of at most 200 characters'
    expectOptionError(() => resolveQueueOptions({ name: '' }), TypeError, 'name', expected, '""')
    expectOptionError(() => resolveQueueOptions({ name: 42 }), TypeError, 'name', expected, '42')
    expect(thrown(() => resolveQueueOptions({ name: 'x'.repeat(201) })).message).toContain('Invalid option "name"')
  })

  it('rejects an unknown option, naming it and the allowed ones', () => {
    const error = thrown(() => resolveQueueOptions({ concurency: 2 }))
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toMatch(/^Unknown option "concurency": expected one of name, worker, concurrency,/)
  })

  it('rejects options that are not an object', () => {
    expectOptionError(() => resolveQueueOptions('media'), TypeError, 'options', 'an object', '"media"')
    expectOptionError(() => resolveQueueOptions(null), TypeError, 'options', 'an object', 'null')
  })

  it('rejects a worker that is not a function, a store without write, a non-boolean autostart or replace', () => {
    expectOptionError(() => resolveQueueOptions({ worker: 'w.js' }), TypeError, 'worker', 'a function that returns a Worker', '"w.js"')
    expectOptionError(() => resolveQueueOptions({ store: {} }), TypeError, 'store', 'a Store such as idbStore() or memoryStore()', '{}')
    expectOptionError(() => resolveQueueOptions({ autostart: 'yes' }), TypeError, 'autostart', 'a boolean', '"yes"')
    expectOptionError(() => resolveQueueOptions({ replace: 1 as never }), TypeError, 'replace', 'a boolean', '1')
  })

  it('rejects a negative abortGrace and a zero or infinite stallTimeout', () => {
    expectOptionError(() => resolveQueueOptions({ abortGrace: -1 }), RangeError, 'abortGrace', 'a finite number ≥ 0', '-1')
    expectOptionError(() => resolveQueueOptions({ stallTimeout: 0 }), RangeError, 'stallTimeout', 'a positive finite number', '0')
    expectOptionError(() => resolveQueueOptions({ stallTimeout: Infinity }), RangeError, 'stallTimeout', 'a positive finite number', 'Infinity')
  })

  it('takes a runnerTimeout of at least 100 ms, or Infinity; rejects others naming the option', () => {
    expect(resolveQueueOptions({ runnerTimeout: 100 }).runnerTimeout).toBe(100)
    expect(resolveQueueOptions({ runnerTimeout: Infinity }).runnerTimeout).toBe(Infinity)
    expectOptionError(() => resolveQueueOptions({ runnerTimeout: 99 }), RangeError, 'runnerTimeout', 'a number of ms ≥ 100, or Infinity', '99')
    expectOptionError(() => resolveQueueOptions({ runnerTimeout: NaN }), RangeError, 'runnerTimeout', 'a number of ms ≥ 100, or Infinity', 'NaN')
    expectOptionError(
      () => resolveQueueOptions({ runnerTimeout: '5s' as never }),
      TypeError,
      'runnerTimeout',
      'a number of ms ≥ 100, or Infinity',
      '"5s"',
    )
  })

  it('validates the job defaults, naming the option under "defaults."', () => {
    expectOptionError(() => resolveQueueOptions({ defaults: { timeout: -1 } }), RangeError, 'defaults.timeout', 'a positive finite number', '-1')
    expectOptionError(
      () => resolveQueueOptions({ defaults: { retry: { attempts: 0 } } }),
      RangeError,
      'defaults.retry.attempts',
      'an integer ≥ 1',
      '0',
    )
    const unknown = thrown(() => resolveQueueOptions({ defaults: { id: 'x' } }))
    expect(unknown).toBeInstanceOf(TypeError)
    expect(unknown.message).toMatch(/^Unknown option "defaults\.id"/)
  })

  describe('retention rules', () => {
    it('false keeps jobs of that status; a rule replaces the default of its status only', () => {
      const { retention } = resolveQueueOptions({ retention: { failed: false, completed: { age: 60_000 } } })
      expect(retention).toEqual({ completed: { age: 60_000 }, failed: false, cancelled: { age: 7 * 24 * 3_600_000 } })
    })

    it('accepts count 0 and age 0', () => {
      const { retention } = resolveQueueOptions({ retention: { completed: { count: 0, age: 0 } } })
      expect(retention.completed).toEqual({ count: 0, age: 0 })
    })

    it('rejects a negative or fractional count, a negative age, a non-object rule, and unknown keys', () => {
      expectOptionError(
        () => resolveQueueOptions({ retention: { completed: { count: -1 } } }),
        RangeError,
        'retention.completed.count',
        'an integer ≥ 0',
        '-1',
      )
      expectOptionError(
        () => resolveQueueOptions({ retention: { failed: { count: 2.5 } } }),
        RangeError,
        'retention.failed.count',
        'an integer ≥ 0',
        '2.5',
      )
      expectOptionError(
        () => resolveQueueOptions({ retention: { cancelled: { age: -5 } } }),
        RangeError,
        'retention.cancelled.age',
        'a finite number ≥ 0',
        '-5',
      )
      expectOptionError(
        () => resolveQueueOptions({ retention: { completed: true } }),
        TypeError,
        'retention.completed',
        'false or { age?, count? }',
        'true',
      )
      expectOptionError(() => resolveQueueOptions({ retention: 7 }), TypeError, 'retention', 'an object like { completed: { age, count } }', '7')
      expect(thrown(() => resolveQueueOptions({ retention: { running: false } })).message).toMatch(/^Unknown option "retention\.running"/)
      expect(thrown(() => resolveQueueOptions({ retention: { completed: { ttl: 1 } } })).message).toMatch(
        /^Unknown option "retention\.completed\.ttl"/,
      )
    })
  })
})

describe('resolveJobOptions', () => {
  it('returns empty options for undefined', () => {
    expect(resolveJobOptions(undefined, NOW)).toEqual({
      id: undefined,
      key: undefined,
      priority: undefined,
      runAt: undefined,
      stored: {},
      dependsOn: [],
      transfer: [],
    })
  })

  it('turns delay into runAt from now, and a Date runAt into ms', () => {
    expect(resolveJobOptions({ delay: 250 }, NOW).runAt).toBe(NOW + 250)
    expect(resolveJobOptions({ runAt: new Date(NOW + 5) }, NOW).runAt).toBe(NOW + 5)
    expect(resolveJobOptions({ runAt: NOW - 10 }, NOW).runAt).toBe(NOW - 10)
  })

  it('keeps id, key, priority; stores timeout and retry; passes transfer through', () => {
    const buffer = new ArrayBuffer(8)
    const resolved = resolveJobOptions(
      { id: 'job-1', key: 'k', priority: -3, timeout: 100, retry: { attempts: 2, backoff: 'linear' }, transfer: [buffer], dependsOn: [] },
      NOW,
    )
    expect(resolved).toEqual({
      id: 'job-1',
      key: 'k',
      priority: -3,
      runAt: undefined,
      stored: { timeout: 100, retry: { attempts: 2, backoff: 'linear' } },
      dependsOn: [],
      transfer: [buffer],
    })
  })

  it('rejects timeout -1, 0 and Infinity with a RangeError', () => {
    const expected = 'a positive finite number'
    expectOptionError(() => resolveJobOptions({ timeout: -1 }, NOW), RangeError, 'timeout', expected, '-1')
    expectOptionError(() => resolveJobOptions({ timeout: 0 }, NOW), RangeError, 'timeout', expected, '0')
    expectOptionError(() => resolveJobOptions({ timeout: Infinity }, NOW), RangeError, 'timeout', expected, 'Infinity')
    expectOptionError(() => resolveJobOptions({ timeout: '5s' }, NOW), TypeError, 'timeout', expected, '"5s"')
  })

  it('rejects an unknown option such as "timout"', () => {
    const error = thrown(() => resolveJobOptions({ timout: 1000 }, NOW))
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toBe(
      'Unknown option "timout": expected one of id, key, priority, delay, runAt, timeout, retry, dependsOn, transfer, debounce, throttle, network, group',
    )
  })

  it('rejects an empty id or key, and an id over 512 characters', () => {
    expectOptionError(() => resolveJobOptions({ id: '' }, NOW), TypeError, 'id', 'a non-empty string of at most 512 characters', '""')
    expectOptionError(
      () => resolveJobOptions({ id: 'x'.repeat(513) }, NOW),
      TypeError,
      'id',
      'a non-empty string of at most 512 characters',
      JSON.stringify('x'.repeat(513)),
    )
    expectOptionError(() => resolveJobOptions({ key: '' }, NOW), TypeError, 'key', 'a non-empty string', '""')
    expectOptionError(() => resolveJobOptions({ key: 5 }, NOW), TypeError, 'key', 'a non-empty string', '5')
  })

  it('rejects a non-finite priority and a negative delay', () => {
    expectOptionError(() => resolveJobOptions({ priority: Infinity }, NOW), RangeError, 'priority', 'a finite number', 'Infinity')
    expectOptionError(() => resolveJobOptions({ delay: -1 }, NOW), RangeError, 'delay', 'a finite number ≥ 0', '-1')
  })

  it('rejects delay and runAt together', () => {
    const error = thrown(() => resolveJobOptions({ delay: 10, runAt: NOW + 10 }, NOW))
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toContain('"delay"')
    expect(error.message).toContain('"runAt"')
  })

  it('rejects an invalid Date and a non-finite runAt', () => {
    const expected = 'a finite ms epoch or a valid Date'
    expectOptionError(() => resolveJobOptions({ runAt: new Date('nope') }, NOW), TypeError, 'runAt', expected, 'Date(NaN)')
    expectOptionError(() => resolveJobOptions({ runAt: Infinity }, NOW), TypeError, 'runAt', expected, 'Infinity')
    expectOptionError(() => resolveJobOptions({ runAt: '2030-01-01' }, NOW), TypeError, 'runAt', expected, '"2030-01-01"')
  })

  it('takes dependsOn as ids or handles, without duplicates, and refuses a job depending on itself', () => {
    expect(resolveJobOptions({ dependsOn: ['a', { id: 'b' }, 'a'] }, NOW).dependsOn).toEqual(['a', 'b'])
    const error = thrown(() => resolveJobOptions({ id: 'me', dependsOn: ['me'] }, NOW))
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toBe('Invalid option "dependsOn": job "me" cannot depend on itself')
  })

  it('validates network: a boolean, stored only when true', () => {
    expect(resolveJobOptions({ network: true }, NOW).stored).toEqual({ network: true })
    expect(resolveJobOptions({ network: false }, NOW).stored).toEqual({})
    expect(thrown(() => resolveJobOptions({ network: 'yes' }, NOW)).message).toBe('Invalid option "network": expected a boolean, received "yes"')
    expect(resolveTaskOptions('upload', { handler: () => 1, network: true }).network).toBe(true)
    expect(thrown(() => resolveTaskOptions('upload', { handler: () => 1, network: 1 })).message).toContain('"upload.network"')
  })

  it('validates debounce and throttle, naming the option', () => {
    expect(resolveJobOptions({ debounce: { key: 'k', delay: 50 } }, NOW).debounce).toEqual({ key: 'k', delay: 50 })
    expect(resolveJobOptions({ throttle: { key: 't', max: 2, window: 100 } }, NOW).stored.throttle).toEqual({ key: 't', max: 2, window: 100 })
    expect(thrown(() => resolveJobOptions({ debounce: { key: 'k', delay: -1 } }, NOW)).message).toContain('"debounce.delay"')
    expect(thrown(() => resolveJobOptions({ throttle: { key: 't', max: 0, window: 100 } }, NOW)).message).toContain('"throttle.max"')
    expect(thrown(() => resolveJobOptions({ debounce: { key: 'k', delay: 5 }, runAt: NOW }, NOW)).message).toContain('"debounce"')
  })

  it('rejects a dependsOn that is not an array of ids or handles', () => {
    expectOptionError(() => resolveJobOptions({ dependsOn: 'a' }, NOW), TypeError, 'dependsOn', 'an array of job ids or handles', '"a"')
    expectOptionError(() => resolveJobOptions({ dependsOn: [42] }, NOW), TypeError, 'dependsOn[]', 'a job id or a handle', '42')
    expectOptionError(() => resolveJobOptions({ dependsOn: [null] }, NOW), TypeError, 'dependsOn[]', 'a job id or a handle', 'null')
  })

  it('rejects a transfer that is not an array', () => {
    const error = thrown(() => resolveJobOptions({ transfer: new ArrayBuffer(1) }, NOW))
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toMatch(/^Invalid option "transfer": expected an array of transferables, received /)
  })

  it('rejects retry.attempts 0 and retry.backoff "weird"', () => {
    expectOptionError(() => resolveJobOptions({ retry: { attempts: 0 } }, NOW), RangeError, 'retry.attempts', 'an integer ≥ 1', '0')
    expectOptionError(
      () => resolveJobOptions({ retry: { backoff: 'weird' } }, NOW),
      TypeError,
      'retry.backoff',
      "'fixed', 'exponential', 'linear' or a function",
      '"weird"',
    )
  })

  it('rejects a per-job retry function, saying it cannot be stored', () => {
    for (const retry of [{ backoff: () => 1 }, { retryOn: () => true }, { noRetryOn: () => false }]) {
      const error = thrown(() => resolveJobOptions({ retry }, NOW))
      expect(error).toBeInstanceOf(TypeError)
      expect(error.message).toMatch(/^Invalid option "retry\.(backoff|retryOn|noRetryOn)": a function cannot be stored/)
      expect(error.message).toContain('defineTasks')
    }
  })

  it('rejects options that are not an object', () => {
    expectOptionError(() => resolveJobOptions([], NOW), TypeError, 'options', 'an object', 'an array of 0')
  })
})

describe('resolveRetry', () => {
  it('returns undefined for undefined and a copy of valid string matchers', () => {
    expect(resolveRetry('retry', undefined, false)).toBeUndefined()
    const retryOn = ['A', 'B']
    const resolved = resolveRetry('retry', { attempts: 3, delay: 0, maxDelay: 10, jitter: false, retryOn }, false)
    expect(resolved).toEqual({ attempts: 3, delay: 0, maxDelay: 10, jitter: false, retryOn: ['A', 'B'] })
    expect(resolved?.retryOn).not.toBe(retryOn)
  })

  it('allows functions where they are not stored, and the WORKER_FUNCTION marker anywhere', () => {
    const backoff = (): number => 5
    const retryOn = (): boolean => true
    expect(resolveRetry('t.retry', { backoff, retryOn }, true)).toEqual({ backoff, retryOn })
    expect(resolveRetry('retry', { backoff: WORKER_FUNCTION, noRetryOn: WORKER_FUNCTION }, false)).toEqual({
      backoff: WORKER_FUNCTION,
      noRetryOn: WORKER_FUNCTION,
    })
  })

  it('rejects bad fields with the option path in the message', () => {
    expectOptionError(() => resolveRetry('retry', 3, false), TypeError, 'retry', 'an object like { attempts: 3 }', '3')
    expectOptionError(() => resolveRetry('retry', { attempts: 2.5 }, false), RangeError, 'retry.attempts', 'an integer ≥ 1', '2.5')
    expectOptionError(() => resolveRetry('retry', { delay: -1 }, false), RangeError, 'retry.delay', 'a finite number ≥ 0', '-1')
    expectOptionError(() => resolveRetry('retry', { maxDelay: Infinity }, false), RangeError, 'retry.maxDelay', 'a finite number ≥ 0', 'Infinity')
    expectOptionError(() => resolveRetry('retry', { jitter: 'no' }, false), TypeError, 'retry.jitter', 'a boolean', '"no"')
    expectOptionError(
      () => resolveRetry('retry', { retryOn: 'TypeError' }, false),
      TypeError,
      'retry.retryOn',
      'an array of error names or a function',
      '"TypeError"',
    )
    expectOptionError(
      () => resolveRetry('retry', { noRetryOn: [1] }, false),
      TypeError,
      'retry.noRetryOn',
      'an array of error names or a function',
      'an array of 1',
    )
    expect(thrown(() => resolveRetry('retry', { attempt: 3 }, false)).message).toMatch(/^Unknown option "retry\.attempt"/)
  })
})

describe('resolveTaskOptions', () => {
  it('keeps timeout, retry (functions included) and priority, and ignores the handler', () => {
    const backoff = (): number => 1
    const resolved = resolveTaskOptions('primes', {
      handler: () => 1,
      timeout: 1000,
      retry: { attempts: 3, backoff },
      priority: 4,
    })
    expect(resolved).toEqual({ timeout: 1000, retry: { attempts: 3, backoff }, priority: 4 })
  })

  it('names the task in its errors', () => {
    expectOptionError(
      () => resolveTaskOptions('primes', { handler: () => 1, timeout: -1 }),
      RangeError,
      'primes.timeout',
      'a positive finite number',
      '-1',
    )
    expectOptionError(
      () => resolveTaskOptions('primes', { handler: () => 1, retry: { backoff: 'weird' } }),
      TypeError,
      'primes.retry.backoff',
      "'fixed', 'exponential', 'linear' or a function",
      '"weird"',
    )
    const unknown = thrown(() => resolveTaskOptions('primes', { handler: () => 1, timout: 5 }))
    expect(unknown).toBeInstanceOf(TypeError)
    expect(unknown.message).toBe(
      'Unknown option "primes.timout": expected one of handler, timeout, retry, priority, concurrency, rateLimit, network, groups, batch',
    )
    expect(thrown(() => resolveTaskOptions('zip', { handler: () => 1, concurrency: 0 })).message).toContain('"zip.concurrency"')
    expect(thrown(() => resolveTaskOptions('zip', { handler: () => 1, rateLimit: { max: 1 } })).message).toContain('"zip.rateLimit"')
  })
})

describe('mergeRetry', () => {
  it('starts from the retry defaults', () => {
    expect(mergeRetry()).toEqual({ ...RETRY_DEFAULTS })
    expect(mergeRetry(undefined, undefined)).toEqual({ attempts: 1, backoff: 'fixed', delay: 1000, jitter: true })
  })

  it('later policies win field by field: queue defaults, then task, then job', () => {
    const queue = { attempts: 2, delay: 100, maxDelay: 1000, retryOn: ['A'] }
    const task = { attempts: 5, backoff: 'linear' as const, jitter: false }
    const job = { delay: 7, retryOn: ['B'] }
    expect(mergeRetry(queue, task, job)).toEqual({
      attempts: 5,
      backoff: 'linear',
      delay: 7,
      maxDelay: 1000,
      jitter: false,
      retryOn: ['B'],
    })
  })

  it('an undefined field does not erase an earlier value', () => {
    expect(mergeRetry({ attempts: 4 }, { attempts: undefined, delay: 3 })).toMatchObject({ attempts: 4, delay: 3 })
  })

  it('does not mutate its inputs or the defaults', () => {
    const first = { attempts: 2 }
    mergeRetry(first, { attempts: 9 })
    expect(first).toEqual({ attempts: 2 })
    expect(RETRY_DEFAULTS.attempts).toBe(1)
  })
})
