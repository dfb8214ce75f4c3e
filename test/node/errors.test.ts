import { describe, expect, it } from 'vitest'
import {
  InterruptedError,
  JobCancelledError,
  JobDataError,
  JobFailedError,
  JobTimeoutError,
  OffthreadError,
  QueueClosedError,
  RetryError,
  UnknownTaskError,
  WorkerError,
  deserializeError,
  findUncloneablePath,
  isDataCloneError,
  isQuotaError,
  serializeError,
} from '../../src/shared/errors.js'

function cloneFailure(value: unknown): unknown {
  try {
    structuredClone(value)
  } catch (error) {
    return error
  }
  throw new Error('expected structuredClone to fail')
}

describe('serializeError / deserializeError', () => {
  it('a round trip keeps name, message, stack and code', () => {
    const original = Object.assign(new TypeError('bad input'), { code: 'E_INPUT' })
    const data = serializeError(original)
    expect(data).toEqual({ name: 'TypeError', message: 'bad input', stack: original.stack, code: 'E_INPUT' })

    const rebuilt = deserializeError(data)
    expect(rebuilt).toBeInstanceOf(Error)
    expect(rebuilt.name).toBe('TypeError')
    expect(rebuilt.message).toBe('bad input')
    expect(rebuilt.stack).toBe(original.stack)
    expect((rebuilt as { code?: unknown }).code).toBe('E_INPUT')
    expect(Object.prototype.hasOwnProperty.call(rebuilt, 'name')).toBe(true)
  })

  it('a numeric code becomes a string', () => {
    expect(serializeError(Object.assign(new Error('x'), { code: 503 })).code).toBe('503')
  })

  it('a round trip keeps a nested chain of causes', () => {
    const root = Object.assign(new RangeError('root cause'), { code: 'E_ROOT' })
    const middle = new JobTimeoutError('took too long', { cause: root })
    const top = new Error('top', { cause: middle })

    const data = serializeError(top)
    expect(data.cause?.name).toBe('JobTimeoutError')
    expect(data.cause?.code).toBe('ERR_JOB_TIMEOUT')
    expect(data.cause?.cause).toMatchObject({ name: 'RangeError', message: 'root cause', code: 'E_ROOT' })

    const rebuilt = deserializeError(data)
    expect(rebuilt.message).toBe('top')
    const cause = rebuilt.cause as Error
    expect(cause).toBeInstanceOf(JobTimeoutError)
    expect(cause.message).toBe('took too long')
    expect(cause.stack).toBe(middle.stack)
    const rootCause = cause.cause as Error & { code?: string }
    expect(rootCause.name).toBe('RangeError')
    expect(rootCause.message).toBe('root cause')
    expect(rootCause.code).toBe('E_ROOT')
    expect(rootCause.stack).toBe(root.stack)
  })

  it('serialized errors are plain data that survive structuredClone', () => {
    const error = Object.assign(new Error('with extras', { cause: 'a string cause' }), { callback: () => 1 })
    const data = serializeError(error)
    expect(structuredClone(data)).toEqual(data)
    expect(data.cause).toEqual({ name: 'Error', message: 'a string cause' })
  })

  it('a self-referencing cause chain is cut off instead of recursing forever', () => {
    const error = new Error('loop') as Error & { cause?: unknown }
    error.cause = error
    const data = serializeError(error)
    let depth = 0
    for (let c = data.cause; c; c = c.cause) depth++
    expect(depth).toBeGreaterThan(0)
    expect(depth).toBeLessThanOrEqual(8)
  })

  it('an error-like object (name, message, stack) is serialized as an error', () => {
    const data = serializeError({ name: 'AbortError', message: 'stopped', stack: 'AbortError: stopped\n    at x' })
    expect(data).toEqual({ name: 'AbortError', message: 'stopped', stack: 'AbortError: stopped\n    at x' })
  })

  const classes = [
    ['JobFailedError', JobFailedError, 'ERR_JOB_FAILED'],
    ['JobCancelledError', JobCancelledError, 'ERR_JOB_CANCELLED'],
    ['JobTimeoutError', JobTimeoutError, 'ERR_JOB_TIMEOUT'],
    ['JobDataError', JobDataError, 'ERR_JOB_DATA'],
    ['UnknownTaskError', UnknownTaskError, 'ERR_UNKNOWN_TASK'],
    ['InterruptedError', InterruptedError, 'ERR_INTERRUPTED'],
    ['QueueClosedError', QueueClosedError, 'ERR_QUEUE_CLOSED'],
    ['WorkerError', WorkerError, 'ERR_WORKER'],
  ] as const

  it.each(classes)('%s comes back as an instance of its class with its literal name and stable code', (name, Class, code) => {
    const original = new Class('something went wrong', { cause: new Error('inner') })
    expect(original.name).toBe(name)
    expect(original.code).toBe(code)

    const rebuilt = deserializeError(structuredClone(serializeError(original)))
    expect(rebuilt).toBeInstanceOf(Class)
    expect(rebuilt).toBeInstanceOf(OffthreadError)
    expect(rebuilt.name).toBe(name)
    expect((rebuilt as OffthreadError).code).toBe(code)
    expect(rebuilt.message).toBe('something went wrong')
    expect(rebuilt.stack).toBe(original.stack)
    expect((rebuilt.cause as Error).message).toBe('inner')
  })

  it('the base OffthreadError comes back as an OffthreadError with code ERR_OFFTHREAD', () => {
    const original = new OffthreadError('generic failure')
    expect(original.name).toBe('OffthreadError')
    expect(original.code).toBe('ERR_OFFTHREAD')

    const rebuilt = deserializeError(serializeError(original))
    expect(rebuilt.name).toBe('OffthreadError')
    expect((rebuilt as { code?: unknown }).code).toBe('ERR_OFFTHREAD')
    expect(rebuilt).toBeInstanceOf(OffthreadError)
  })

  it('a RetryError comes back as a RetryError with code ERR_RETRY', () => {
    const original = new RetryError({ reason: 'rate limited', delay: 50 })
    expect(original.name).toBe('RetryError')
    expect(original.code).toBe('ERR_RETRY')
    expect(original.message).toBe('rate limited')

    const rebuilt = deserializeError(serializeError(original))
    expect(rebuilt.name).toBe('RetryError')
    expect(rebuilt.message).toBe('rate limited')
    expect((rebuilt as { code?: unknown }).code).toBe('ERR_RETRY')
    expect(rebuilt).toBeInstanceOf(RetryError)
  })

  describe('non-Errors get readable messages', () => {
    it('a string is the message', () => {
      expect(serializeError('disk on fire')).toEqual({ name: 'Error', message: 'disk on fire' })
      expect(serializeError('').message).toBe('The handler threw an empty string')
    })

    it('undefined and null say what was thrown', () => {
      expect(serializeError(undefined)).toEqual({ name: 'Error', message: 'The handler threw undefined' })
      expect(serializeError(null)).toEqual({ name: 'Error', message: 'The handler threw null' })
    })

    it('a plain object is shown as JSON, not [object Object]', () => {
      expect(serializeError({ status: 404, reason: 'missing' })).toEqual({
        name: 'Error',
        message: 'The handler threw a non-Error object: {"status":404,"reason":"missing"}',
      })
    })

    it('a number, a boolean, a bigint and a symbol are shown as values', () => {
      expect(serializeError(42).message).toBe('The handler threw a non-Error value: 42')
      expect(serializeError(false).message).toBe('The handler threw a non-Error value: false')
      expect(serializeError(10n).message).toBe('The handler threw a non-Error value: 10')
      expect(serializeError(Symbol('s')).message).toBe('The handler threw a non-Error value: Symbol(s)')
    })

    it('a circular object does not throw and is not shown as [object Object]', () => {
      const circular: Record<string, unknown> = { answer: 42 }
      circular['self'] = circular
      const data = serializeError(circular)
      expect(data.name).toBe('Error')
      expect(data.message).toMatch(/^The handler threw a non-Error object: /)
      expect(data.message).not.toContain('[object Object]')
    })

    it('a huge object is truncated to a readable length', () => {
      const message = serializeError({ text: 'x'.repeat(5000) }).message
      expect(message.length).toBeLessThan(600)
      expect(message.endsWith('…')).toBe(true)
    })

    it('rebuilding a serialized non-Error gives an Error with that message', () => {
      const rebuilt = deserializeError(serializeError(7))
      expect(rebuilt).toBeInstanceOf(Error)
      expect(rebuilt.message).toBe('The handler threw a non-Error value: 7')
    })
  })
})

