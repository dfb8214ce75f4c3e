/**
 * The IndexedDB store: one database per queue name. Job metadata, data,
 * results, logs and errors live in separate object stores, so a state change
 * rewrites only a small record; a small input lives in its job's record
 * (`input`), so adding a job is one put. Every `write` is one transaction.
 */
import { openDB, unwrap, type DBSchema, type IDBPDatabase, type IDBPTransaction, type IndexNames, type StoreNames } from 'idb'
import { OffthreadError, isQuotaError } from '../shared/errors.js'
import { JOB_STATUSES, isFinal, type ErrorRecord, type JobStatus, type LogEntry } from '../shared/types.js'
import {
  firedOnto,
  rollsBack,
  STORE_READS,
  type JobRecord,
  type ListQuery,
  type ScheduleRecord,
  type Store,
  type StoredJob,
  type StoredReleases,
  type WriteOp,
  type WriteResult,
} from './store.js'
import { releaseKey, type ReleaseRecord } from '../shared/release.js'
import { whenFreezing, whenRunning } from '../shared/lifecycle.js'

/** The schema version; bump it with a migration step in `upgrade`. */
export const SCHEMA_VERSION = 5

/**
 * A stored job record: metadata, plus fields that exist only while they
 * matter, so that an index holds only the jobs it is for and a state change
 * touches few index entries:
 * - `activeKey`: the dedup key, while the job is unfinished;
 * - `ready`: `[−priority, seq]`, while `waiting` (one ascending index is the dispatch order);
 * - `due`: `runAt`, while `delayed`;
 * - `debounceKey`: the debounce key, while `delayed`;
 * - `result`, once completed (nothing rewrites a finished job, so it costs no extra put);
 * - `input`: the job's data when it is small (see {@link inlineable}; schema 5). Present,
 *   even as `undefined`, it is the data; absent, the data is in the `data` store. Every
 *   put of the job carries it over from the stored row.
 */
type JobRow = JobRecord & { activeKey?: string; ready?: [number, number]; due?: number; debounceKey?: string; result?: unknown; input?: unknown }

/** Up to this many bytes (about), a job's data lives in its record: one put per insert, not two. */
const INLINE_BYTES = 512

/**
 * Whether `value` is small enough to live in its job's record: primitives, and plain
 * objects and arrays of them, of about {@link INLINE_BYTES} bytes at most. Everything else
 * (a buffer, a Blob, a class instance, a Map, anything that will not clone) goes to the
 * `data` store as before, so that a state change never re-clones large data and a value
 * that cannot be stored fails as it did. Walks at most INLINE_BYTES / 8 values.
 */
function inlineable(value: unknown): boolean {
  let budget = INLINE_BYTES
  const fits = (v: unknown, depth: number): boolean => {
    switch (typeof v) {
      case 'undefined':
      case 'boolean':
        return (budget -= 1) >= 0
      case 'number':
        return (budget -= 8) >= 0
      case 'string':
        return (budget -= 8 + v.length * 2) >= 0
      case 'object': {
        if (v === null) return (budget -= 1) >= 0
        if (depth > 8 || (budget -= 8) < 0) return false
        if (Array.isArray(v)) {
          if (v.length * 8 > budget) return false
          for (let i = 0; i < v.length; i++) if (!(i in v) || !fits(v[i], depth + 1)) return false
          return Object.keys(v).length === v.length
        }
        const proto: unknown = Object.getPrototypeOf(v)
        if (proto !== Object.prototype && proto !== null) return false
        for (const key of Object.keys(v)) {
          budget -= 8 + key.length * 2
          if (!fits((v as Record<string, unknown>)[key], depth + 1)) return false
        }
        return true
      }
      default:
        return false
    }
  }
  try {
    return fits(value, 0)
  } catch {
    // A getter or a proxy that throws: the data store's put says what is wrong with it.
    return false
  }
}

interface OffthreadDB extends DBSchema {
  jobs: {
    key: string
    value: JobRow
    indexes: {
      seq: number
      status: [JobStatus, number]
      ready: [number, number]
      due: number
      activeKey: string
      finished: [JobStatus, number]
      deps: string
      debounce: string
      name: [string, number]
      statusName: [JobStatus, string, number]
    }
  }
  data: { key: string; value: unknown }
  logs: { key: [string, number]; value: LogEntry }
  errors: { key: [string, number]; value: ErrorRecord }
  /** Durable step results (`ctx.step`), by `[job id, step id]`. */
  steps: { key: [string, string]; value: unknown }
  /** `seq`, `logSeq` (numbers) and `counts` (jobs per status, kept by every write). */
  meta: { key: string; value: number | string | Record<JobStatus, number> | ReleaseRecord }
  schedules: { key: string; value: ScheduleRecord }
}

type Names = StoreNames<OffthreadDB>
type IndexName = IndexNames<OffthreadDB, 'jobs'>
type WriteTx = IDBPTransaction<OffthreadDB, Names[], 'readwrite'>

const ALL: Names[] = ['jobs', 'data', 'logs', 'errors', 'meta', 'schedules', 'steps']
const PAGE = 500
/** The prefix of release records' keys in `meta`. */
const RELEASE = 'release:'
/** Ops applied between two looks at the clock inside one write. */
const CHUNK = 100
/**
 * Page time one write may take before it waits on IndexedDB once (which keeps the transaction
 * alive and lets the page breathe). Few waits: each is a moment the transaction needs this page
 * to run, and a page frozen or stopped in one blocks every other tab of the origin.
 */
