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
import type { ErrorRecord, JobStatus, LogEntry } from '../shared/types.js'
import type { GroupRecord, JobRecord, ListQuery, ScheduleRecord, Store, StoredJob, StoredReleases, WriteOp, WriteResult } from './store.js'
import { rolledBack, WriteRules, zeroCounts } from './write-rules.js'
import { releaseKey, type ReleaseRecord } from '../shared/release.js'
import { Connection, loadRuntime, type Row, type SqliteDatabase, type SqliteStatement, type SqlValue } from './sqlite-runtime.js'
import { groupPrefix, migrate, releasePrefix, runnerReleaseKey } from './sqlite-schema.js'
import { sqliteReads, sqliteSink } from './sqlite-write.js'

export { SQLITE_SCHEMA_VERSION } from './sqlite-schema.js'

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

const PAGE = 500

class SqliteStore implements Store {
  readonly kind = 'sqlite'
  readonly fencing = true
  #path: string
  #options: Required<SqliteStoreOptions>
  #queue = ''
  #conn: Connection | undefined

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
    const conn = new Connection(rt, db)
    this.#conn = conn
    this.#queue = queue
    try {
      db.exec(`PRAGMA busy_timeout = ${this.#options.busyTimeout}`)
      conn.sql('PRAGMA journal_mode = WAL').get()
      db.exec(`PRAGMA synchronous = ${this.#options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
      migrate(conn, path, queue)
    } catch (error) {
      this.#closeNow()
      if (/not a database/i.test((error as Error).message ?? '')) {
        throw new OffthreadError(`sqliteStore: "${path}" is not a SQLite database (${(error as Error).message})`, { cause: error })
      }
      throw error
    }
  }

  async close(): Promise<void> {
    this.#closeNow()
  }

  #closeNow(): void {
    const conn = this.#conn
    this.#conn = undefined
    conn?.close()
  }

  #ready(): Connection {
    if (!this.#conn) throw new OffthreadError(`sqliteStore: the store of "${this.#path}" is not open (closed, or open() not called)`)
    return this.#conn
  }

  /** A prepared statement, kept for the connection's life. */
  #sql(sql: string): SqliteStatement {
    return this.#ready().sql(sql)
  }

  #unpack<T>(bytes: unknown): T {
    return this.#ready().unpack<T>(bytes)
  }

  async write(ops: readonly WriteOp[], options: { atomic?: boolean } = {}): Promise<WriteResult[]> {
    const conn = this.#ready()
    if (ops.length === 0) return []
    const queue = this.#queue
    conn.db.exec('BEGIN IMMEDIATE')
    try {
      const state = conn.sql('SELECT seq, runner FROM queues WHERE queue = ?').get(queue)
      const seq = Number(state?.['seq'] ?? 0)
      const runner = (state?.['runner'] ?? undefined) as string | undefined
      const rules = new WriteRules(sqliteReads(conn, queue), sqliteSink(conn, queue), seq, runner)
      const results = ops.map((op) => rules.apply(op))
      const rolled = rolledBack(results, options.atomic)
      if (rolled) {
        conn.db.exec('ROLLBACK')
        return rolled
      }
      if (rules.seq !== seq || rules.runner !== runner)
        conn.sql('UPDATE queues SET seq = ?, runner = ? WHERE queue = ?').run(rules.seq, rules.runner ?? null, queue)
      conn.db.exec('COMMIT')
      return results
    } catch (error) {
      try {
        conn.db.exec('ROLLBACK')
      } catch {
        // SQLite rolled back already (a full disk, say).
      }
      throw error
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
    const { rt } = this.#ready()
    const queue = this.#queue
    return this.#ready().transaction(() => {
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

  async groups(): Promise<GroupRecord[]> {
    const prefix = groupPrefix(this.#queue)
    // Every key that starts with the prefix, whatever characters the ids have: up to the prefix's successor.
    return this.#sql('SELECT value FROM meta WHERE key >= ? AND key < ?')
      .all(prefix, `${prefix.slice(0, -1)}\u0001`)
      .map((row) => JSON.parse(String(row['value'])) as GroupRecord)
  }

  async releases(): Promise<StoredReleases> {
    const prefix = releasePrefix(this.#queue)
    const known = this.#sql('SELECT value FROM meta WHERE key >= ? AND key < ?')
      .all(prefix, `${prefix}\uffff`)
      .map((row) => JSON.parse(String(row['value'])) as ReleaseRecord)
    const runner = this.#sql('SELECT value FROM meta WHERE key = ?').get(runnerReleaseKey(this.#queue))?.['value']
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