describe('findUncloneablePath', () => {
  const fn = (): number => 1

  it('finds a function nested in objects and arrays', () => {
    expect(findUncloneablePath({ a: { b: [1, { c: fn }] } })).toBe('data.a.b[1].c (a function)')
    expect(findUncloneablePath([0, 1, fn])).toBe('data[2] (a function)')
  })

  it('finds a symbol', () => {
    expect(findUncloneablePath({ tag: Symbol('t') })).toBe('data.tag (a symbol)')
  })

  it('finds a function inside a Map value or key, and in a Set', () => {
    expect(
      findUncloneablePath({
        m: new Map<string, unknown>([
          ['ok', 1],
          ['cb', { run: fn }],
        ]),
      }),
    ).toBe('data.m.get(cb).run (a function)')
    expect(findUncloneablePath(new Map([[fn, 1]]))).toBe('data.<key 0> (a function)')
    expect(findUncloneablePath({ s: new Set([1, fn]) })).toBe('data.s.<item 1> (a function)')
  })

  it('names WeakMaps and Promises', () => {
    expect(findUncloneablePath({ w: new WeakMap() })).toBe('data.w (a WeakMap)')
    expect(findUncloneablePath({ p: Promise.resolve(1) })).toBe('data.p (a Promise)')
  })

  it('uses the given root, and the value itself when it is the culprit', () => {
    expect(findUncloneablePath({ x: fn }, 'result')).toBe('result.x (a function)')
    expect(findUncloneablePath(fn)).toBe('data (a function)')
  })

  it('returns undefined for cloneable values, circular ones included', () => {
    const circular: Record<string, unknown> = { list: [1, 2, new Date(0)], map: new Map([['a', 1]]) }
    circular['self'] = circular
    expect(findUncloneablePath(circular)).toBeUndefined()
    expect(findUncloneablePath(undefined)).toBeUndefined()
    expect(findUncloneablePath('text')).toBeUndefined()
  })

  it('agrees with a real structuredClone failure', () => {
    const value = { items: [{ ok: true }, { callback: fn }] }
    expect(isDataCloneError(cloneFailure(value))).toBe(true)
    expect(findUncloneablePath(value)).toBe('data.items[1].callback (a function)')
  })
})

describe('isDataCloneError / isQuotaError', () => {
  it('recognises the error structuredClone throws for a function', () => {
    const error = cloneFailure({ f: () => 1 })
    expect(isDataCloneError(error)).toBe(true)
  })

  it('recognises a DataCloneError by name or by legacy code 25, and nothing else', () => {
    expect(isDataCloneError(new DOMException('x', 'DataCloneError'))).toBe(true)
    expect(isDataCloneError({ code: 25 })).toBe(true)
    expect(isDataCloneError(new TypeError('x'))).toBe(false)
    expect(isDataCloneError(new DOMException('x', 'AbortError'))).toBe(false)
    expect(isDataCloneError(null)).toBe(false)
    expect(isDataCloneError('DataCloneError')).toBe(false)
  })

  it('recognises a QuotaExceededError', () => {
    expect(isQuotaError(new DOMException('full', 'QuotaExceededError'))).toBe(true)
    expect(isQuotaError(new Error('full'))).toBe(false)
    expect(isQuotaError(undefined)).toBe(false)
  })
})