const SLICE_MS = 8
/** Calls waiting on the database this long (ms) with nothing done meanwhile: another tab holds it. */
const BLOCKED_AFTER = 5000
/** The reads tried again after a freeze aborted them (`scan` is not: it would visit jobs twice). */
const RETRIED_READS = STORE_READS.filter((name): name is Exclude<(typeof STORE_READS)[number], 'scan'> => name !== 'scan')

/**
 * Whether `commit()` may be called with requests still in flight: only where a request that
 * fails after it still aborts the transaction with its error, which was seen in Chromium only.
 * Firefox (153 ESR) committed a put that broke a unique index (test/browser/storage.test.ts,
 * "a storage failure surfaces…"), and WebKitGTK (2.50) a transaction whose Blob put it could not
 * prepare, without that record (test/browser/binary.test.ts): a write would resolve as stored
 * with part of it missing. There the engine commits on its own once the page stops feeding the
 * transaction, as every engine did before `commit()` existed.
 */
const EARLY_COMMIT = typeof navigator !== 'undefined' && /\bChrome\//.test(navigator.userAgent ?? '')

/** Commits a transaction whose last request is issued (where the engine has a `commit()` that can be trusted). */
function commitNow(tx: WriteTx): void {
  const raw = unwrap(tx) as IDBTransaction & { commit?: () => void }
  issued.set(raw, performance.now())
  if (!EARLY_COMMIT) return
  try {
    raw.commit?.()
  } catch {
    // Aborted meanwhile: its completion says why.
  }
}

/** When a write issued its last request: until then, the transaction needs its page to run. */
const issued = new WeakMap<IDBTransaction, number>()

/**
 * A function a benchmark may set on `globalThis[Symbol.for('offthread.transaction')]`: called
 * with each transaction's mode, how long it stayed open (ms), and for how much of that it
 * needed its page (until its last request was issued). Unset, it costs a lookup.
 */
type TransactionHook = (mode: IDBTransactionMode, openMs: number, pageMs: number) => void
const transactionHook = (): TransactionHook | undefined => {
  const hook = (globalThis as { [key: symbol]: unknown })[Symbol.for('offthread.transaction')]
  return typeof hook === 'function' ? (hook as TransactionHook) : undefined
}

/**
 * Watches a store's calls: when some have waited `after` ms with none done meanwhile,
 * the database is held elsewhere (another tab's transaction left open: a frozen or
 * stopped page); its listeners hear `true`, and `false` once calls go through again.
 */
class Watchdog {
  #after: number
  #pending = 0
  #last = 0
  #blocked = false
  #timer: ReturnType<typeof setTimeout> | undefined
  #listeners = new Set<(blocked: boolean) => void>()

  constructor(after: number) {
    this.#after = after
  }

