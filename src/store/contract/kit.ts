/**
 * What every part of the Store contract suite shares: the test functions the caller
 * gives (no test framework is imported here, so the suite ships in the package), a
 * fresh opened store per test, and the records the cases write.
 */
import type { ErrorRecord, LogEntry } from '../../shared/types.js'
import type { JobRecord, Store, WriteOp } from '../store.js'

/**
 * The matchers the suite calls on `expect(actual)`: Vitest's, Jest's and Bun's `expect`
 * have every one of them, with these meanings.
 */
export interface ContractMatchers {
  /** `Object.is` equality. */
  toBe(expected: unknown): void
  /** Deep equality; properties whose value is `undefined` are ignored. */
  toEqual(expected: unknown): void
  /** Deep equality on the properties `expected` has (arrays: same length, each element matched so). */
  toMatchObject(expected: object): void
  /** `.length` is `length`. */
  toHaveLength(length: number): void
  /** Is `undefined`. */
  toBeUndefined(): void
  /** Is not `undefined`. */
  toBeDefined(): void
  /** A number greater than `n`. */
  toBeGreaterThan(n: number): void
  /** A number less than `n`. */
  toBeLessThan(n: number): void
  /** An instance of the class `type`. */
  toBeInstanceOf(type: abstract new (...args: never[]) => unknown): void
  /** An array (or string) that contains `item`. */
  toContain(item: unknown): void
  /** An object that has the property `name` (own or inherited). */
  toHaveProperty(name: string): void
  /** The same matchers, negated. */
  readonly not: ContractMatchers
}

/**
 * The test functions the suite registers its cases with: pass your runner's own
 * (`{ describe, it, expect }` from `vitest`, `@jest/globals` or `bun:test`).
 */
export interface StoreContractApi {
  /** Groups cases under a name; `fn` registers them synchronously. */
  describe: (name: string, fn: () => void) => unknown
  /** Registers one async case; `timeout` (ms) is passed only when {@link StoreContractOptions.timeout} is set. */
  it: (name: string, fn: () => Promise<void>, timeout?: number) => unknown
  /** Starts an assertion on `actual`; `message` is shown when it fails. */
  expect: (actual: unknown, message?: string) => ContractMatchers
}

/** Options of `runStoreContract`. */
export interface StoreContractOptions {
  /**
   * Each case's timeout in ms, passed to `it` as its third argument (a few cases write
   * 1,300 to 2,500 jobs).
   * @defaultValue your test runner's own
   */
  timeout?: number
  /**
   * The queue name each case opens its store with gets this prefix, then a number and a
   * timestamp, so that no two cases share stored jobs.
   * @defaultValue `'store-contract-'`
   */
  prefix?: string
}

/** A job as a case inserts it: a waiting job of task `task` in queue `q`. */
export type NewJob = Omit<JobRecord, 'seq'>

/** What each part of the suite gets: the caller's test functions, a fresh store per case, and helpers. */
export interface ContractKit extends StoreContractApi {
  /** The optional parts of the Store interface this store has; the cases of the others are not registered. */
  readonly has: { readonly fencing: boolean; readonly steps: boolean; readonly releases: boolean; readonly groups: boolean }
  /** A new store, opened under a queue name no other case uses, closed after the case. */
  fresh: () => Promise<Store>
  /** Inserts `jobs` (data `{ for: id }`), expects every insert to succeed; resolves to their stored records (with `seq`). */
  seed: (store: Store, jobs: NewJob[]) => Promise<JobRecord[]>
  /** Rewrites a stored job with `changes` (and the next `rev`). */
  update: (store: Store, id: string, changes: Partial<JobRecord>) => Promise<void>
  /** Puts a stored job in status `completed` with `result`, as the queue does when a job finishes. */
  complete: (store: Store, id: string, result: unknown) => Promise<JobRecord>
}

/** A waiting job of task `task` in queue `q`, with `overrides` over it. */
export function job(id: string, overrides: Partial<NewJob> = {}): NewJob {
  return {
    id,
    name: 'task',
    queue: 'q',
    status: 'waiting',
    rev: 1,
    priority: 0,
    attempt: 1,
    createdAt: 1000,
    runAt: 1000,
    dependencies: [],
    options: {},
    interruptions: 0,
    ...overrides,
  }
}

/** The insert op of job `j` with `data` (by default `{ for: j.id }`). */
export const insert = (j: NewJob, data: unknown = { for: j.id }): WriteOp => ({ op: 'insert', job: j, data })

/** An info log line. */
export const log = (message: string, timestamp = 1): LogEntry => ({ level: 'info', message, timestamp })

/** The error record of failed attempt `attempt`. */
export const errorRecord = (attempt: number): ErrorRecord => ({ attempt, name: 'Error', message: `attempt ${attempt}`, failedAt: attempt })

let counter = 0

/**
 * The kit of one suite run: reads the optional parts of the Store interface from one
 * store made for that (never opened), and wraps `it` so that every store a case opened
 * is closed after it. Cases must run one at a time (the default of Vitest, Jest and Bun).
 */
export function createKit(makeStore: () => Store, api: StoreContractApi, options: StoreContractOptions = {}): ContractKit {
  const { describe, expect } = api
  const probe = makeStore()
  const has = {
    fencing: probe.fencing === true,
    steps: typeof probe.steps === 'function',
    releases: typeof probe.releases === 'function',
    groups: typeof probe.groups === 'function',
  }
  const prefix = options.prefix ?? 'store-contract-'
  const opened: Store[] = []

  const it = (name: string, fn: () => Promise<void>): unknown => {
    const run = async (): Promise<void> => {
      try {
        await fn()
      } finally {
        await Promise.all(opened.splice(0).map((store) => store.close().catch(() => undefined)))
      }
    }
    return options.timeout === undefined ? api.it(name, run) : api.it(name, run, options.timeout)
  }

  const fresh = async (): Promise<Store> => {
    const store = makeStore()
    opened.push(store)
    await store.open(`${prefix}${++counter}-${Date.now()}`)
    return store
  }

  const seed = async (store: Store, jobs: NewJob[]): Promise<JobRecord[]> => {
    const results = await store.write(jobs.map((j) => insert(j)))
    expect(results.every((r) => r.ok)).toBe(true)
    return (await store.get(jobs.map((j) => j.id))) as JobRecord[]
  }

  const update = async (store: Store, id: string, changes: Partial<JobRecord>): Promise<void> => {
    const [stored] = await store.get([id])
    if (!stored) throw new Error(`no job ${id}`)
    const results = await store.write([{ op: 'put', job: { ...stored, ...changes, rev: stored.rev + 1 } }])
    expect(results).toEqual([{ ok: true }])
  }

  const complete = async (store: Store, id: string, result: unknown): Promise<JobRecord> => {
    const [stored] = await store.get([id])
    if (!stored) throw new Error(`no job ${id}`)
    const completed: JobRecord = { ...stored, status: 'completed', finishedAt: 5, rev: stored.rev + 1 }
    expect(await store.write([{ op: 'put', job: completed, result }])).toEqual([{ ok: true }])
    return completed
  }

  return { describe, it, expect, has, fresh, seed, update, complete }
}
