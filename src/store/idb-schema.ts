/**
 * The IndexedDB schema of a queue's database: its object stores and indexes, the
 * upgrade from every older version, and the shape of a job's row (the fields its
 * indexes need, its small data).
 */
import type { DBSchema, IDBPDatabase, IDBPTransaction, IndexNames, StoreNames } from 'idb'
import { JOB_STATUSES, type ErrorRecord, type JobStatus, type LogEntry } from '../shared/types.js'
import type { ReleaseRecord } from '../shared/release.js'
import type { GroupRecord, JobRecord, ScheduleRecord } from './store.js'
import { holdsKey } from './write-rules.js'

/** The schema version; bump it with a migration step in {@link upgrade}. */
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
export type JobRow = JobRecord & {
  activeKey?: string
  ready?: [number, number]
  due?: number
  debounceKey?: string
  result?: unknown
  input?: unknown
}

/** Up to this many bytes (about), a job's data lives in its record: one put per insert, not two. */
const INLINE_BYTES = 512

/**
 * Whether `value` is small enough to live in its job's record: primitives, and plain
 * objects and arrays of them, of about {@link INLINE_BYTES} bytes at most. Everything else
 * (a buffer, a Blob, a class instance, a Map, anything that will not clone) goes to the
 * `data` store as before, so that a state change never re-clones large data and a value
 * that cannot be stored fails as it did. Walks at most INLINE_BYTES / 8 values.
 */
export function inlineable(value: unknown): boolean {
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

/** The lease record (`meta`, `leases`: see idb-lease.ts): the running records of the jobs started since their rows were last written. */
export interface LeaseRecord {
  jobs: JobRecord[]
}

/** The database of one queue. */
export interface OffthreadDB extends DBSchema {
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
  /** `seq`, `logSeq` (numbers), `counts` (jobs per status, kept by every write), releases, group settings (`group:` and the id) and leases (idb-lease.ts). */
  meta: { key: string; value: number | string | Record<JobStatus, number> | ReleaseRecord | LeaseRecord | GroupRecord }
  schedules: { key: string; value: ScheduleRecord }
}

/** An object store's name. */
export type Names = StoreNames<OffthreadDB>
/** An index of the `jobs` store. */
export type IndexName = IndexNames<OffthreadDB, 'jobs'>
/** A readwrite transaction over every object store (what a write opens). */
export type WriteTx = IDBPTransaction<OffthreadDB, Names[], 'readwrite'>

/**
 * Every index of the `jobs` store: the schema version that added it, then what
 * `createIndex` takes; {@link upgrade} creates them in this order. Tests and the benchmark
 * that build such a database by hand (an older schema, a raw IndexedDB baseline) read them here.
 */
export const JOB_INDEXES: ReadonlyArray<readonly [since: number, name: IndexName, keyPath: string | string[], options?: IDBIndexParameters]> = [
  [1, 'seq', 'seq', { unique: true }],
  [1, 'status', ['status', 'seq']],
  [1, 'ready', 'ready'],
  [1, 'due', 'due'],
  [1, 'activeKey', 'activeKey'],
  [1, 'finished', ['status', 'finishedAt']],
  [1, 'deps', 'dependencies', { multiEntry: true }],
  [1, 'debounce', 'debounceKey'],
  // list() by name, and by status and name, newest first, without reading a job.
  [2, 'name', ['name', 'seq']],
  [2, 'statusName', ['status', 'name', 'seq']],
]

/** Every object store: what a write opens. */
export const ALL: Names[] = ['jobs', 'data', 'logs', 'errors', 'meta', 'schedules', 'steps']
/** The prefix of release records' keys in `meta`. */
export const RELEASE = 'release:'
/** The prefix of group settings' keys in `meta` (see the `group` write op). */
export const GROUP = 'group:'

/** Creates the schema, or upgrades it from `oldVersion` (openDB's `upgrade`). */
export function upgrade(
  db: IDBPDatabase<OffthreadDB>,
  oldVersion: number,
  transaction: IDBPTransaction<OffthreadDB, Names[], 'versionchange'>,
): void {
  if (oldVersion < 1) {
    db.createObjectStore('jobs', { keyPath: 'id' })
    db.createObjectStore('data')
    db.createObjectStore('logs')
    db.createObjectStore('errors')
    db.createObjectStore('meta')
    db.createObjectStore('schedules', { keyPath: 'id' })
  }
  // Each index of the jobs store, in the version that added it.
  const jobs = transaction.objectStore('jobs')
  for (const [since, name, keyPath, options] of JOB_INDEXES) if (oldVersion < since) jobs.createIndex(name, keyPath, options)
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
}

/** The range of every key `[id, n]` of one job in `logs` and `errors` (and `[id, step]` in `steps`). */
export const jobRange = (id: string): IDBKeyRange => IDBKeyRange.bound([id], [id, []])
const statusRange = (status: JobStatus): IDBKeyRange => IDBKeyRange.bound([status, -Infinity], [status, Infinity])

/** A job's row: the record, and the fields its indexes need while they matter. */
export function toRow(job: JobRecord): JobRow {
  const row: JobRow = { ...job }
  if (holdsKey(job)) row.activeKey = job.key
  if (job.status === 'waiting') row.ready = [-job.priority, job.seq]
  else if (job.status === 'delayed') {
    row.due = job.runAt
    if (job.debounce !== undefined) row.debounceKey = job.debounce
  }
  return row
}

/** The record of a row (none of the row's own fields). */
export function fromRow(row: JobRow): JobRecord {
  const { activeKey: _activeKey, ready: _ready, due: _due, debounceKey: _debounceKey, result: _result, input: _input, ...job } = row
  return job
}

/** A job's data, read with its row and from the `data` store: the row's `input` if it has one. */
export const dataOf = (row: JobRow | undefined, stored: unknown): unknown => (row && 'input' in row ? row.input : stored)
