/**
 * What the SQLite store gives the write rules (write-rules.ts): its reads, made inside
 * the write's transaction as the rules ask, and its puts, as statements. A value is
 * serialized before any statement of its op runs: one that cannot be stored fails its
 * op alone.
 */
import type { JobStatus } from '../shared/types.js'
import { releaseKey } from '../shared/release.js'
import type { GroupRecord, JobRecord, ScheduleRecord } from './store.js'
import { holdsKey, type Reads, type Sink } from './write-rules.js'
import type { Connection, SqlValue } from './sqlite-runtime.js'
import { groupKey, releasePrefix, runnerReleaseKey } from './sqlite-schema.js'

/** A job's row, as the rules read it. */
export interface JobRow {
  status: JobStatus
  /** The dependencies as JSON, as in the row (null: none). */
  deps: string | null
  /** The whole record, serialized. */
  record: Uint8Array
}

/** The reads of queue `queue` in `conn`, inside the write's transaction (they see what it wrote). */
export function sqliteReads(conn: Connection, queue: string): Reads<JobRow> {
  return {
    job: (id) => (conn.sql('SELECT status, deps, record FROM jobs WHERE queue = ? AND id = ?').get(queue, id) ?? undefined) as JobRow | undefined,
    holder: (key) => conn.sql('SELECT id FROM jobs WHERE queue = ? AND active_key = ? LIMIT 1').get(queue, key)?.['id'] as string | undefined,
    schedule(id) {
      const row = conn.sql('SELECT record FROM schedules WHERE queue = ? AND id = ?').get(queue, id)
      return row ? conn.unpack<ScheduleRecord>(row['record']) : undefined
    },
    group(id) {
      const value = conn.sql('SELECT value FROM meta WHERE key = ?').get(groupKey(queue, id))?.['value']
      return value === undefined ? undefined : (JSON.parse(String(value)) as GroupRecord)
    },
  }
}

/** The puts of queue `queue` in `conn`. */
export function sqliteSink(conn: Connection, queue: string): Sink<JobRow> {
  /** Writes a job's row (an insert when `stored` is undefined) and its dependencies. */
  const putJob = (job: JobRecord, result: Uint8Array | null, stored: JobRow | undefined): void => {
    const record = conn.pack(job)
    const deps = job.dependencies.length > 0 ? JSON.stringify(job.dependencies) : null
    const values: SqlValue[] = [
      job.seq,
      job.status,
      job.name,
      -job.priority,
      job.runAt,
      job.finishedAt ?? null,
      holdsKey(job) ? (job.key as string) : null,
      job.status === 'delayed' && job.debounce !== undefined ? job.debounce : null,
      deps,
      record,
      result,
    ]
    if (stored) {
      conn
        .sql(
          `UPDATE jobs SET seq = ?, status = ?, name = ?, rank = ?, run_at = ?, finished_at = ?, active_key = ?, debounce_key = ?, deps = ?, record = ?, result = ?
         WHERE queue = ? AND id = ?`,
        )
        .run(...values, queue, job.id)
    } else {
      conn
        .sql(
          `INSERT INTO jobs (seq, status, name, rank, run_at, finished_at, active_key, debounce_key, deps, record, result, queue, id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(...values, queue, job.id)
    }
    const before = stored?.deps ?? null
    if (before !== deps) {
      for (const dep of before ? (JSON.parse(before) as string[]) : []) {
        conn.sql('DELETE FROM dependencies WHERE queue = ? AND dep = ? AND id = ?').run(queue, dep, job.id)
      }
      for (const dep of job.dependencies) conn.sql('INSERT OR IGNORE INTO dependencies (queue, dep, id) VALUES (?, ?, ?)').run(queue, dep, job.id)
    }
  }
  const putData = (id: string, bytes: Uint8Array): void => {
    conn.sql('INSERT OR REPLACE INTO data (queue, id, value) VALUES (?, ?, ?)').run(queue, id, bytes)
  }

  return {
    record: (row) => conn.unpack<JobRecord>(row.record),
    // A value that cannot be serialized throws a DataCloneError (Connection.pack); anything else is SQLite's.
    fatal: (error) => (error as { name?: unknown } | null)?.name !== 'DataCloneError',
    insert(job, seq, data) {
      const bytes = conn.pack(data)
      putJob({ ...job, seq }, null, undefined)
      putData(job.id, bytes)
    },
    put(op, old) {
      const data = 'data' in op ? conn.pack(op.data) : undefined
      // Like a rewritten row: a result only with a completing put; any other put drops it.
      const result = 'result' in op && op.job.status === 'completed' ? conn.pack(op.result) : null
      putJob(op.job, result, old)
      if (data) putData(op.job.id, data)
    },
    remove(id, old) {
      if (old) {
        conn.sql('DELETE FROM jobs WHERE queue = ? AND id = ?').run(queue, id)
        for (const dep of old.deps ? (JSON.parse(old.deps) as string[]) : []) {
          conn.sql('DELETE FROM dependencies WHERE queue = ? AND dep = ? AND id = ?').run(queue, dep, id)
        }
      }
      conn.sql('DELETE FROM data WHERE queue = ? AND id = ?').run(queue, id)
      conn.sql('DELETE FROM logs WHERE queue = ? AND id = ?').run(queue, id)
      conn.sql('DELETE FROM errors WHERE queue = ? AND id = ?').run(queue, id)
      conn.sql('DELETE FROM steps WHERE queue = ? AND id = ?').run(queue, id)
    },
    log(id, entry) {
      conn.sql('INSERT INTO logs (queue, id, entry) VALUES (?, ?, ?)').run(queue, id, conn.pack(entry))
    },
    error(id, record) {
      conn.sql('INSERT INTO errors (queue, id, record) VALUES (?, ?, ?)').run(queue, id, conn.pack(record))
    },
    step(id, step, value) {
      conn.sql('INSERT OR REPLACE INTO steps (queue, id, step, value) VALUES (?, ?, ?, ?)').run(queue, id, step, conn.pack(value))
    },
    schedule(record) {
      conn.sql('INSERT OR REPLACE INTO schedules (queue, id, record) VALUES (?, ?, ?)').run(queue, record.id, conn.pack(record))
    },
    unschedule(id) {
      conn.sql('DELETE FROM schedules WHERE queue = ? AND id = ?').run(queue, id)
    },
    release(op) {
      // In `meta`, as JSON (a task list is plain data): one row per release, and the runner's key.
      const value = JSON.stringify(op.release)
      for (const version of op.drop ?? []) conn.sql('DELETE FROM meta WHERE key = ?').run(`${releasePrefix(queue)}${releaseKey(version)}`)
      const key = releaseKey(op.release.version)
      conn.sql('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(`${releasePrefix(queue)}${key}`, value)
      if (op.runner) conn.sql('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(runnerReleaseKey(queue), key)
    },
    group(id, record) {
      // In `meta`, as JSON (limits are plain data).
      if (record) conn.sql('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(groupKey(queue, id), JSON.stringify(record))
      else conn.sql('DELETE FROM meta WHERE key = ?').run(groupKey(queue, id))
    },
  }
}
