/** The conformance suite's assertion helper over Vitest's `expect` (Node and Chromium runs). */
import { expect } from 'vitest'

export const expectAssert = {
  ok: (value: unknown, message?: string): void => void expect(value, message).toBeTruthy(),
  equal: (actual: unknown, expected: unknown, message?: string): void => void expect(actual, message).toBe(expected),
  deepEqual: (actual: unknown, expected: unknown, message?: string): void => void expect(actual, message).toEqual(expected),
  instanceOf: (value: unknown, type: abstract new (...args: never[]) => unknown, message?: string): void =>
    void expect(value, message).toBeInstanceOf(type),
}
