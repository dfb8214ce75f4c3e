/**
 * What a write means, once for every store: a fence and a claim, an insert refused
 * for its id or its key, a put on condition (`expect`), a step only while its job
 * runs, a signal (which wakes a job waiting for it), a schedule's run (`fired`) written only onto a schedule still there, a log
 * line whose meta cannot be stored, the counts a write moves, and the roll-back of
 * an atomic batch. A store supplies its reads ({@link Reads}) and its puts
 * ({@link Sink}); {@link WriteRules} decides, op by op, what each op does and what
 * it answers. Synchronous and with no I/O of its own: the store reads ahead (or
 * inside its transaction) and writes with its own storage.
 */
import { JOB_STATUSES, isFinal, type ErrorRecord, type JobStatus, type LogEntry } from '../shared/types.js'
import type { JobRecord, ScheduleRecord, WriteOp, WriteResult } from './store.js'
import { signalStep } from '../shared/waits.js'

/** A `put` op of a batch. */
export type PutOp = Extract<WriteOp, { op: 'put' }>
/** A `release` op of a batch. */
export type ReleaseOp = Extract<WriteOp, { op: 'release' }>

/**
 * What a store has stored, as the rules ask for it: as the write stands, with the
 * changes its sink made so far (as reads inside a transaction see them). A store that
 * reads ahead answers from what it read, kept up to date by its sink (nothing read:
 * `undefined`).
 */
export interface Reads<R> {
  /** The row of job `id`. */
  job(id: string): R | undefined
  /**
   * The id of an unfinished job holding key `key` (see {@link holdsKey}). Asked only for
   * a key this write did not give a job: the rules keep the holders they make.
   */
  holder(key: string): string | undefined
  /** The schedule of id `id` (asked only for a `fired` schedule op). */
  schedule(id: string): ScheduleRecord | undefined
}

/**
 * How a store writes. Each method queues its change in the store's transaction (or
 * stages it), and keeps the store's {@link Reads} up to date with it. One that cannot
 * store a value throws before anything of its op is written: that op alone fails
 * `uncloneable`, unless {@link Sink.fatal} says the error is the storage's, which fails
 * the whole write.
 */
export interface Sink<R> {
  /** The record of a stored row, to answer with (a copy the caller may keep). */
  record(row: R): JobRecord
  /** Stores a new job, with insertion order `seq`, and its data. */
  insert(job: Omit<JobRecord, 'seq'>, seq: number, data: unknown): void
  /** Rewrites a job (its result with a completing put, its data when `op` has some) over row `old`. */
  put(op: PutOp, old: R | undefined): void
  /** Deletes job `id` (row `old`, if any) with its data, result, logs, errors and steps. */
  remove(id: string, old: R | undefined): void
  /** Appends one line to job `id`'s log. */
  log(id: string, entry: LogEntry): void
  /** Appends a failed attempt to job `id`'s errors. */
  error(id: string, record: ErrorRecord): void
  /** Stores the result of durable step `step` of job `id`. */
  step(id: string, step: string, value: unknown): void
  /** Stores (or replaces) a schedule. */
  schedule(record: ScheduleRecord): void
  /** Deletes a schedule. */
  unschedule(id: string): void
  /** Stores a release record, drops the releases `op.drop` names, and with `op.runner` makes it the runner's. */
  release(op: ReleaseOp): void
  /** Whether an error a method threw is the storage's (the transaction's), not its value's. Unset: never. */
  fatal?(error: unknown): boolean
}

/** No job in any status. */
export const zeroCounts = (): Record<JobStatus, number> => Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>

/**
 * Whether a job holds its key: while it is unfinished, an insert with that key is
 * refused (`key`). A store indexes every such job by its key.
 */
export const holdsKey = (job: { key?: string | undefined; status: JobStatus }): boolean => job.key !== undefined && !isFinal(job.status)

/** A stored schedule with the run of `fired` (its next time, its last run and job) written onto it. */
export function firedOnto(stored: ScheduleRecord, fired: ScheduleRecord): ScheduleRecord {
  const record: ScheduleRecord = { ...stored, nextRunAt: fired.nextRunAt }
  if (fired.lastRunAt !== undefined) record.lastRunAt = fired.lastRunAt
  if (fired.lastJobId !== undefined) record.lastJobId = fired.lastJobId
  return record
}

/** Whether result `r` of an atomic batch's op rolls the whole batch back (bad input, a lost condition, a lost runner place). */
function rollsBack(r: WriteResult): boolean {
  return !r.ok && (r.reason === 'uncloneable' || r.reason === 'conflict' || r.reason === 'fenced')
}

/**
 * The results of a batch that must roll back: an atomic one with an op that
 * {@link rollsBack}; the others then say `aborted`. (An insert whose id or key is
 * taken is no failure: the caller gets that job.) `undefined`: the batch commits.
 */
export function rolledBack(results: readonly WriteResult[], atomic: boolean | undefined): WriteResult[] | undefined {
  if (!atomic || !results.some(rollsBack)) return undefined
  return results.map((r) => (r.ok || r.reason === 'exists' || r.reason === 'key' ? { ok: false, reason: 'aborted' } : r))
}

/**
 * The rules of one write: create one per batch, with the store's reads and sink,
 * the stored seq and runner token; {@link WriteRules.apply} each op in order; then
 * store what moved ({@link WriteRules.seq}, the runner token once
 * {@link WriteRules.claimed}, the counts) unless the batch is {@link rolledBack}.
 */