  listen(listener: (blocked: boolean) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** A call starts; the returned function says it ended. */
  start(): () => void {
    if (this.#pending++ === 0) {
      this.#last = performance.now()
      this.#arm()
    }
    let ended = false
    return () => {
      if (ended) return
      ended = true
      this.#pending--
      this.progress()
    }
  }

  /** Something went through (a transaction ended, a big write moved on). */
  progress(): void {
    this.#last = performance.now()
    if (!this.#blocked) return
    this.#blocked = false
    this.#tell(false)
  }

  stop(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#listeners.clear()
  }

  #arm(): void {
    if (this.#timer !== undefined || !Number.isFinite(this.#after)) return
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined
        if (this.#pending === 0) return
        if (!this.#blocked && performance.now() - this.#last >= this.#after) {
          this.#blocked = true
          this.#tell(true)
        }
        this.#arm()
      },
      Math.max(20, Math.min(1000, this.#after / 4)),
    )
  }

  #tell(blocked: boolean): void {
    for (const listener of [...this.#listeners]) listener(blocked)
  }
}
/** From this offset on, list() counts its range to see which end to walk from. */
const FAR_OFFSET = 1000

/** Options of {@link idbStore}. */
export interface IdbStoreOptions {
  /**
   * Database name prefix; the database is `${prefix}${queue name}`.
   * @defaultValue 'offthread:'
   */
  prefix?: string
  /**
   * `'relaxed'` commits faster but a power loss may drop the last writes;
   * `'strict'` flushes to disk before each write resolves.
   * @defaultValue 'default' (the browser's choice; relaxed in Chromium)
   */
  durability?: 'default' | 'strict' | 'relaxed'
  /**
   * Ms this store's calls may wait on the database, with none done meanwhile, before the
   * queue reports a `StorageBlockedError` (another tab holds the database: a frozen or
   * stopped page). `Infinity`: never.
   * @defaultValue 5000
   */
  blockedAfter?: number
}

/**
 * Creates an IndexedDB store (the default where `indexedDB` exists).
 *
 * @example
 * ```ts
 * const queue = createQueue({ store: idbStore({ durability: 'strict' }), worker })
 * ```
 */
export function idbStore(options: IdbStoreOptions = {}): Store {
  return new IdbStore(options)
}

const ignore = (): void => undefined
/** A request whose failure shows in `tx.done`: never an unhandled rejection of its own. */
const quiet = (request: Promise<unknown>): void => void request.catch(ignore)
/**
 * The plain IDBObjectStore of a transaction, for writes nobody awaits one by
 * one: no promise and no listeners per request (a failed request aborts the
 * transaction, and `tx.done` says why).
 */
const native = (tx: WriteTx, name: Names): IDBObjectStore => unwrap(tx.objectStore(name))

/**
 * Resolves when the transaction commits; rejects with the error of the request
 * that aborted it (a `ConstraintError`, a value too large…), in the browser's
 * own words. (idb's `tx.done` rejects on the first `error` event, before
 * `tx.error` is set, so it says only "AbortError".)
 */
function completion(tx: IDBTransaction): { done: Promise<void>; error: () => DOMException | null } {
  let first: DOMException | null = null
  const done = new Promise<void>((resolve, reject) => {
    tx.addEventListener('error', (event) => {
      first ??= (event.target as IDBRequest | null)?.error ?? null
    })
    tx.addEventListener('complete', () => resolve())
    tx.addEventListener('abort', () => reject(first ?? tx.error ?? new DOMException('The IndexedDB transaction was aborted', 'AbortError')))
  })
  // Read by the caller or not, a failed commit is never an unhandled rejection.
  done.catch(ignore)
  return { done, error: () => first ?? tx.error }
}

/**
 * Whether a request threw because of its transaction rather than its value. Firefox
 * refuses every request of the first readwrite transaction after one its quota
 * aborted, with `InvalidStateError`, though the database is fine
 * (test/e2e/durability.test.ts, "a full disk" in Firefox).
 */
function refusedByTransaction(error: unknown): boolean {
  return error instanceof DOMException && ['InvalidStateError', 'TransactionInactiveError', 'ReadOnlyError'].includes(error.name)
}

/**
 * The error of a write the storage quota refused twice: IndexedDB's own says nothing
 * (Chromium's message is empty), so this one names the cause and what to do about it.
 */
function quotaExceeded(cause: unknown): DOMException {
  const detail = cause instanceof Error && cause.message ? ` (the browser said: ${cause.message})` : ''
  const error = new DOMException(
    `IndexedDB refused the write: this origin's storage quota is used up${detail}. Stored jobs are kept and the queue ` +
      'retries its own writes until there is room; to make room, remove finished jobs (queue.clean(), retention), ' +
      "other data of this site, or ask for persisted storage (createQueue({ persist: true })). (Chromium counts a refused Blob's bytes until a commit: offthread commits an empty transaction and retries once.)",
    'QuotaExceededError',
  )
  Object.defineProperty(error, 'cause', { value: cause, configurable: true, writable: true })
  return error
}

/** A put threw: the value cannot be stored (this op alone fails), or the transaction refused it (the batch fails). */
function valueRefused(error: unknown): WriteResult {
  if (refusedByTransaction(error)) throw error
  return { ok: false, reason: 'uncloneable', error }
}

/** Stores a log line; a line whose `meta` cannot be stored keeps its message, with a note for its meta. */
function putLog(logs: IDBObjectStore, entry: LogEntry, key: [string, number]): void {
  try {
    logs.put(entry, key)
  } catch (error) {
    if (refusedByTransaction(error)) throw error
    const { meta: _meta, ...rest } = entry
    logs.put({ ...rest, meta: { unserializable: `the meta of this line could not be stored: ${(error as Error).message}` } }, key)
  }
}

/** The range of every key `[id, n]` of one job in `logs` and `errors`. */
const jobRange = (id: string): IDBKeyRange => IDBKeyRange.bound([id], [id, []])
const statusRange = (status: JobStatus): IDBKeyRange => IDBKeyRange.bound([status, -Infinity], [status, Infinity])

const zeroCounts = (): Record<JobStatus, number> => Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>

function toRow(job: JobRecord): JobRow {
  const row: JobRow = { ...job }
  if (job.key !== undefined && !isFinal(job.status)) row.activeKey = job.key
  if (job.status === 'waiting') row.ready = [-job.priority, job.seq]
  else if (job.status === 'delayed') {
    row.due = job.runAt
    if (job.debounce !== undefined) row.debounceKey = job.debounce
  }
  return row
}

function fromRow(row: JobRow): JobRecord {
  const { activeKey: _activeKey, ready: _ready, due: _due, debounceKey: _debounceKey, result: _result, input: _input, ...job } = row
  return job
}

/** A job's data, read with its row and from the `data` store: the row's `input` if it has one. */
const dataOf = (row: JobRow | undefined, stored: unknown): unknown => (row && 'input' in row ? row.input : stored)

class IdbStore implements Store {
  readonly kind = 'indexeddb'
  readonly fencing = true
  /** The runner token this store claimed last (see `claim`). */
  #claimed: string | undefined
  #options: IdbStoreOptions
  #name = ''
  #db: Promise<IDBPDatabase<OffthreadDB>> | undefined
  #closed = false
  /** Every transaction this store has open (see `#frozen`). */
  #open = new Set<IDBTransaction>()
  /** How often the page froze while this store was open: a call that failed across one is tried again. */
  #freezes = 0
  #unfreeze: (() => void) | undefined
  #watch: Watchdog

  constructor(options: IdbStoreOptions) {
    this.#options = options
    this.#watch = new Watchdog(options.blockedAfter ?? BLOCKED_AFTER)
    // A read whose transaction the page's freeze aborted is read again once the page runs.
    for (const name of RETRIED_READS) {
      const read = (this[name] as (...args: unknown[]) => Promise<unknown>).bind(this)
      Object.defineProperty(this, name, { value: (...args: unknown[]) => this.#retried(() => read(...args)), writable: true, configurable: true })
    }
  }

  /** Tells `listener` when this store's calls have waited on the database past `blockedAfter` ms (true), and when they flow again (false). */
  blocked(listener: (blocked: boolean) => void): () => void {
    return this.#watch.listen(listener)
  }

  async open(queue: string): Promise<void> {
    if (typeof indexedDB === 'undefined') throw new Error('idbStore: IndexedDB is not available here; use memoryStore()')
    this.#name = `${this.#options.prefix ?? 'offthread:'}${queue}`
    this.#closed = false
    this.#unfreeze ??= whenFreezing(() => this.#frozen())
    await this.#connection()
  }

  /**
   * The page is about to be frozen (or put in the back/forward cache): a transaction it
   * holds open would block every other tab until it runs again, maybe never. Abort them
   * all; their callers try again once the page runs (nothing they were told is lost: a
   * write resolves only once committed).
   */
  #frozen(): void {
    this.#freezes++
    for (const tx of this.#open) {
      try {
        tx.abort()
      } catch {
        // Committed or aborted already.
      }
    }
  }

  /** Runs `work` (one transaction) once the page runs, again as long as a freeze aborts it. */
  async #retried<T>(work: () => Promise<T>): Promise<T> {
    const done = this.#watch.start()
    try {
      for (;;) {
        await whenRunning()
        const freezes = this.#freezes
        try {
          return await work()
        } catch (error) {
          // Aborted by a freeze (its transaction was open when the page froze): again, once the page runs.
          if (this.#freezes === freezes || this.#closed) throw error
        }
      }
    } finally {
      done()
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#unfreeze?.()
    this.#unfreeze = undefined
    this.#watch.stop()
    const db = this.#db
    this.#db = undefined
    if (db) (await db).close()
  }

  #connection(): Promise<IDBPDatabase<OffthreadDB>> {
    if (this.#closed) return Promise.reject(new Error('idbStore: the store is closed'))
    // A call before open() must not open (and so create) a database of no name.
    if (this.#name === '') return Promise.reject(new Error('idbStore: the store is not open yet (call open(queue) first)'))
    this.#db ??= openDB<OffthreadDB>(this.#name, SCHEMA_VERSION, {
      upgrade(db, oldVersion, _newVersion, transaction) {
        if (oldVersion < 1) {
          const jobs = db.createObjectStore('jobs', { keyPath: 'id' })
          jobs.createIndex('seq', 'seq', { unique: true })
          jobs.createIndex('status', ['status', 'seq'])
          jobs.createIndex('ready', 'ready')
          jobs.createIndex('due', 'due')
          jobs.createIndex('activeKey', 'activeKey')
          jobs.createIndex('finished', ['status', 'finishedAt'])
          jobs.createIndex('deps', 'dependencies', { multiEntry: true })
          jobs.createIndex('debounce', 'debounceKey')
          db.createObjectStore('data')
          db.createObjectStore('logs')
          db.createObjectStore('errors')
          db.createObjectStore('meta')
          db.createObjectStore('schedules', { keyPath: 'id' })
        }
        if (oldVersion < 2) {
          // list() by name, and by status and name, newest first, without reading a job.
          const jobs = transaction.objectStore('jobs')
          jobs.createIndex('name', ['name', 'seq'])
          jobs.createIndex('statusName', ['status', 'name', 'seq'])
        }
        if (oldVersion < 3) db.createObjectStore('steps')
        if (oldVersion < 4) {
          // counts() reads one record, kept by every write: counting 100,000 jobs in an on-disk
          // Chromium profile took ~1 s. Existing jobs are counted once, here.
          const index = transaction.objectStore('jobs').index('status')
          const meta = transaction.objectStore('meta')
          void Promise.all(JOB_STATUSES.map((status) => index.count(statusRange(status)))).then((n) =>
            meta.put(Object.fromEntries(JOB_STATUSES.map((status, i) => [status, n[i] ?? 0])) as Record<JobStatus, number>, 'counts'),
          )
        }
        // 5: small data in the job's row (`input`); nothing to migrate, but a version of offthread
        // that does not know it must not open this database (it would read such jobs' data as undefined).
        // Later versions migrate here: `if (oldVersion < 6) { ... }`.
      },
      blocking: () => this.#release(),
      terminated: () => {
        this.#db = undefined
      },
    }).catch((error: unknown) => {
      this.#db = undefined
      if ((error as { name?: string }).name === 'VersionError') {
        throw new OffthreadError(
          `idbStore: the database "${this.#name}" was upgraded by a newer version of offthread in another tab; reload this page`,
          { cause: error },
          'ERR_STORE_VERSION',
        )
      }
      throw error
    })
    return this.#db
  }

  /** Another tab wants to upgrade: close now, reopen on the next call. */
  #release(): void {
    const db = this.#db
    this.#db = undefined
    void db?.then((d) => d.close())
  }

  #tx(mode: 'readwrite'): Promise<WriteTx>
  #tx(mode: 'readonly', names: Names[]): Promise<IDBPTransaction<OffthreadDB, Names[], 'readonly'>>
  async #tx(mode: IDBTransactionMode, names: Names[] = ALL): Promise<IDBPTransaction<OffthreadDB, Names[], IDBTransactionMode>> {
    const db = await this.#connection()
    const tx = db.transaction(names, mode as 'readwrite', { durability: this.#options.durability ?? 'default' })
    const raw = unwrap(tx)
    // Aborted (by a freeze, say), idb's own completion promise rejects: its caller hears it through its requests.
    tx.done.catch(ignore)
    const opened = performance.now()
    this.#open.add(raw)
    const closed = (): void => {
      this.#open.delete(raw)
      this.#watch.progress()
      const now = performance.now()
      transactionHook()?.(mode, now - opened, (issued.get(raw) ?? now) - opened)
    }
    raw.addEventListener('complete', closed)
    raw.addEventListener('abort', closed)
    return tx
  }

  async write(ops: readonly WriteOp[], options: { atomic?: boolean } = {}): Promise<WriteResult[]> {
    let refused = false
    let overQuota = false
    for (;;) {
      try {
        return await this.#retried(() => this.#write(ops, options))
      } catch (error) {
        if (isQuotaError(error)) {
          // Chromium keeps the bytes of a Blob whose transaction the quota aborted counted against
          // the quota until a transaction of this origin commits, and refuses every transaction that
          // writes anything meanwhile: the origin stays "full" for good (test/e2e/durability.test.ts,
          // "a full origin"). A transaction that writes nothing needs no room; its commit makes the
          // engine count again. Then the batch is tried once more: it may have been refused for
          // another write's Blob, and what fits must go in.
          await this.#recount()
          if (overQuota) throw quotaExceeded(error)
          overQuota = true
          continue
        }
        // A transaction the engine refused (see refusedByTransaction) committed nothing: the
        // batch runs once more in a new one. A second refusal is the caller's error.
        if (refused || !(error instanceof DOMException && error.name === 'InvalidStateError')) throw error
        refused = true
      }
    }
  }

  /**
   * Inside a big write, every {@link CHUNK} ops: once the page has spent {@link SLICE_MS} on
   * it since `slice.start`, wait on IndexedDB once (the page breathes; the transaction stays alive).
   */
  async #breathe(meta: { get(key: string): Promise<unknown> }, slice: { start: number }): Promise<void> {
    if (performance.now() - slice.start < SLICE_MS) return
    await meta.get('seq')
    this.#watch.progress()
    slice.start = performance.now()
  }

  /** Commits a transaction that writes nothing: after a quota abort, the engine counts the origin's usage again. */
  async #recount(): Promise<void> {
    try {
      const tx = await this.#tx('readwrite')
      await completion(unwrap(tx)).done
    } catch {
      // Only a chance for the engine to recount: the caller reports the write's own error.
    }
  }

  async #write(ops: readonly WriteOp[], options: { atomic?: boolean }): Promise<WriteResult[]> {
    const tx = await this.#tx('readwrite')
    const { done, error: failure } = completion(unwrap(tx))
    // idb's own completion promise exists too: keep its rejection from going unhandled.
    tx.done.catch(ignore)
    // Reads first, all in flight together (plain requests: no promise each); decisions and writes after.
    const jobs = native(tx, 'jobs')
    const state = new Map<string, JobRow | undefined>()
    const keyHolders = new Map<string, string | undefined>()
    const read = (id: string): void => {
      if (state.has(id)) return
      state.set(id, undefined)
      const request = jobs.get(id) as IDBRequest<JobRow | undefined>
      request.onsuccess = () => state.set(id, request.result)
    }
    const schedules = new Map<string, ScheduleRecord | undefined>()
    for (const op of ops) {
      if (op.op === 'schedule' && op.fired && !schedules.has(op.schedule.id)) {
        const { id } = op.schedule
        schedules.set(id, undefined)
        const request = native(tx, 'schedules').get(id) as IDBRequest<ScheduleRecord | undefined>
        request.onsuccess = () => schedules.set(id, request.result)
      }
      // Every put and delete reads the job first: its old status keeps the counts.
      if (op.op === 'put') read(op.job.id)
      if (op.op === 'delete') for (const id of op.ids) read(id)
      if (op.op === 'step') read(op.id)
      if (op.op === 'insert') {
        if (!op.fresh) read(op.job.id)
        const { key } = op.job
        if (key !== undefined && !keyHolders.has(key)) {
          keyHolders.set(key, undefined)
          const request = jobs.index('activeKey').get(key) as IDBRequest<JobRow | undefined>
          request.onsuccess = () => {
            const row = request.result
            keyHolders.set(key, row?.id)
            if (row && state.get(row.id) === undefined) state.set(row.id, row)
          }
        }
      }
    }
    const needsSeq = ops.some((op) => op.op === 'insert')
    const needsCounts = ops.some((op) => op.op === 'insert' || op.op === 'put' || op.op === 'delete')
    const needsLogSeq = ops.some((op) => op.op === 'log' || op.op === 'error')
    const needsRunner = ops.some((op) => op.fence !== undefined)
    const meta = tx.objectStore('meta')
    let seq = 0
    let logSeq = 0
    let counts: Record<JobStatus, number> | undefined
    // The runner token (see `claim`): an op fenced with another token writes nothing.
    let runner: string | undefined
    let claimed = false
    const results: WriteResult[] = []
    try {
      // Requests of one transaction complete in order: these come after every read above.
      const [seqStart, logSeqStart, countsStart, runnerStart] = await Promise.all([
        meta.get('seq'),
        needsLogSeq ? meta.get('logSeq') : undefined,
        needsCounts ? meta.get('counts') : undefined,
        needsRunner ? meta.get('runner') : undefined,
      ])
      runner = runnerStart as string | undefined
      if (needsRunner && runner === undefined && this.#claimed !== undefined) {
        // The database lost its token (deleted and made anew: DevTools, another tab): the token
        // this store claimed last is the runner's still, until another runner claims.
        runner = this.#claimed
        claimed = true
      }
      for (const row of state.values()) if (row?.activeKey !== undefined) keyHolders.set(row.activeKey, row.id)
      seq = (seqStart as number | undefined) ?? 0
      logSeq = (logSeqStart as number | undefined) ?? 0
      if (needsCounts) counts = { ...zeroCounts(), ...(countsStart as Record<JobStatus, number> | undefined) }
      // Let the page breathe in a big batch: awaiting IndexedDB keeps the transaction alive.
      // (Counted in requests: a log op of 100,000 lines is 100,000 of them.)
      let work = 0
      const slice = { start: performance.now() }
      for (const op of ops) {
        if (op.fence !== undefined && op.fence !== runner) {
          results.push({ ok: false, reason: 'fenced' })
          continue
        }
        if (op.op === 'claim') {
          runner = op.token
          claimed = true
          results.push({ ok: true })
          continue
        }
        if (op.op === 'log') {
          const logs = native(tx, 'logs')
          for (const entry of op.entries) {
            putLog(logs, entry, [op.id, ++logSeq])
            if (++work >= CHUNK) {
              work = 0
              await this.#breathe(meta, slice)
            }
          }
          results.push({ ok: true })
          continue
        }
        // The statuses before the op, for the counts.
        const before =
          op.op === 'put' ? [state.get(op.job.id)?.status] : op.op === 'delete' ? [...new Set(op.ids)].map((id) => state.get(id)?.status) : []
        const result = this.#apply(
          tx,
          op,
          state,
          keyHolders,
          schedules,
          () => ++seq,
          () => ++logSeq,
        )
        results.push(result)
        if (counts && result.ok) {
          for (const status of before) if (status !== undefined) counts[status]--
          if (op.op === 'insert' || op.op === 'put') counts[op.job.status]++
        }
        if (++work >= CHUNK) {
          work = 0
          await this.#breathe(meta, slice)
        }
      }
    } catch (error) {
      // A request's failure aborted the transaction (its error says why, in the browser's words),
      // or this code threw: then nothing of the batch may commit.
      try {
        tx.abort()
      } catch {
        // Already aborted.
      }
      await done.catch(ignore)
      throw failure() ?? error
    }
    // An atomic batch is all or nothing: bad input or a lost condition rolls it back.
    // (An insert whose id or key is taken is no failure: the caller gets that job.)
    if (options.atomic && results.some(rollsBack)) {
      tx.abort()
      await done.catch(() => undefined)
      return results.map((r) => (r.ok || r.reason === 'exists' || r.reason === 'key' ? { ok: false, reason: 'aborted' } : r))
    }
    if (needsSeq) quiet(meta.put(seq, 'seq'))
    if (needsLogSeq) quiet(meta.put(logSeq, 'logSeq'))
    if (counts) quiet(meta.put(counts, 'counts'))
    if (claimed) quiet(meta.put(runner as string, 'runner'))
    // Every request is issued: commit now, so that the engine finishes without this page
    // (a page frozen or stopped from here on blocks no other tab).
    commitNow(tx)
    await done
    if (claimed) this.#claimed = runner
    return results
  }

  #apply(
    tx: WriteTx,
    op: Exclude<WriteOp, { op: 'log' } | { op: 'claim' }>,
    state: Map<string, JobRow | undefined>,
    keyHolders: Map<string, string | undefined>,
    schedules: Map<string, ScheduleRecord | undefined>,
    nextSeq: () => number,
    nextLogSeq: () => number,
  ): WriteResult {
    switch (op.op) {
      case 'insert': {
        const existing = state.get(op.job.id)
        if (existing) return { ok: false, reason: 'exists', job: fromRow(existing) }
        const { key } = op.job
        const holderId = key === undefined ? undefined : keyHolders.get(key)
        const holder = holderId === undefined ? undefined : state.get(holderId)
        if (holder && !isFinal(holder.status)) return { ok: false, reason: 'key', job: fromRow(holder) }
        // Small data goes in the job's row: one put. Else the data first: if it cannot be
        // cloned, put throws before anything of this job is queued.
        const inline = inlineable(op.data)
        try {
          if (!inline) native(tx, 'data').put(op.data, op.job.id)
        } catch (error) {
          return valueRefused(error)
        }
        const row = toRow({ ...op.job, seq: nextSeq() })
        if (!inline) native(tx, 'jobs').put(row)
        else {
          row.input = op.data
          try {
            // What looks plain may still not clone (a live Proxy): then this op alone fails.
            native(tx, 'jobs').put(row)
          } catch (error) {
            return valueRefused(error)
          }
        }
        state.set(row.id, row)
        if (row.activeKey !== undefined) keyHolders.set(row.activeKey, row.id)
        return { ok: true, seq: row.seq }
      }
      case 'put': {
        if (op.expect) {
          const stored = state.get(op.job.id)
          if (!stored || !op.expect.includes(stored.status)) {
            return { ok: false, reason: 'conflict', job: stored && fromRow(stored) }
          }
        }
        const row = toRow(op.job)
        if ('result' in op && op.job.status === 'completed') row.result = op.result
        const old = state.get(op.job.id)
        try {
          // Each is one request: a value that cannot be stored (new data, a result, a progress
          // object) throws before that request is queued, and this op alone fails.
          const moved = 'data' in op && inlineable(op.data)
          if (!('data' in op)) {
            if (old && 'input' in old) row.input = old.input
          } else if (moved) row.input = op.data
          else native(tx, 'data').put(op.data, op.job.id)
          native(tx, 'jobs').put(row)
          // New data moved into the row: its old record goes, after the row's put (which may refuse it).
          if (moved && old && !('input' in old)) native(tx, 'data').delete(op.job.id)
        } catch (error) {
          return valueRefused(error)
        }
        state.set(row.id, row)
        const { key } = op.job
        if (key !== undefined) {
          if (row.activeKey !== undefined) keyHolders.set(key, row.id)
          else if (keyHolders.get(key) === row.id) keyHolders.delete(key)
        }
        return { ok: true }
      }
      case 'error':
        try {
          native(tx, 'errors').put(op.record, [op.id, nextLogSeq()])
        } catch (error) {
          return valueRefused(error)
        }
        return { ok: true }
      case 'schedule': {
        let record = op.schedule
        if (op.fired) {
          const stored = schedules.get(record.id)
          if (!stored || (op.fired === 'due' && stored.paused)) return { ok: false, reason: 'conflict', job: undefined }
          record = firedOnto(stored, record)
        }
        try {
          native(tx, 'schedules').put(record)
        } catch (error) {
          return valueRefused(error)
        }
        schedules.set(record.id, record)
        return { ok: true }
      }
      case 'step': {
        const stored = state.get(op.id)
        if (stored?.status !== 'running') return { ok: false, reason: 'conflict', job: stored && fromRow(stored) }
        try {
          native(tx, 'steps').put(op.value, [op.id, op.step])
        } catch (error) {
          return valueRefused(error)
        }
        return { ok: true }
      }
      case 'release': {
        // In `meta`: one record per release (`release:` and its key), and the runner's key.
        const meta = native(tx, 'meta')
        for (const version of op.drop ?? []) meta.delete(RELEASE + releaseKey(version))
        try {
          meta.put(op.release, RELEASE + releaseKey(op.release.version))
        } catch (error) {
          return valueRefused(error)
        }
        if (op.runner) meta.put(releaseKey(op.release.version), 'runnerRelease')
        return { ok: true }
      }
      case 'unschedule':
        native(tx, 'schedules').delete(op.id)
        schedules.set(op.id, undefined)
        return { ok: true }
      case 'delete':
        for (const id of op.ids) {
          quiet(tx.objectStore('jobs').delete(id))
          quiet(tx.objectStore('data').delete(id))
          quiet(tx.objectStore('logs').delete(jobRange(id)))
          quiet(tx.objectStore('errors').delete(jobRange(id)))
          quiet(tx.objectStore('steps').delete(IDBKeyRange.bound([id], [id, []])))
          state.set(id, undefined)
        }
        return { ok: true }
    }
  }

