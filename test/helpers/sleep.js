// Plain JS, so that every test and fixture can import it as it is: TypeScript tests,
// worker modules bundled by Vite, and the scripts Node, Deno and Bun run from test/.

/**
 * Resolves after `ms` ms; rejects with `signal.reason` if `signal` aborts first (an
 * abort heard from this call on: a signal aborted before it does not cut the wait short).
 * @param {number} ms
 * @param {AbortSignal} [signal]
 * @returns {Promise<void>}
 */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => {
      clearTimeout(timer)
      reject(signal.reason)
    })
  })
}
