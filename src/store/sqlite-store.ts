/**
 * The SQLite store for server runtimes: the runtime's own SQLite (`bun:sqlite` in
 * Bun, `node:sqlite` in Deno and Node ≥ 22.5), found at `open`, nothing native
 * shipped. One file holds any number of queues (every row carries its queue's
 * name); every `write` is one `BEGIN IMMEDIATE` transaction, so two processes on
 * one file take turns. Values (data, results, progress, steps, log meta,
 * schedules) are kept as `node:v8` serialized BLOBs: they round-trip as
 * structured clone does. The runner lease (see {@link Store.lease}) is a row of
 * the `queues` table.
 */
import { OffthreadError } from '../shared/errors.js'
import { JOB_STATUSES, isFinal, type ErrorRecord, type JobStatus, type LogEntry } from '../shared/types.js'
import {
  firedOnto,
  rollsBack,
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

/** The schema version, kept in `PRAGMA user_version`; bump it with a migration step in `#migrate`. */
export const SQLITE_SCHEMA_VERSION = 1

/** Options of {@link sqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * How long (ms) a write waits for another process's transaction on the same file
   * before it fails with SQLite's `database is locked`.
   * @defaultValue 5000
   */
  busyTimeout?: number
  /**
   * `'normal'` (WAL's usual setting) survives a crash of the process, as `kill -9`;
   * `'full'` also a power loss, at a cost on every write.
   * @defaultValue 'normal'
   */
  synchronous?: 'normal' | 'full'
}

const DEFAULTS: Readonly<Required<SqliteStoreOptions>> = Object.freeze({ busyTimeout: 5000, synchronous: 'normal' })

/**
 * Creates a store in the SQLite database file `path` (created if missing; its
 * directory must exist), on Bun, Deno (`--allow-read --allow-write`) or Node ≥ 22.5.
 *
 * @param path - the database file; `':memory:'` for a private in-memory database
 * @param options - see {@link SqliteStoreOptions}
 * @example
 * ```ts
 * import { createQueue } from 'offthread'
 * import { sqliteStore } from 'offthread/sqlite'
 * const queue = createQueue({ store: sqliteStore('./jobs.db'), worker: () => new Worker(url, { type: 'module' }) })
 * ```
 */