  async releases(): Promise<StoredReleases> {
    const tx = await this.#tx('readonly', ['meta'])
    const meta = tx.objectStore('meta')
    const [known, runner] = await Promise.all([
      meta.getAll(IDBKeyRange.bound(RELEASE, `${RELEASE}\uffff`)) as Promise<ReleaseRecord[]>,
      meta.get('runnerRelease') as Promise<string | undefined>,
    ])
    return { known, runner: known.find((r) => releaseKey(r.version) === runner) }
  }

  async get(ids: readonly string[]): Promise<Array<JobRecord | undefined>> {
    const tx = await this.#tx('readonly', ['jobs'])
    const store = tx.objectStore('jobs')
    const rows = await Promise.all(ids.map((id) => store.get(id)))
    return rows.map((row) => row && fromRow(row))
  }

  async getFull(id: string, options: { data?: boolean } = {}): Promise<StoredJob | undefined> {
    return (await this.#full([id], options.data !== false))[0]
  }

  async getData(ids: readonly string[]): Promise<unknown[]> {
    const tx = await this.#tx('readonly', ['jobs', 'data'])
    const jobs = tx.objectStore('jobs')
    const data = tx.objectStore('data')
    return Promise.all(ids.map(async (id) => dataOf(...(await Promise.all([jobs.get(id), data.get(id)])))))
  }

  /** Jobs with their result, and their data when `withData` (the data store is not even opened otherwise). */
  async #full(ids: readonly string[], withData: boolean): Promise<Array<StoredJob | undefined>> {
    const tx = await this.#tx('readonly', withData ? ['jobs', 'data'] : ['jobs'])
    const jobs = tx.objectStore('jobs')
    const data = withData ? tx.objectStore('data') : undefined
    return Promise.all(
      ids.map(async (id) => {
        const [row, value] = await Promise.all([jobs.get(id), data?.get(id)])
        if (!row) return undefined
        const full = fromRow(row) as StoredJob
        if (withData) full.data = dataOf(row, value)
        if (row.status === 'completed') full.result = row.result
        return full
      }),
    )
  }