export class WriteRules<R extends { status: JobStatus }> {
  /** The last seq given to a job: the store keeps it when it moved. */
  seq: number
  /** The runner token ops are fenced against; a `claim` sets it. */
  runner: string | undefined
  /** Whether the runner token was set (a `claim`): the store keeps it. */
  claimed = false
  /** How many jobs each status gained (negative: lost) in this write. */
  readonly counted = zeroCounts()
  #reads: Reads<R>
  #sink: Sink<R>
  /** The key holders this write made, over {@link Reads.holder}. */
  #holders = new Map<string, string>()

  constructor(reads: Reads<R>, sink: Sink<R>, seq: number, runner: string | undefined) {
    this.#reads = reads
    this.#sink = sink
    this.seq = seq
    this.runner = runner
  }

  /** Whether `op` is fenced with a token other than the runner's: it writes nothing and gives `fenced`. */
  fenced(op: WriteOp): boolean {
    return op.fence !== undefined && op.fence !== this.runner
  }

  /**
   * Applies one op: queues its puts through the sink and answers what it did. A sink
   * method that throws fails this op alone (`uncloneable`), after which the op has
   * changed nothing the rules keep; unless the sink says the error is the transaction's.
   */
  apply(op: WriteOp): WriteResult {
    if (this.fenced(op)) return { ok: false, reason: 'fenced' }
    try {
      return this.#apply(op)
    } catch (error) {
      if (this.#sink.fatal?.(error)) throw error
      return { ok: false, reason: 'uncloneable', error }
    }
  }

  #apply(op: WriteOp): WriteResult {
    const sink = this.#sink
    const reads = this.#reads
    const counted = this.counted
    switch (op.op) {
      case 'claim':
        this.runner = op.token
        this.claimed = true
        break
      case 'insert': {
        const { job } = op
        const existing = reads.job(job.id)
        if (existing) return { ok: false, reason: 'exists', job: sink.record(existing) }
        const holder = job.key === undefined ? undefined : this.#held(job.key)
        if (holder) return { ok: false, reason: 'key', job: sink.record(holder) }
        sink.insert(job, this.seq + 1, op.data)
        counted[job.status]++
        if (holdsKey(job)) this.#holders.set(job.key as string, job.id)
        return { ok: true, seq: ++this.seq }
      }
      case 'put': {
        const { job } = op
        const old = reads.job(job.id)
        if (op.expect && (!old || !op.expect.includes(old.status))) return { ok: false, reason: 'conflict', job: old && sink.record(old) }
        sink.put(op, old)
        if (old) counted[old.status]--
        counted[job.status]++
        // An unfinished job takes its key when no other unfinished job holds it; a finished one lets it go (see #held).
        if (holdsKey(job) && !this.#held(job.key as string)) this.#holders.set(job.key as string, job.id)
        break
      }
      case 'delete':
        for (const id of op.ids.length > 1 ? new Set(op.ids) : op.ids) {
          const old = reads.job(id)
          sink.remove(id, old)
          if (old) counted[old.status]--
        }
        break
      case 'step': {
        const row = reads.job(op.id)
        if (row?.status !== 'running') return { ok: false, reason: 'conflict', job: row && sink.record(row) }
        sink.step(op.id, op.step, op.value)
        break
      }
      case 'signal': {
        const row = reads.job(op.id)
        if (!row || isFinal(row.status)) return { ok: false, reason: 'conflict', job: row && sink.record(row) }
        sink.step(op.id, signalStep(op.name), { payload: op.payload })
        const job = sink.record(row)
        if (job.status !== 'delayed' || job.signal !== op.name) break
        // It waits for this signal: it runs now.
        const woken: JobRecord = { ...job, status: 'waiting', runAt: op.at, rev: job.rev + 1 }
        delete woken.signal
        delete woken.waitingFor
        sink.put({ op: 'put', job: woken }, row)
        counted.delayed--
        counted.waiting++
        return { ok: true, job: { ...woken } }
      }
      case 'log':
        for (const entry of op.entries) this.line(op.id, entry)
        break
      case 'error':
        sink.error(op.id, op.record)
        break
      case 'schedule': {
        let record = op.schedule
        if (op.fired) {
          const stored = reads.schedule(record.id)
          if (!stored || (op.fired === 'due' && stored.paused)) return { ok: false, reason: 'conflict', job: undefined }
          record = firedOnto(stored, record)
        }
        sink.schedule(record)
        break
      }
      case 'unschedule':
        sink.unschedule(op.id)
        break
      case 'release':
        sink.release(op)
    }
    return { ok: true }
  }

  /**
   * Stores one log line of job `id`; a line whose `meta` cannot be stored keeps its
   * message, with a note for its meta. (For a store that writes a `log` op's lines
   * itself, between other work: it checks {@link WriteRules.fenced} first.)
   */
  line(id: string, entry: LogEntry): void {
    try {
      this.#sink.log(id, entry)
    } catch (error) {
      if (this.#sink.fatal?.(error)) throw error
      const { meta: _meta, ...rest } = entry
      this.#sink.log(id, { ...rest, meta: { unserializable: `the meta of this line could not be stored: ${(error as Error).message}` } })
    }
  }

  /** Counts kept by a store (`stored`, none yet: `undefined`) with this write's changes. */
  counts(stored: Readonly<Record<JobStatus, number>> | undefined): Record<JobStatus, number> {
    const counts = zeroCounts()
    for (const status of JOB_STATUSES) counts[status] = (stored?.[status] ?? 0) + this.counted[status]
    return counts
  }

  /**
   * The unfinished job holding `key` as this write stands (a holder that finished or was
   * deleted in it holds the key no more).
   */
  #held(key: string): R | undefined {
    const id = this.#holders.get(key) ?? this.#reads.holder(key)
    const row = id === undefined ? undefined : this.#reads.job(id)
    return row && !isFinal(row.status) ? row : undefined
  }
}
