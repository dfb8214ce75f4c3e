/**
 * Leases: how the IndexedDB store keeps `running` without a put per job. A runner's
 * start of a batch (puts of `running` over `waiting` or `delayed` rows) is stored in
 * one lease record (`meta`, `leases`): the running records of every job started and not
 * yet moved on, rewritten by the write that starts them; the jobs' rows stay as they
 * were (no put of a row with its indexes: a small record, read and written with the
 * write's other `meta` records). The job's next put (its outcome, a progress, an
 * interruption) writes its row and takes it out of the lease.
 *
 * Every read of this store lays the leases over the rows ({@link Leases.record}; a write's rules, {@link Leases.over}), so what a
 * reader sees does not change: `get`, `list`, `scan`, `pending`, the write rules' reads
 * (a condition on `running`, a step, the counts) and every tab see a leased job as
 * `running`. An entry counts only over the row it was written over: a row still `waiting`
 * or `delayed`, of no higher a revision. A row written since by code that knows no leases (an
 * older release in another tab) makes the entry stale, and it is ignored.
 *
 * No schema change: an older release reads a leased job as `waiting`, as if it had not
 * started yet, and it runs it if it becomes the runner.
 */
import type { JobStatus } from '../shared/types.js'
import type { JobRecord } from './store.js'
import { fromRow, toRow, type JobRow, type LeaseRecord } from './idb-schema.js'

/** The key of the lease record in `meta`. */
export const LEASES = 'leases'

/** Whether a row's status is one a lease is written over. */
const leasable = (status: JobStatus): boolean => status === 'waiting' || status === 'delayed'

/** Whether lease entry `entry` holds over row `row` (see the module's comment). */
const holds = (entry: JobRecord | undefined, row: JobRow | JobRecord | undefined): entry is JobRecord =>
  entry !== undefined && row !== undefined && leasable(row.status) && entry.rev >= row.rev

/**
 * The leases as one transaction read them (each entry by job id, checked against its row when
 * looked at). A read lays them over its rows ({@link Leases.leased}, {@link Leases.record}); a
 * write keeps them up to date as its ops go ({@link Leases.over}, {@link Leases.start},
 * {@link Leases.end}) and stores {@link Leases.changed} at its end.
 */
export class Leases {
  readonly entries = new Map<string, JobRecord>()
  #changed = false

  constructor(record?: LeaseRecord) {
    this.load(record)
  }

  /** Takes the lease record a write read. */
  load(record: LeaseRecord | undefined): void {
    for (const job of record?.jobs ?? []) this.entries.set(job.id, job)
  }

  get size(): number {
    return this.entries.size
  }

  /** Whether `row`'s job is leased (its row is not what readers see). */
  leased(row: JobRow | JobRecord): boolean {
    return holds(this.entries.get(row.id), row)
  }

  /** The record a reader sees for `row`: its lease entry's when leased. */
  record(row: JobRow): JobRecord
  record(row: JobRow | undefined): JobRecord | undefined
  record(row: JobRow | undefined): JobRecord | undefined {
    if (!row) return undefined
    const entry = this.entries.get(row.id)
    return holds(entry, row) ? entry : fromRow(row)
  }

  /**
   * Job `id`'s row as a write's rules see it: its lease entry's record when it holds over the
   * row (with the row's own fields). An entry that does not (a row gone, or written since by code
   * that knows no leases) is stale, and goes.
   */
  over(id: string, row: JobRow | undefined): JobRow | undefined {
    const entry = this.entries.get(id)
    if (entry === undefined) return row
    if (!holds(entry, row)) {
      this.end(id)
      return row
    }
    const seen = toRow(entry)
    if ('input' in (row as JobRow)) seen.input = (row as JobRow).input
    return seen
  }

  /** Puts `job` (now `running`, its row left as it is) in the lease. */
  start(job: JobRecord): void {
    this.entries.set(job.id, job)
    this.#changed = true
  }

  /** Takes job `id` out of the lease (its row is written, or deleted). */
  end(id: string): void {
    if (this.entries.delete(id)) this.#changed = true
  }

  /** The record to store (`undefined`: delete it), or `false` when it did not change. */
  changed(): LeaseRecord | undefined | false {
    if (!this.#changed) return false
    return this.entries.size > 0 ? { jobs: [...this.entries.values()] } : undefined
  }
}

/** Whether a put of `job` over `old` (as the rules see it) starts a lease: `running` over a leasable row, nothing else stored with it. */
export function startsLease(job: JobRecord, old: JobRow | undefined, storesMore: boolean): boolean {
  return job.status === 'running' && !storesMore && old !== undefined && leasable(old.status)
}
