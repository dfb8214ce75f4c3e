// @ts-nocheck: plain JS for Deno (the repo typechecks JS strictly).
// The part of Vitest's API that test/node/store.test.ts uses, for Deno, which cannot run
// Vitest itself: describe/it (with .each), before/afterEach, before/afterAll, and Vitest's
// own `expect` (@vitest/expect on chai, as Vitest builds it). Deno maps `vitest` here with
// test/sqlite/deno-import-map.json; test/sqlite/run-vitest-file.js runs what was collected.
import * as chai from 'chai'
import { ASYMMETRIC_MATCHERS_OBJECT, GLOBAL_EXPECT, JestAsymmetricMatchers, JestChaiExpect, JestExtend, getState, setState } from '@vitest/expect'

chai.use(JestExtend)
chai.use(JestChaiExpect)
chai.use(JestAsymmetricMatchers)

export const expect = (value, message) => {
  const { assertionCalls } = getState(expect)
  setState({ assertionCalls: assertionCalls + 1 }, expect)
  return chai.expect(value, message)
}
Object.assign(expect, chai.expect)
Object.assign(expect, globalThis[ASYMMETRIC_MATCHERS_OBJECT])
setState({ assertionCalls: 0, isExpectingAssertions: false, expectedAssertionsNumber: null }, expect)
globalThis[GLOBAL_EXPECT] = expect
expect.getState = () => getState(expect)
expect.setState = (state) => setState(state, expect)

/** The tree of suites: { name, tests: [{ name, fn }], suites: [...], hooks }. */
const root = { name: '', tests: [], suites: [], beforeEach: [], afterEach: [], beforeAll: [], afterAll: [], parent: undefined }
let current = root

/** Vitest's title formatting for `.each`: %s %d %i %j %o %# and $name are enough here. */
function title(template, args, index) {
  let i = 0
  return String(template).replace(/%[sdijo#%]/g, (token) => {
    if (token === '%%') return '%'
    if (token === '%#') return String(index)
    const value = args[i++]
    if (token === '%j' || token === '%o') return JSON.stringify(value)
    return typeof value === 'object' ? JSON.stringify(value) : String(value)
  })
}
const rows = (cases) => cases.map((c) => (Array.isArray(c) ? c : [c]))

export function describe(name, fn) {
  const suite = { name, tests: [], suites: [], beforeEach: [], afterEach: [], beforeAll: [], afterAll: [], parent: current }
  current.suites.push(suite)
  const outer = current
  current = suite
  try {
    fn()
  } finally {
    current = outer
  }
}
describe.each = (cases) => (name, fn) => rows(cases).forEach((args, i) => describe(title(name, args, i), () => fn(...args)))
describe.skip = () => undefined

export function it(name, fn) {
  current.tests.push({ name, fn })
}
it.each = (cases) => (name, fn) => rows(cases).forEach((args, i) => it(title(name, args, i), () => fn(...args)))
it.skip = () => undefined
export const test = it

export const beforeEach = (fn) => current.beforeEach.push(fn)
export const afterEach = (fn) => current.afterEach.push(fn)
export const beforeAll = (fn) => current.beforeAll.push(fn)
export const afterAll = (fn) => current.afterAll.push(fn)

/**
 * Runs every collected test whose full name contains `filter` (all without one): hooks
 * in Vitest's order, one test at a time. Prints `ok`/`FAIL` lines and `N passed, M failed` last.
 */
export async function runCollected({ filter, log = console.log } = {}) {
  let passed = 0
  let failed = 0
  const chain = (suite) => (suite ? [...chain(suite.parent), suite] : [])
  const has = (suite, prefix) =>
    suite.tests.some((t) => !filter || `${prefix}${t.name}`.includes(filter)) || suite.suites.some((s) => has(s, `${prefix}${s.name} > `))
  async function run(suite, prefix) {
    if (!has(suite, prefix)) return
    for (const hook of suite.beforeAll) await hook()
    for (const t of suite.tests) {
      const full = `${prefix}${t.name}`
      if (filter && !full.includes(filter)) continue
      const suites = chain(suite)
      const t0 = Date.now()
      try {
        for (const s of suites) for (const hook of s.beforeEach) await hook()
        try {
          await t.fn()
        } finally {
          for (const s of suites.reverse()) for (const hook of s.afterEach) await hook()
        }
        passed++
        log(`ok   ${full} (${Date.now() - t0} ms)`)
      } catch (error) {
        failed++
        log(`FAIL ${full}: ${error?.stack ?? error}`)
      }
    }
    for (const child of suite.suites) await run(child, `${prefix}${child.name} > `)
    for (const hook of suite.afterAll) await hook()
  }
  await run(root, '')
  log(`${passed} passed, ${failed} failed`)
  return { passed, failed }
}
