/**
 * The SQLite schema of the store: its tables, indexes and the triggers that keep the
 * counts, the upgrade from every older version, and the keys of a queue's rows in `meta`.
 */
import { OffthreadError } from '../shared/errors.js'
import { JOB_STATUSES } from '../shared/types.js'
import type { Connection } from './sqlite-runtime.js'

/** The schema version, kept in `PRAGMA user_version`; bump it with a migration step in {@link migrate}. */
export const SQLITE_SCHEMA_VERSION = 1

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

/** The keys of queue `queue`'s release rows in `meta` start so. */
export const releasePrefix = (queue: string): string => `release\u0000${queue}\u0000`
/** The key of group `id`'s settings of queue `queue` in `meta` (see the `group` write op). */
export const groupKey = (queue: string, id: string): string => `${groupPrefix(queue)}${id}`
/** The keys of queue `queue`'s group settings in `meta` start so. */
export const groupPrefix = (queue: string): string => `group\u0000${queue}\u0000`
/** The key of queue `queue`'s runner release in `meta`. */
export const runnerReleaseKey = (queue: string): string => `runner-release\u0000${queue}`

/** Creates or upgrades the schema of the file at `path`, checks the values' format, and adds queue `queue`'s rows. */
export function migrate(conn: Connection, path: string, queue: string): void {
  const { db, rt } = conn
  const version = (): number => Number(conn.sql('PRAGMA user_version').get()?.['user_version'] ?? 0)
  const newer = (found: number): OffthreadError =>
    new OffthreadError(
      `sqliteStore: the database "${path}" has schema version ${found}, newer than the version this offthread knows (${SQLITE_SCHEMA_VERSION}); upgrade offthread to open it`,
      undefined,
      'ERR_STORE_VERSION',
    )
  if (version() > SQLITE_SCHEMA_VERSION) throw newer(version())
  conn.transaction(() => {
    const found = version()
    if (found > SQLITE_SCHEMA_VERSION) throw newer(found)
    if (found < 1) for (const statement of SCHEMA_1) db.exec(statement)
    // Later versions migrate here: `if (found < 2) { ... }`.
    if (found < SQLITE_SCHEMA_VERSION) db.exec(`PRAGMA user_version = ${SQLITE_SCHEMA_VERSION}`)
    const format = conn.sql(`SELECT value FROM meta WHERE key = 'format'`).get()?.['value']
    if (format === undefined) conn.sql(`INSERT INTO meta (key, value) VALUES ('format', ?)`).run(rt.format)
    else if (format !== rt.format) {
      throw new OffthreadError(
        `sqliteStore: "${path}" holds values serialized by ${format === 'jsc' ? 'Bun (JavaScriptCore)' : 'Deno or Node (V8)'}, which ${rt.name} cannot read; open it from ${format === 'jsc' ? 'Bun' : 'Deno or Node'}`,
      )
    }
    conn.sql('INSERT OR IGNORE INTO queues (queue) VALUES (?)').run(queue)
    for (const status of JOB_STATUSES) conn.sql('INSERT OR IGNORE INTO counts (queue, status, n) VALUES (?, ?, 0)').run(queue, status)
  })
}