  /**
   * Newest first through the index that fits the filters (by status, name, both, or
   * none), reading keys only: `offset` is skipped with `advance`, never by reading the
   * jobs it skips; only the page's jobs are read. Several statuses: one walk each, merged.
   */
  async list(query: ListQuery): Promise<StoredJob[]> {
    const statuses = query.status === undefined ? undefined : [...new Set(([] as JobStatus[]).concat(query.status))]
    const offset = query.offset ?? 0
    const limit = query.limit ?? Infinity
    if (limit === 0 || statuses?.length === 0) return []
    const tx = await this.#tx('readonly', ['jobs', 'meta'])
    const jobs = tx.objectStore('jobs')
    const { name, before } = query
    // One walk per status (or one over all): [seq, id] pairs, newest first, at most offset + limit each.
    const walk = async (status: JobStatus | undefined, skip: number, take: number): Promise<Array<[number, string]>> => {
      // Keys end with the seq: `before` is an exclusive upper bound on it (keyset pagination).
      const top = before ?? Infinity
      const [index, range] = ((): [IndexName, IDBKeyRange | null] => {
        if (status !== undefined && name !== undefined)
          return ['statusName', IDBKeyRange.bound([status, name, -Infinity], [status, name, top], false, before !== undefined)]
        if (status !== undefined) return ['status', IDBKeyRange.bound([status, -Infinity], [status, top], false, before !== undefined)]
        if (name !== undefined) return ['name', IDBKeyRange.bound([name, -Infinity], [name, top], false, before !== undefined)]
        return ['seq', before === undefined ? null : IDBKeyRange.upperBound(before, true)]
      })()
      const source = jobs.index(index)
      // A far offset is walked from the oldest end when that end is nearer (advance costs per entry skipped).
      let direction: IDBCursorDirection = 'prev'
      if (skip > FAR_OFFSET && Number.isFinite(take)) {
        // Without a name or a bound, the kept counts say how many (a count over the index walks it: ~1 s for 100,000 on disk).
        const kept = name === undefined && before === undefined ? await jobs.transaction.objectStore('meta').get('counts') : undefined
        const total = kept
          ? status === undefined
            ? Object.values(kept as Record<JobStatus, number>).reduce((a, b) => a + b, 0)
            : (kept as Record<JobStatus, number>)[status]
          : await source.count(range)
        if (skip >= total) return []
        if (total - skip < skip) {
          direction = 'next'
          const end = Math.min(total, skip + take)
          take = end - skip
          skip = total - end
        }
      }
      const found: Array<[number, string]> = []
      let cursor = await source.openKeyCursor(range, direction)
      if (cursor && skip > 0) cursor = await cursor.advance(skip)
      while (cursor && found.length < take) {
        // The seq is the last part of every one of these index keys (or the key itself).
        const key: unknown = cursor.key
        found.push([Number(Array.isArray(key) ? key[key.length - 1] : key), cursor.primaryKey])
        cursor = await cursor.continue()
      }
      return direction === 'next' ? found.reverse() : found
    }
    let page: Array<[number, string]>
    if (!statuses || statuses.length === 1) page = await walk(statuses?.[0], offset, limit)
    else {
      const walks = await Promise.all(statuses.map((status) => walk(status, 0, offset + limit)))
      page = walks
        .flat()
        .sort((a, b) => b[0] - a[0])
        .slice(offset, offset + limit)
    }
    if (query.data) {
      const full = await this.#full(
        page.map(([, id]) => id),
        true,
      )
      return full.filter((job): job is StoredJob => job !== undefined)
    }
    const rows = await Promise.all(page.map(([, id]) => jobs.get(id)))
    return rows.filter((row): row is JobRow => row !== undefined).map((row) => fromRow(row) as StoredJob)
  }

  /** One record, kept by every write (schema 4): no count over the jobs. */
  async counts(): Promise<Record<JobStatus, number>> {
    const tx = await this.#tx('readonly', ['meta'])
    const stored = (await tx.objectStore('meta').get('counts')) as Record<JobStatus, number> | undefined
    return { ...zeroCounts(), ...stored }
  }

  async pending(kind: 'ready' | 'delayed', limit: number, after?: JobRecord): Promise<JobRecord[]> {
    // getAll's count of 0 means "all": not what a limit of 0 asks.
    if (limit <= 0) return []
    const tx = await this.#tx('readonly', ['jobs'])
    const rows =
      kind === 'ready'
        ? await tx
            .objectStore('jobs')
            .index('ready')
            .getAll(after ? IDBKeyRange.lowerBound([-after.priority, after.seq], true) : undefined, limit)
        : await tx
            .objectStore('jobs')
            .index('due')
            .getAll(after ? IDBKeyRange.lowerBound(after.runAt) : undefined, limit)
    return rows.map(fromRow)
  }

  async schedules(): Promise<ScheduleRecord[]> {
    const tx = await this.#tx('readonly', ['schedules'])
    return tx.objectStore('schedules').getAll()
  }

  async debounced(key: string): Promise<JobRecord | undefined> {
    const tx = await this.#tx('readonly', ['jobs'])
    const row = await tx.objectStore('jobs').index('debounce').get(key)
    return row && fromRow(row)
  }

  async dependents(id: string): Promise<JobRecord[]> {
    const tx = await this.#tx('readonly', ['jobs'])
    return (await tx.objectStore('jobs').index('deps').getAll(id)).map(fromRow)
  }

  async scan(statuses: readonly JobStatus[], visit: (job: JobRecord) => void): Promise<void> {
    for (const status of statuses) {
      let lower = -Infinity
      for (;;) {
        const tx = await this.#tx('readonly', ['jobs'])
        const range = IDBKeyRange.bound([status, lower], [status, Infinity], true, false)
        const rows = await tx.objectStore('jobs').index('status').getAll(range, PAGE)
        for (const row of rows) visit(fromRow(row))
        const last = rows[rows.length - 1]
        if (rows.length < PAGE || !last) break
        lower = last.seq
      }
    }
  }

  async logs(id: string): Promise<LogEntry[]> {
    const tx = await this.#tx('readonly', ['logs'])
    return tx.objectStore('logs').getAll(jobRange(id))
  }

  async errors(id: string): Promise<ErrorRecord[]> {
    const tx = await this.#tx('readonly', ['errors'])
    return tx.objectStore('errors').getAll(jobRange(id))
  }
  async steps(id: string): Promise<Record<string, unknown>> {
    const tx = await this.#tx('readonly', ['steps'])
    const range = IDBKeyRange.bound([id], [id, []])
    const store = tx.objectStore('steps')
    const [keys, values] = await Promise.all([store.getAllKeys(range), store.getAll(range)])
    return Object.fromEntries(keys.map((key, i) => [key[1], values[i]]))
  }

  async expired(status: JobStatus, rule: { finishedBefore?: number; keep?: number }, limit: number): Promise<string[]> {
    const tx = await this.#tx('readonly', ['jobs'])
    const index = tx.objectStore('jobs').index('finished')
    const range = IDBKeyRange.bound([status, -Infinity], [status, Infinity])
    const total = rule.keep === undefined ? 0 : await index.count(range)
    const overCount = rule.keep === undefined ? 0 : Math.max(0, total - rule.keep)
    const out: string[] = []
    let cursor = await index.openKeyCursor(range)
    while (cursor && out.length < limit) {
      const finishedAt = cursor.key[1]
      const old = rule.finishedBefore !== undefined && finishedAt < rule.finishedBefore
      if (!old && out.length >= overCount) break
      out.push(cursor.primaryKey)
      cursor = await cursor.continue()
    }
    return out
  }
}
