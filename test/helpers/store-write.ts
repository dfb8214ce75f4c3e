import type { Store } from '../../src/store/store.js'

/**
 * `inner` with its `write` replaced by `write` (which records, refuses or holds a call,
 * and passes it on to `inner.write` or not); every other member is `inner`'s, methods
 * bound to it.
 */
export function withWrite<S extends Store>(inner: S, write: Store['write']): S {
  return new Proxy(inner, {
    get: (target, key) => {
      if (key === 'write') return write
      const value = Reflect.get(target, key) as unknown
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    },
  })
}