export function sqliteStore(path: string, options: SqliteStoreOptions = {}): Store {
  if (typeof path !== 'string') throw new TypeError(`sqliteStore: the path must be a string (a file name), received ${describe(path)}`)
  if (path === '') throw new TypeError('sqliteStore: the path is empty; give a file name such as "./jobs.db" (or ":memory:")')
  if (typeof options !== 'object' || options === null) throw new TypeError(`sqliteStore: options must be an object, received ${describe(options)}`)
  const busyTimeout = options.busyTimeout ?? DEFAULTS.busyTimeout
  if (typeof busyTimeout !== 'number' || !Number.isInteger(busyTimeout) || busyTimeout < 0) {
    throw new RangeError(`sqliteStore: invalid option "busyTimeout": expected an integer number of ms ≥ 0, received ${describe(busyTimeout)}`)
  }
  const synchronous = options.synchronous ?? DEFAULTS.synchronous
  if (synchronous !== 'normal' && synchronous !== 'full') {
    throw new TypeError(`sqliteStore: invalid option "synchronous": expected 'normal' or 'full', received ${describe(synchronous)}`)
  }
  return new SqliteStore(path, { busyTimeout, synchronous })
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return 'a function'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`
}

// The small part of `bun:sqlite` and `node:sqlite` this file uses (both have these shapes).
type SqlValue = string | number | null | Uint8Array
type Row = Record<string, unknown>
interface SqliteStatement {
  run(...params: SqlValue[]): unknown
  get(...params: SqlValue[]): Row | null | undefined
  all(...params: SqlValue[]): Row[]
}
interface SqliteDatabase {
  exec(sql: string): unknown
  prepare(sql: string): SqliteStatement
  close(): unknown
}

/** What a runtime gives this store: SQLite, a structured serializer, and enough of the process to tell a dead lease holder. */
interface Runtime {
  name: string
  /** The serialization format of values: V8's (Deno, Node) or JavaScriptCore's (Bun); a file keeps one. */
  format: 'v8' | 'jsc'
  open(path: string): SqliteDatabase
  serialize(value: unknown): Uint8Array
  deserialize(bytes: Uint8Array): unknown
  directoryExists(path: string): boolean
  pid: number | undefined
  host: string | undefined
  /** Whether process `pid` of this host may be alive (false only when it surely is not). */
  alive(pid: number): boolean
}

interface ProcessLike {
  pid: number
  kill(pid: number, signal: number): unknown
  versions?: Record<string, string | undefined>
}

/** The name of this runtime, for messages. */
function runtimeName(): string {
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } }; process?: ProcessLike }
  if (g.Bun) return `Bun ${g.Bun.version}`
  if (g.Deno) return `Deno ${g.Deno.version.deno}`
  const node = g.process?.versions?.['node']
  if (node) return `Node ${node}`
  return 'this runtime (a browser?)'
}

// Kept in variables: bundlers and tsc must not try to resolve them.
const BUN_SQLITE = 'bun:sqlite'
const NODE_SQLITE = 'node:sqlite'
const NODE_V8 = 'node:v8'
const NODE_OS = 'node:os'
const NODE_FS = 'node:fs'

let runtime: Promise<Runtime> | undefined

/** Loads the runtime's SQLite and helpers once per process. */
function loadRuntime(): Promise<Runtime> {
  runtime ??= (async (): Promise<Runtime> => {
    const name = runtimeName()
    const g = globalThis as { Bun?: unknown; process?: ProcessLike }
    const isBun = g.Bun !== undefined
    let open: (path: string) => SqliteDatabase
    try {
      if (isBun) {
        const { Database } = (await import(/* @vite-ignore */ BUN_SQLITE)) as { Database: new (path: string) => SqliteDatabase }
        open = (path) => new Database(path)
      } else {
        const { DatabaseSync } = (await import(/* @vite-ignore */ NODE_SQLITE)) as { DatabaseSync: new (path: string) => SqliteDatabase }
        if (typeof DatabaseSync !== 'function') throw new Error('node:sqlite has no DatabaseSync')
        open = (path) => new DatabaseSync(path)
      }
    } catch (error) {
      throw new OffthreadError(
        `sqliteStore: ${name} has no built-in SQLite. It needs Bun (bun:sqlite), Deno 2 or Node ≥ 22.5 (node:sqlite; Node 22.5 to 22.12 with --experimental-sqlite); here use memoryStore()${name.startsWith('this runtime') ? ' or idbStore()' : ''}`,
        { cause: error },
      )
    }
    const v8 = (await import(/* @vite-ignore */ NODE_V8)) as { serialize(value: unknown): Uint8Array; deserialize(bytes: Uint8Array): unknown }
    const fs = (await import(/* @vite-ignore */ NODE_FS)) as {
      statSync(path: string, options: { throwIfNoEntry: false }): { isDirectory(): boolean } | undefined
    }
    let host: string | undefined
    try {
      host = ((await import(/* @vite-ignore */ NODE_OS)) as { hostname(): string }).hostname()
    } catch {
      // Deno without --allow-sys: no host, so a holder's pid is never checked (the lease runs out instead).
    }
    const proc = g.process
    return {
      name,
      format: isBun ? 'jsc' : 'v8',
      open,
      serialize(value) {
        try {
          return v8.serialize(value)
        } catch (error) {
          // As structuredClone says it (Deno's node:v8 throws a plain Error).
          if ((error as { name?: unknown }).name === 'DataCloneError') throw error
          throw new DOMException((error as Error).message, 'DataCloneError')
        }
      },
      deserialize: (bytes) => v8.deserialize(bytes),
      directoryExists: (path) => fs.statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false,
      pid: proc?.pid,
      host,
      alive(pid) {
        if (!proc || pid === proc.pid) return true
        try {
          proc.kill(pid, 0)
          return true
        } catch (error) {
          // ESRCH: no such process. Anything else (EPERM, Deno without --allow-run): maybe alive.
          return (error as { code?: unknown }).code !== 'ESRCH'
        }
      },
    }
  })()
  runtime.catch(() => {
    runtime = undefined
  })
  return runtime
}

/** The schema, version 1: one statement each. */
const SCHEMA_1 = [
  // Per queue: the next seq, the runner token (`claim`), and the runner lease.
  `CREATE TABLE queues (queue TEXT PRIMARY KEY, seq INTEGER NOT NULL DEFAULT 0, runner TEXT,
    lease_holder TEXT, lease_expires INTEGER, lease_heartbeat INTEGER, lease_pid INTEGER, lease_host TEXT)`,
  // Jobs per status, kept by the triggers below: counts() reads 7 rows.
  `CREATE TABLE counts (queue TEXT NOT NULL, status TEXT NOT NULL, n INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (queue, status)) WITHOUT ROWID`,
  // A job: the whole record as a BLOB, and the columns its indexes need. `rank` is −priority
  // (one ascending index is the dispatch order); `active_key` is the key while unfinished;
  // `debounce_key` the debounce key while delayed; `deps` the dependencies as JSON.
  `CREATE TABLE jobs (queue TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, status TEXT NOT NULL, name TEXT NOT NULL,
    rank REAL NOT NULL, run_at REAL NOT NULL, finished_at REAL, active_key TEXT, debounce_key TEXT, deps TEXT,
    record BLOB NOT NULL, result BLOB)`,
  `CREATE UNIQUE INDEX jobs_id ON jobs (queue, id)`,
  `CREATE UNIQUE INDEX jobs_seq ON jobs (queue, seq)`,
  `CREATE INDEX jobs_status ON jobs (queue, status, seq)`,
  `CREATE INDEX jobs_name ON jobs (queue, name, seq)`,
  `CREATE INDEX jobs_status_name ON jobs (queue, status, name, seq)`,
  `CREATE INDEX jobs_ready ON jobs (queue, rank, seq) WHERE status = 'waiting'`,
  `CREATE INDEX jobs_due ON jobs (queue, run_at, seq) WHERE status = 'delayed'`,
  `CREATE INDEX jobs_key ON jobs (queue, active_key) WHERE active_key IS NOT NULL`,
  `CREATE INDEX jobs_debounce ON jobs (queue, debounce_key) WHERE debounce_key IS NOT NULL`,
  `CREATE INDEX jobs_finished ON jobs (queue, status, finished_at, seq)`,
  `CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs BEGIN
    UPDATE counts SET n = n + 1 WHERE queue = new.queue AND status = new.status; END`,
  `CREATE TRIGGER jobs_count_update AFTER UPDATE OF status ON jobs WHEN old.status <> new.status BEGIN
    UPDATE counts SET n = n - 1 WHERE queue = old.queue AND status = old.status;
    UPDATE counts SET n = n + 1 WHERE queue = new.queue AND status = new.status; END`,
  `CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs BEGIN
    UPDATE counts SET n = n - 1 WHERE queue = old.queue AND status = old.status; END`,
  // Data apart: reading a job's metadata never reads its data.
  `CREATE TABLE data (queue TEXT NOT NULL, id TEXT NOT NULL, value BLOB, PRIMARY KEY (queue, id))`,
  // dependents(id): one index range.
  `CREATE TABLE dependencies (queue TEXT NOT NULL, dep TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (queue, dep, id)) WITHOUT ROWID`,
  `CREATE TABLE logs (n INTEGER PRIMARY KEY, queue TEXT NOT NULL, id TEXT NOT NULL, entry BLOB NOT NULL)`,
  `CREATE INDEX logs_job ON logs (queue, id, n)`,
  `CREATE TABLE errors (n INTEGER PRIMARY KEY, queue TEXT NOT NULL, id TEXT NOT NULL, record BLOB NOT NULL)`,
  `CREATE INDEX errors_job ON errors (queue, id, n)`,
  `CREATE TABLE steps (queue TEXT NOT NULL, id TEXT NOT NULL, step TEXT NOT NULL, value BLOB, PRIMARY KEY (queue, id, step))`,
  `CREATE TABLE schedules (queue TEXT NOT NULL, id TEXT NOT NULL, record BLOB NOT NULL, PRIMARY KEY (queue, id))`,
  // `format`: the serialization of every BLOB (see Runtime.format).
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
]

const PAGE = 500
const zeroCounts = (): Record<JobStatus, number> => Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>

/** A job's row as `#row` reads it. */
interface JobRow {
  status: JobStatus
  active_key: string | null
  deps: string | null
  record: Uint8Array
}

/** A value serialized for a BLOB, or the error that says why it cannot be. */
type Packed = { ok: true; bytes: Uint8Array } | { ok: false; error: unknown }

class SqliteStore implements Store {
  readonly kind = 'sqlite'
  readonly fencing = true
  #path: string
  #options: Required<SqliteStoreOptions>
  #queue = ''
  #db: SqliteDatabase | undefined
  #rt: Runtime | undefined
  #statements = new Map<string, SqliteStatement>()

  constructor(path: string, options: Required<SqliteStoreOptions>) {
    this.#path = path
    this.#options = options
  }

  async open(queue: string): Promise<void> {
    await this.close()
    const rt = await loadRuntime()
    const path = this.#path
    const inMemory = path === ':memory:' || path.startsWith('file:')
    if (!inMemory) {
      const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'))
      const dir = slash < 0 ? '.' : path.slice(0, slash) || '/'
      if (!rt.directoryExists(dir)) throw new OffthreadError(`sqliteStore: cannot open "${path}": its directory "${dir}" does not exist`)
    }
    let db: SqliteDatabase
    try {
      db = rt.open(path)
    } catch (error) {
      throw new OffthreadError(`sqliteStore: cannot open "${path}" in ${rt.name}: ${(error as Error).message}`, { cause: error })
    }
    this.#db = db
    this.#rt = rt
    this.#queue = queue
    try {
      db.exec(`PRAGMA busy_timeout = ${this.#options.busyTimeout}`)
      this.#sql('PRAGMA journal_mode = WAL').get()
      db.exec(`PRAGMA synchronous = ${this.#options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
      this.#migrate()
    } catch (error) {
      this.#closeNow()
      if (/not a database/i.test((error as Error).message ?? '')) {
        throw new OffthreadError(`sqliteStore: "${path}" is not a SQLite database (${(error as Error).message})`, { cause: error })
      }
      throw error
    }
  }

  /** Creates or upgrades the schema, checks the values' format, and adds this queue's rows. */
  #migrate(): void {
    const db = this.#ready()
    const rt = this.#rt as Runtime
    const version = (): number => Number(this.#sql('PRAGMA user_version').get()?.['user_version'] ?? 0)
    const newer = (found: number): OffthreadError =>
      new OffthreadError(
        `sqliteStore: the database "${this.#path}" has schema version ${found}, newer than the version this offthread knows (${SQLITE_SCHEMA_VERSION}); upgrade offthread to open it`,
        undefined,
        'ERR_STORE_VERSION',
      )
    if (version() > SQLITE_SCHEMA_VERSION) throw newer(version())
    this.#transaction(() => {
      const found = version()
      if (found > SQLITE_SCHEMA_VERSION) throw newer(found)
      if (found < 1) for (const statement of SCHEMA_1) db.exec(statement)
      // Later versions migrate here: `if (found < 2) { ... }`.
      if (found < SQLITE_SCHEMA_VERSION) db.exec(`PRAGMA user_version = ${SQLITE_SCHEMA_VERSION}`)
      const format = this.#sql(`SELECT value FROM meta WHERE key = 'format'`).get()?.['value']
      if (format === undefined) this.#sql(`INSERT INTO meta (key, value) VALUES ('format', ?)`).run(rt.format)
      else if (format !== rt.format) {
        throw new OffthreadError(
          `sqliteStore: "${this.#path}" holds values serialized by ${format === 'jsc' ? 'Bun (JavaScriptCore)' : 'Deno or Node (V8)'}, which ${rt.name} cannot read; open it from ${format === 'jsc' ? 'Bun' : 'Deno or Node'}`,
        )
      }
      this.#sql('INSERT OR IGNORE INTO queues (queue) VALUES (?)').run(this.#queue)
      for (const status of JOB_STATUSES) this.#sql('INSERT OR IGNORE INTO counts (queue, status, n) VALUES (?, ?, 0)').run(this.#queue, status)
    })
  }

  async close(): Promise<void> {
    this.#closeNow()
  }

  #closeNow(): void {
    const db = this.#db
    this.#db = undefined
    this.#statements.clear()
    db?.close()
  }

  #ready(): SqliteDatabase {
    if (!this.#db) throw new OffthreadError(`sqliteStore: the store of "${this.#path}" is not open (closed, or open() not called)`)
    return this.#db
  }

  /** A prepared statement, kept for the connection's life. */
  #sql(sql: string): SqliteStatement {
    let statement = this.#statements.get(sql)
    if (!statement) {
      statement = this.#ready().prepare(sql)
      this.#statements.set(sql, statement)
    }
    return statement
  }

  /** Runs `body` in one IMMEDIATE transaction (the file's write lock from the start); rolls back if it throws. */
  #transaction<R>(body: () => R): R {
    const db = this.#ready()
    db.exec('BEGIN IMMEDIATE')
    let result: R
    try {
      result = body()
    } catch (error) {
      db.exec('ROLLBACK')
      throw error
    }
    db.exec('COMMIT')
    return result
  }

  #pack(value: unknown): Packed {
    try {
      return { ok: true, bytes: (this.#rt as Runtime).serialize(value) }
    } catch (error) {
      return { ok: false, error }
    }
  }

  #unpack<T>(bytes: unknown): T {
    return (this.#rt as Runtime).deserialize(bytes as Uint8Array) as T
  }

  #row(id: string): JobRow | undefined {
    return (this.#sql('SELECT status, active_key, deps, record FROM jobs WHERE queue = ? AND id = ?').get(this.#queue, id) ?? undefined) as
      JobRow | undefined
  }

  /** The unfinished job holding key `key`, other than `except`. */
  #holder(key: string, except?: string): JobRow | undefined {
    const row = this.#sql('SELECT status, active_key, deps, record, id FROM jobs WHERE queue = ? AND active_key = ? AND id IS NOT ? LIMIT 1').get(
      this.#queue,
      key,
      except ?? null,
    )
    return (row ?? undefined) as JobRow | undefined
  }

  async write(ops: readonly WriteOp[], options: { atomic?: boolean } = {}): Promise<WriteResult[]> {
    this.#ready()
    if (ops.length === 0) return []
    const db = this.#ready()
    const queue = this.#queue
    db.exec('BEGIN IMMEDIATE')
    const results: WriteResult[] = []
    try {
      const state = this.#sql('SELECT seq, runner FROM queues WHERE queue = ?').get(queue)
      let seq = Number(state?.['seq'] ?? 0)
      let runner = (state?.['runner'] ?? undefined) as string | undefined
      const seqStart = seq
      const runnerStart = runner
      for (const op of ops) {
        if (op.fence !== undefined && op.fence !== runner) {
          results.push({ ok: false, reason: 'fenced' })
          continue
        }
        if (op.op === 'claim') {
          runner = op.token
          results.push({ ok: true })
          continue
        }
        if (op.op === 'insert') {
          const result = this.#insert(op, seq + 1)
          if (result.ok) seq++
          results.push(result)
          continue
        }
        results.push(this.#apply(op))
      }
      // An atomic batch is all or nothing: bad input or a lost condition rolls it back.
      // (An insert whose id or key is taken is no failure: the caller gets that job.)
      if (options.atomic && results.some(rollsBack)) {
        db.exec('ROLLBACK')
        return results.map((r) => (r.ok || r.reason === 'exists' || r.reason === 'key' ? { ok: false, reason: 'aborted' } : r))
      }
      if (seq !== seqStart || runner !== runnerStart)
        this.#sql('UPDATE queues SET seq = ?, runner = ? WHERE queue = ?').run(seq, runner ?? null, queue)
      db.exec('COMMIT')
      return results
    } catch (error) {
      try {
        db.exec('ROLLBACK')
      } catch {
        // SQLite rolled back already (a full disk, say).
      }
      throw error
    }
  }

  #insert(op: Extract<WriteOp, { op: 'insert' }>, seq: number): WriteResult {
    const existing = this.#row(op.job.id)
    if (existing) return { ok: false, reason: 'exists', job: this.#unpack(existing.record) }
    const { key } = op.job
    const holder = key === undefined ? undefined : this.#holder(key)
    if (holder) return { ok: false, reason: 'key', job: this.#unpack(holder.record) }
    const data = this.#pack(op.data)
    if (!data.ok) return { ok: false, reason: 'uncloneable', error: data.error }
    const job: JobRecord = { ...op.job, dependencies: [...op.job.dependencies], seq }
    const record = this.#pack(job)
    if (!record.ok) return { ok: false, reason: 'uncloneable', error: record.error }
    this.#putJob(job, record.bytes, null, undefined, key !== undefined && !isFinal(job.status) ? key : null)
    this.#sql('INSERT OR REPLACE INTO data (queue, id, value) VALUES (?, ?, ?)').run(this.#queue, job.id, data.bytes)
    return { ok: true, seq }
  }

  /** Writes a job's row (an insert when `stored` is undefined) and its dependencies. */
  #putJob(job: JobRecord, record: Uint8Array, result: Uint8Array | null, stored: JobRow | undefined, activeKey: string | null): void {
    const queue = this.#queue
    const deps = job.dependencies.length > 0 ? JSON.stringify(job.dependencies) : null
    const values: SqlValue[] = [
      job.seq,
      job.status,
      job.name,
      -job.priority,
      job.runAt,
      job.finishedAt ?? null,
      activeKey,
      job.status === 'delayed' && job.debounce !== undefined ? job.debounce : null,
      deps,
      record,
      result,
    ]
    if (stored) {
      this.#sql(
        `UPDATE jobs SET seq = ?, status = ?, name = ?, rank = ?, run_at = ?, finished_at = ?, active_key = ?, debounce_key = ?, deps = ?, record = ?, result = ?
         WHERE queue = ? AND id = ?`,
      ).run(...values, queue, job.id)
    } else {
      this.#sql(
        `INSERT INTO jobs (seq, status, name, rank, run_at, finished_at, active_key, debounce_key, deps, record, result, queue, id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(...values, queue, job.id)
    }
    const before = stored?.deps ?? null
    if (before !== deps) {
      for (const dep of before ? (JSON.parse(before) as string[]) : []) {
        this.#sql('DELETE FROM dependencies WHERE queue = ? AND dep = ? AND id = ?').run(queue, dep, job.id)
      }
      for (const dep of job.dependencies) this.#sql('INSERT OR IGNORE INTO dependencies (queue, dep, id) VALUES (?, ?, ?)').run(queue, dep, job.id)
    }
  }

  #apply(op: Exclude<WriteOp, { op: 'insert' } | { op: 'claim' }>): WriteResult {
    const queue = this.#queue
    switch (op.op) {
      case 'put': {
        const stored = this.#row(op.job.id)
        if (op.expect && (!stored || !op.expect.includes(stored.status))) {
          return { ok: false, reason: 'conflict', job: stored && this.#unpack(stored.record) }
        }
        const job: JobRecord = { ...op.job, dependencies: [...op.job.dependencies] }
        // A value that cannot be stored (new data, a result, a progress value) fails this op alone.
        const data = 'data' in op ? this.#pack(op.data) : undefined
        if (data && !data.ok) return { ok: false, reason: 'uncloneable', error: data.error }
        // Like a rewritten row: a result only with a completing put; any other put drops it.
        const result = 'result' in op && job.status === 'completed' ? this.#pack(op.result) : undefined
        if (result && !result.ok) return { ok: false, reason: 'uncloneable', error: result.error }
        const record = this.#pack(job)
        if (!record.ok) return { ok: false, reason: 'uncloneable', error: record.error }
        let activeKey: string | null = null
        if (job.key !== undefined && !isFinal(job.status)) {
          activeKey = stored?.active_key === job.key || !this.#holder(job.key, job.id) ? job.key : null
        }
        this.#putJob(job, record.bytes, result ? result.bytes : null, stored, activeKey)
        if (data) this.#sql('INSERT OR REPLACE INTO data (queue, id, value) VALUES (?, ?, ?)').run(queue, job.id, data.bytes)
        return { ok: true }
      }
      case 'log': {
        for (const entry of op.entries) {
          let packed = this.#pack(entry)
          if (!packed.ok) {
            const { meta: _meta, ...rest } = entry
            packed = this.#pack({
              ...rest,
              meta: { unserializable: `the meta of this line could not be stored: ${(packed.error as Error).message}` },
            })
          }
          if (packed.ok) this.#sql('INSERT INTO logs (queue, id, entry) VALUES (?, ?, ?)').run(queue, op.id, packed.bytes)
        }
        return { ok: true }
      }
      case 'error': {
        const packed = this.#pack(op.record)
        if (!packed.ok) return { ok: false, reason: 'uncloneable', error: packed.error }
        this.#sql('INSERT INTO errors (queue, id, record) VALUES (?, ?, ?)').run(queue, op.id, packed.bytes)
        return { ok: true }
      }
      case 'schedule': {
        let record = op.schedule
        if (op.fired) {
          const row = this.#sql('SELECT record FROM schedules WHERE queue = ? AND id = ?').get(queue, record.id)
          const stored = row ? this.#unpack<ScheduleRecord>(row['record']) : undefined
          if (!stored || (op.fired === 'due' && stored.paused)) return { ok: false, reason: 'conflict', job: undefined }
          record = firedOnto(stored, record)
        }
        const packed = this.#pack(record)
        if (!packed.ok) return { ok: false, reason: 'uncloneable', error: packed.error }
        this.#sql('INSERT OR REPLACE INTO schedules (queue, id, record) VALUES (?, ?, ?)').run(queue, record.id, packed.bytes)
        return { ok: true }
      }
      case 'unschedule':
        this.#sql('DELETE FROM schedules WHERE queue = ? AND id = ?').run(queue, op.id)
        return { ok: true }
      case 'release': {
        // In `meta`, as JSON (a task list is plain data): one row per release, and the runner's key.
        for (const version of op.drop ?? []) this.#sql('DELETE FROM meta WHERE key = ?').run(`${this.#releasePrefix()}${releaseKey(version)}`)
        const key = releaseKey(op.release.version)
        this.#sql('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(`${this.#releasePrefix()}${key}`, JSON.stringify(op.release))
        if (op.runner) this.#sql('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(`runner-release\u0000${queue}`, key)
        return { ok: true }
      }
      case 'step': {
        const stored = this.#row(op.id)
        if (stored?.status !== 'running') return { ok: false, reason: 'conflict', job: stored && this.#unpack(stored.record) }
        const packed = this.#pack(op.value)
        if (!packed.ok) return { ok: false, reason: 'uncloneable', error: packed.error }
        this.#sql('INSERT OR REPLACE INTO steps (queue, id, step, value) VALUES (?, ?, ?, ?)').run(queue, op.id, op.step, packed.bytes)
        return { ok: true }
      }
      case 'delete':
        for (const id of new Set(op.ids)) {
          const stored = this.#row(id)
          if (stored) {
            this.#sql('DELETE FROM jobs WHERE queue = ? AND id = ?').run(queue, id)
            for (const dep of stored.deps ? (JSON.parse(stored.deps) as string[]) : []) {
              this.#sql('DELETE FROM dependencies WHERE queue = ? AND dep = ? AND id = ?').run(queue, dep, id)
            }
          }
          this.#sql('DELETE FROM data WHERE queue = ? AND id = ?').run(queue, id)
          this.#sql('DELETE FROM logs WHERE queue = ? AND id = ?').run(queue, id)
          this.#sql('DELETE FROM errors WHERE queue = ? AND id = ?').run(queue, id)
          this.#sql('DELETE FROM steps WHERE queue = ? AND id = ?').run(queue, id)
        }
        return { ok: true }
    }
  }

  /**
   * The runner lease of this queue: one IMMEDIATE transaction reads and sets it, so two
   * processes never both hold it. A holder whose process is gone from this host (its pid
   * no longer exists) loses it at once; elsewhere the lease runs out after `ttl`.
   */
  async version(): Promise<number> {
    // Changes when another connection (another process) commits: SQLite's own counter.
    return Number(this.#sql('PRAGMA data_version').get()?.['data_version'] ?? 0)
  }

  async lease(token: string, ttl: number): Promise<boolean> {
    const rt = this.#rt as Runtime
    const queue = this.#queue
    return this.#transaction(() => {
      const row = this.#sql('SELECT lease_holder, lease_expires, lease_pid, lease_host FROM queues WHERE queue = ?').get(queue) ?? {}
      const holder = (row['lease_holder'] ?? undefined) as string | undefined
      const now = Date.now()
      if (ttl <= 0) {
        if (holder !== token) return false
        this.#sql('UPDATE queues SET lease_holder = NULL, lease_expires = NULL, lease_pid = NULL, lease_host = NULL WHERE queue = ?').run(queue)
        return true
      }
      const pid = row['lease_pid'] as number | null | undefined
      const free =
        holder === undefined ||
        holder === token ||
        Number(row['lease_expires'] ?? 0) <= now ||
        (pid != null && rt.host !== undefined && row['lease_host'] === rt.host && !rt.alive(Number(pid)))
      if (!free) return false
      this.#sql(
        `UPDATE queues SET lease_holder = ?, lease_expires = ?, lease_heartbeat = ?, lease_pid = ?, lease_host = ?, runner = ? WHERE queue = ?`,
      ).run(token, now + ttl, now, rt.pid ?? null, rt.host ?? null, token, queue)
      return true
    })
  }

  async get(ids: readonly string[]): Promise<Array<JobRecord | undefined>> {
    const statement = this.#sql('SELECT record FROM jobs WHERE queue = ? AND id = ?')
    return ids.map((id) => {
      const row = statement.get(this.#queue, id)
      return row ? this.#unpack<JobRecord>(row['record']) : undefined
    })
  }

  async getFull(id: string, options: { data?: boolean } = {}): Promise<StoredJob | undefined> {
    const withData = options.data !== false
    const row = this.#sql(
      withData
        ? 'SELECT j.record, j.status, j.result, d.value FROM jobs j LEFT JOIN data d ON d.queue = j.queue AND d.id = j.id WHERE j.queue = ? AND j.id = ?'
        : 'SELECT record, status, result FROM jobs WHERE queue = ? AND id = ?',
    ).get(this.#queue, id)
    return row ? this.#full(row, withData) : undefined
  }

  /** A job from a row of record, status, result and (when `withData`) value. */
  #full(row: Row, withData: boolean): StoredJob {
    const job = this.#unpack<StoredJob>(row['record'])
    if (withData) job.data = row['value'] == null ? undefined : this.#unpack(row['value'])
    // As in the other stores: a result is part of the job only once it is completed.
    if (row['status'] === 'completed' && row['result'] != null) job.result = this.#unpack(row['result'])
    return job
  }

  async getData(ids: readonly string[]): Promise<unknown[]> {
    const statement = this.#sql('SELECT value FROM data WHERE queue = ? AND id = ?')
    return ids.map((id) => {
      const row = statement.get(this.#queue, id)
      return row?.['value'] == null ? undefined : this.#unpack(row['value'])
    })
  }

  /** Newest first through the index that fits the filters; `before` pages by keyset on seq. */
  async list(query: ListQuery): Promise<StoredJob[]> {
    const statuses = query.status === undefined ? undefined : [...new Set(([] as JobStatus[]).concat(query.status))]
    const limit = query.limit ?? -1
    if (limit === 0 || statuses?.length === 0) return []
    const where = ['j.queue = ?']
    const params: SqlValue[] = [this.#queue]
    if (statuses) {
      where.push(statuses.length === 1 ? 'j.status = ?' : `j.status IN (${statuses.map(() => '?').join(', ')})`)
      params.push(...statuses)
    }
    if (query.name !== undefined) {
      where.push('j.name = ?')
      params.push(query.name)
    }
    if (query.before !== undefined) {
      where.push('j.seq < ?')
      params.push(query.before)
    }
    const withData = query.data === true
    const sql = withData
      ? `SELECT j.record, j.status, j.result, d.value FROM jobs j LEFT JOIN data d ON d.queue = j.queue AND d.id = j.id`
      : `SELECT j.record FROM jobs j`
    const rows = this.#sql(`${sql} WHERE ${where.join(' AND ')} ORDER BY j.seq DESC LIMIT ? OFFSET ?`).all(...params, limit, query.offset ?? 0)
    return rows.map((row) => (withData ? this.#full(row, true) : this.#unpack<StoredJob>(row['record'])))
  }

  async counts(): Promise<Record<JobStatus, number>> {
    const counts = zeroCounts()
    for (const row of this.#sql('SELECT status, n FROM counts WHERE queue = ?').all(this.#queue)) {
      counts[row['status'] as JobStatus] = Number(row['n'])
    }
    return counts
  }

  async pending(kind: 'ready' | 'delayed', limit: number, after?: JobRecord): Promise<JobRecord[]> {
    if (limit <= 0) return []
    const queue = this.#queue
    let rows: Row[]
    if (kind === 'ready') {
      rows = after
        ? this.#sql(`SELECT record FROM jobs WHERE queue = ? AND status = 'waiting' AND (rank, seq) > (?, ?) ORDER BY rank, seq LIMIT ?`).all(
            queue,
            -after.priority,
            after.seq,
            limit,
          )
        : this.#sql(`SELECT record FROM jobs WHERE queue = ? AND status = 'waiting' ORDER BY rank, seq LIMIT ?`).all(queue, limit)
    } else {
      rows = after
        ? this.#sql(`SELECT record FROM jobs WHERE queue = ? AND status = 'delayed' AND run_at >= ? ORDER BY run_at, seq LIMIT ?`).all(
            queue,
            after.runAt,
            limit,
          )
        : this.#sql(`SELECT record FROM jobs WHERE queue = ? AND status = 'delayed' ORDER BY run_at, seq LIMIT ?`).all(queue, limit)
    }
    return rows.map((row) => this.#unpack<JobRecord>(row['record']))
  }

  /** The keys of this queue's release rows in `meta` start so. */
  #releasePrefix(): string {
    return `release\u0000${this.#queue}\u0000`
  }

  async releases(): Promise<StoredReleases> {
    const prefix = this.#releasePrefix()
    const known = this.#sql('SELECT value FROM meta WHERE key >= ? AND key < ?')
      .all(prefix, `${prefix}\uffff`)
      .map((row) => JSON.parse(String(row['value'])) as ReleaseRecord)
    const runner = this.#sql('SELECT value FROM meta WHERE key = ?').get(`runner-release\u0000${this.#queue}`)?.['value']
    return { known, runner: known.find((r) => releaseKey(r.version) === runner) }
  }

  async schedules(): Promise<ScheduleRecord[]> {
    return this.#sql('SELECT record FROM schedules WHERE queue = ? ORDER BY id')
      .all(this.#queue)
      .map((row) => this.#unpack<ScheduleRecord>(row['record']))
  }

  async debounced(key: string): Promise<JobRecord | undefined> {
    const row = this.#sql(`SELECT record FROM jobs WHERE queue = ? AND debounce_key = ? AND status = 'delayed' LIMIT 1`).get(this.#queue, key)
    return row ? this.#unpack<JobRecord>(row['record']) : undefined
  }

  async dependents(id: string): Promise<JobRecord[]> {
    return this.#sql(
      'SELECT j.record FROM dependencies p JOIN jobs j ON j.queue = p.queue AND j.id = p.id WHERE p.queue = ? AND p.dep = ? ORDER BY j.seq',
    )
      .all(this.#queue, id)
      .map((row) => this.#unpack<JobRecord>(row['record']))
  }

  async scan(statuses: readonly JobStatus[], visit: (job: JobRecord) => void): Promise<void> {
    const statement = this.#sql('SELECT seq, record FROM jobs WHERE queue = ? AND status = ? AND seq > ? ORDER BY seq LIMIT ?')
    for (const status of statuses) {
      let lower = -Infinity
      for (;;) {
        const rows = statement.all(this.#queue, status, lower, PAGE)
        for (const row of rows) visit(this.#unpack<JobRecord>(row['record']))
        const last = rows[rows.length - 1]
        if (rows.length < PAGE || !last) break
        lower = Number(last['seq'])
        // A long scan lets other work in between pages, as idbStore's does.
        await Promise.resolve()
      }
    }
  }

  async logs(id: string): Promise<LogEntry[]> {
    return this.#sql('SELECT entry FROM logs WHERE queue = ? AND id = ? ORDER BY n')
      .all(this.#queue, id)
      .map((row) => this.#unpack<LogEntry>(row['entry']))
  }

  async errors(id: string): Promise<ErrorRecord[]> {
    return this.#sql('SELECT record FROM errors WHERE queue = ? AND id = ? ORDER BY n')
      .all(this.#queue, id)
      .map((row) => this.#unpack<ErrorRecord>(row['record']))
  }

  async steps(id: string): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {}
    for (const row of this.#sql('SELECT step, value FROM steps WHERE queue = ? AND id = ?').all(this.#queue, id)) {
      out[row['step'] as string] = row['value'] == null ? undefined : this.#unpack(row['value'])
    }
    return out
  }

  async expired(status: JobStatus, rule: { finishedBefore?: number; keep?: number }, limit: number): Promise<string[]> {
    if (limit <= 0 || (rule.finishedBefore === undefined && rule.keep === undefined)) return []
    const total =
      rule.keep === undefined ? 0 : Number(this.#sql('SELECT n FROM counts WHERE queue = ? AND status = ?').get(this.#queue, status)?.['n'] ?? 0)
    const overCount = rule.keep === undefined ? 0 : Math.max(0, total - rule.keep)
    const rows = this.#sql('SELECT id, finished_at FROM jobs WHERE queue = ? AND status = ? ORDER BY finished_at, seq LIMIT ?').all(
      this.#queue,
      status,
      limit,
    )
    const out: string[] = []
    for (const row of rows) {
      const finishedAt = Number(row['finished_at'] ?? 0)
      const old = rule.finishedBefore !== undefined && finishedAt < rule.finishedBefore
      if (!old && out.length >= overCount) break
      out.push(row['id'] as string)
    }
    return out
  }
}
