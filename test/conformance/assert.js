// @ts-nocheck: plain JS that Node, Deno, Bun and Chromium run as is (the repo typechecks JS strictly).
// A tiny assertion helper that runs everywhere (Node, Deno, Bun, browsers).
const show = (value) => {
  try {
    return JSON.stringify(value)
  } catch {
    return String(value)
  }
}

export const assert = {
  ok(value, message = 'expected a truthy value') {
    if (!value) throw new Error(`${message} (got ${show(value)})`)
  },
  equal(actual, expected, message = '') {
    if (!Object.is(actual, expected)) throw new Error(`${message ? message + ': ' : ''}expected ${show(expected)}, got ${show(actual)}`)
  },
  deepEqual(actual, expected, message = '') {
    if (show(actual) !== show(expected)) throw new Error(`${message ? message + ': ' : ''}expected ${show(expected)}, got ${show(actual)}`)
  },
  instanceOf(value, type, message = '') {
    if (!(value instanceof type)) {
      throw new Error(`${message ? message + ': ' : ''}expected an instance of ${type.name}, got ${value?.constructor?.name ?? show(value)}`)
    }
  },
}

/** Runs conformance cases one after another; prints one line each and `N passed, M failed` last. */
export async function runCases(cases, { log = console.log } = {}) {
  let passed = 0
  let failed = 0
  const started = Date.now()
  for (const { name, run } of cases) {
    const t0 = Date.now()
    try {
      await run()
      passed++
      log(`ok   ${name} (${Date.now() - t0} ms)`)
    } catch (error) {
      failed++
      log(`FAIL ${name}: ${error?.stack ?? error}`)
    }
  }
  log(`total ${Date.now() - started} ms`)
  log(`${passed} passed, ${failed} failed`)
  return { passed, failed }
}
