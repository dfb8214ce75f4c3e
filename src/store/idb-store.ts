/**
 * The IndexedDB store: one database per queue name. Job metadata, data,
 * results, logs and errors live in separate object stores, so a state change
 * rewrites only a small record; a small input lives in its job's record
 * (`input`), so adding a job is one put. Every `write` is one transaction
 * (idb-write.ts, on the rules every store shares: write-rules.ts); the schema and a
 * job's row are in idb-schema.ts; the page's lifecycle (freezes, explicit commits, a
 * database held elsewhere) in idb-lifecycle.ts; `list()`, loaded on its first call, in
 * idb-list.ts. These idb-* files are the only ones that touch IndexedDB.
 */
import { openDB, unwrap, type IDBPDatabase, type IDBPTransaction } from 'idb'
import { OffthreadError } from '../shared/errors.js'
import type { ErrorRecord, JobStatus, LogEntry } from '../shared/types.js'
import {
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
import { zeroCounts } from './write-rules.js'
import { releaseKey, type ReleaseRecord } from '../shared/release.js'
import {
  ALL,
  dataOf,
  fromRow,
  jobRange,
  RELEASE,
  SCHEMA_VERSION,
  upgrade,
  type LeaseRecord,
  type Names,
  type OffthreadDB,
  type WriteTx,
} from './idb-schema.js'
import { completion, IdbLifecycle, ignore } from './idb-lifecycle.js'
import { holdsBlob, probeBlobs, triedAgain, writeBatch } from './idb-write.js'
import { Leases, LEASES } from './idb-lease.js'

export { SCHEMA_VERSION } from './idb-schema.js'

const PAGE = 500
/** Calls waiting on the database this long (ms) with nothing done meanwhile: another tab holds it. */
const BLOCKED_AFTER = 5000
/** The reads tried again after a freeze aborted them (`scan` is not: it would visit jobs twice). */
const RETRIED_READS = STORE_READS.filter((name): name is Exclude<(typeof STORE_READS)[number], 'scan'> => name !== 'scan')

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

class IdbStore implements Store {
  readonly kind = 'indexeddb'
  readonly fencing = true
  /** The runner token this store claimed last (see `claim`). */
  #claimed: string | undefined
  /** Whether the engine stores Blob values: asked at the first write that holds one. */
  #blobs: Promise<boolean> | undefined
  #options: IdbStoreOptions
  #name = ''
  #db: Promise<IDBPDatabase<OffthreadDB>> | undefined
  #life: IdbLifecycle

  constructor(options: IdbStoreOptions) {
    this.#options = options
    this.#life = new IdbLifecycle(options.blockedAfter ?? BLOCKED_AFTER)
    // A read whose transaction the page's freeze aborted is read again once the page runs.
    for (const name of RETRIED_READS) {
      const read = (this[name] as (...args: unknown[]) => Promise<unknown>).bind(this)
      Object.defineProperty(this, name, {
        value: (...args: unknown[]) => this.#life.retried(() => read(...args)),
        writable: true,
        configurable: true,
      })
    }
  }

  /** Tells `listener` when this store's calls have waited on the database past `blockedAfter` ms (true), and when they flow again (false). */
  blocked(listener: (blocked: boolean) => void): () => void {
    return this.#life.blocked(listener)
  }

  async open(queue: string): Promise<void> {
    if (typeof indexedDB === 'undefined') throw new Error('idbStore: IndexedDB is not available here; use memoryStore()')
    this.#name = `${this.#options.prefix ?? 'offthread:'}${queue}`
    this.#life.open()
    await this.#connection()
  }

  async close(): Promise<void> {
    this.#life.close()
    const db = this.#db
    this.#db = undefined
    if (db) (await db).close()
  }

  #connection(): Promise<IDBPDatabase<OffthreadDB>> {
    if (this.#life.closed) return Promise.reject(new Error('idbStore: the store is closed'))
    // A call before open() must not open (and so create) a database of no name.
    if (this.#name === '') return Promise.reject(new Error('idbStore: the store is not open yet (call open(queue) first)'))
    this.#db ??= openDB<OffthreadDB>(this.#name, SCHEMA_VERSION, {
      upgrade: (db, oldVersion, _newVersion, transaction) => upgrade(db, oldVersion, transaction),
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
    // Aborted (by a freeze, say), idb's own completion promise rejects: its caller hears it through its requests.
    tx.done.catch(ignore)
    this.#life.track(unwrap(tx), mode)
    return tx
  }

  async write(ops: readonly WriteOp[], options: { atomic?: boolean } = {}): Promise<WriteResult[]> {
    return triedAgain(
      () => this.#life.retried(() => this.#write(ops, options)),
      () => this.#recount(),
    )
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

  storesBlobs(): Promise<boolean> {
    this.#blobs ??= this.#connection().then((db) => probeBlobs(unwrap(db)))
    return this.#blobs
  }

  async #write(ops: readonly WriteOp[], options: { atomic?: boolean }): Promise<WriteResult[]> {
    // The first write that holds a Blob learns whether the engine stores them (see probeBlobs).
    const blobsRefused = ops.some(holdsBlobs) && !(await this.storesBlobs())
    const tx = await this.#tx('readwrite')
    const { results, claimed } = await writeBatch(tx, ops, options.atomic, this.#claimed, () => this.#life.progress(), blobsRefused)
    if (claimed !== undefined) this.#claimed = claimed
    return results
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
    const tx = await this.#tx('readonly', ['jobs', 'meta'])
    const store = tx.objectStore('jobs')
    const [leased, rows] = await Promise.all([leases(tx), Promise.all(ids.map((id) => store.get(id)))])
    return rows.map((row) => leased.record(row))
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
    const tx = await this.#tx('readonly', withData ? ['jobs', 'data', 'meta'] : ['jobs', 'meta'])
    const jobs = tx.objectStore('jobs')
    const data = withData ? tx.objectStore('data') : undefined
    const leased = leases(tx)
    return Promise.all(
      ids.map(async (id) => {
        const [row, value] = await Promise.all([jobs.get(id), data?.get(id)])
        if (!row) return undefined
        const full = (await leased).record(row) as StoredJob
        if (withData) full.data = dataOf(row, value)
        if (row.status === 'completed') full.result = row.result
        return full
      }),
    )
  }

  /**
   * See idb-list.ts. Loaded on the first call: only a page that lists jobs (a UI, the
   * inspector) needs it, and the page's bundle has a ceiling. (Before the transaction
   * opens: inside one, only IndexedDB may be awaited.)
   */
  async list(query: ListQuery): Promise<StoredJob[]> {
    const { list } = await import('./idb-list.js')
    return list(
      query,
      () => this.#tx('readonly', ['jobs', 'meta']),
      (ids) => this.#full(ids, true),
      leases,
    )
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
    const tx = await this.#tx('readonly', ['jobs', 'meta'])
    const leased = await leases(tx)
    // Leased jobs are running: read past as many as there are leased.
    const count = limit + leased.size
    const rows =
      kind === 'ready'
        ? await tx
            .objectStore('jobs')
            .index('ready')
            .getAll(after ? IDBKeyRange.lowerBound([-after.priority, after.seq], true) : undefined, count)
        : await tx
            .objectStore('jobs')
            .index('due')
            .getAll(after ? IDBKeyRange.lowerBound(after.runAt) : undefined, count)
    return rows
      .filter((row) => !leased.leased(row))
      .slice(0, limit)
      .map(fromRow)
  }

  async schedules(): Promise<ScheduleRecord[]> {
    const tx = await this.#tx('readonly', ['schedules'])
    return tx.objectStore('schedules').getAll()
  }

  async debounced(key: string): Promise<JobRecord | undefined> {
    const tx = await this.#tx('readonly', ['jobs', 'meta'])
    const [leased, rows] = await Promise.all([leases(tx), tx.objectStore('jobs').index('debounce').getAll(key)])
    const row = rows.find((r) => !leased.leased(r))
    return row && fromRow(row)
  }

  async dependents(id: string): Promise<JobRecord[]> {
    const tx = await this.#tx('readonly', ['jobs', 'meta'])
    const [leased, rows] = await Promise.all([leases(tx), tx.objectStore('jobs').index('deps').getAll(id)])
    return rows.map((row) => leased.record(row))
  }

  async scan(statuses: readonly JobStatus[], visit: (job: JobRecord) => void): Promise<void> {
    for (const status of statuses) {
      let lower = -Infinity
      for (;;) {
        const tx = await this.#tx('readonly', ['jobs', 'meta'])
        const range = IDBKeyRange.bound([status, lower], [status, Infinity], true, false)
        const [leased, rows] = await Promise.all([leases(tx), tx.objectStore('jobs').index('status').getAll(range, PAGE)])
        for (const row of rows) if (!leased.leased(row)) visit(fromRow(row))
        const last = rows[rows.length - 1]
        if (rows.length < PAGE || !last) break
        lower = last.seq
      }
      // Leased jobs are running, their rows `waiting` or `delayed`.
      if (status === 'running') {
        const tx = await this.#tx('readonly', ['jobs', 'meta'])
        const leased = await leases(tx)
        const jobs = tx.objectStore('jobs')
        const rows = await Promise.all([...leased.entries.keys()].map((id) => jobs.get(id)))
        for (const row of rows) if (row && leased.leased(row)) visit(leased.record(row))
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

/** The leases of `tx` (which spans `meta`): see idb-lease.ts. */
async function leases(tx: IDBPTransaction<OffthreadDB, Names[], 'readonly'>): Promise<Leases> {
  return new Leases((await tx.objectStore('meta').get(LEASES)) as LeaseRecord | undefined)
}

/** Whether an op stores a value that is or holds a Blob (see holdsBlob). */
function holdsBlobs(op: WriteOp): boolean {
  if (op.op === 'insert') return holdsBlob(op.data)
  if (op.op === 'put') return ('data' in op && holdsBlob(op.data)) || ('result' in op && holdsBlob(op.result))
  if (op.op === 'signal') return holdsBlob(op.payload)
  if (op.op === 'step') return holdsBlob(op.value)
  return false
}
