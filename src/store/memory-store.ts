/**
 * A Store that keeps everything in memory: tests, and runtimes without
 * IndexedDB. Data, results, logs and errors are structured-cloned on the way
 * in and out, as a real store would, so the same bad input fails the same
 * way; job records (plain data the queue builds and never mutates in place)
 * are copied shallowly.
 */
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

/** A copy of a record deep enough that a caller's change cannot reach the store (the queue replaces nested values, never edits them). */
function copy<J extends Omit<JobRecord, 'seq'>>(job: J): J {
  return { ...job, dependencies: [...job.dependencies] }
}

/** Ops staged between two yields to the page in one write. */
const CHUNK = 1000

/**
 * A copy of a value, as IndexedDB would store it. A primitive is its own copy (and
 * structuredClone of one still costs a call into the engine: ~4 µs, two per job); a
 * function or a symbol still throws DataCloneError.
 */
const clone = <T>(value: T): T =>
  (typeof value === 'object' && value !== null) || typeof value === 'function' || typeof value === 'symbol' ? structuredClone(value) : value

/**
 * Creates a store with no persistence: jobs live as long as the page (or process).
 *
 * @example
 * ```ts
 * const queue = createQueue({ store: memoryStore(), worker })
 * ```
 */
export function memoryStore(): Store {
  return new MemoryStore()
}

class MemoryStore implements Store {
  readonly kind = 'memory'
  readonly fencing = true
  #runner: string | undefined
  #jobs = new Map<string, JobRecord>()
  #data = new Map<string, unknown>()
  #results = new Map<string, unknown>()
  #logs = new Map<string, LogEntry[]>()
  #errors = new Map<string, ErrorRecord[]>()
  #steps = new Map<string, Map<string, unknown>>()
  #keys = new Map<string, string>()
  #schedules = new Map<string, ScheduleRecord>()
  #releases = new Map<string, ReleaseRecord>()
  /** The key of the runner's release. */
  #runnerRelease: string | undefined
  #seq = 0

  async open(): Promise<void> {}

  async close(): Promise<void> {}

  async write(ops: readonly WriteOp[], options: { atomic?: boolean } = {}): Promise<WriteResult[]> {
    await Promise.resolve()
    // Stage on copies of the indexes that an op may change, commit at the end.
    const jobs = new Map<string, JobRecord>()
    const keys = new Map<string, string | undefined>()
    const writes: Array<() => void> = []
    const results: WriteResult[] = []
    const current = (id: string): JobRecord | undefined => (jobs.has(id) ? jobs.get(id) : this.#jobs.get(id))
    const holder = (key: string): string | undefined => (keys.has(key) ? keys.get(key) : this.#keys.get(key))
    let seq = this.#seq
    let runner = this.#runner
    for (const [i, op] of ops.entries()) {
      // A big batch yields to the page now and then, like idbStore: nothing is applied before the end.
      if (i % CHUNK === CHUNK - 1) await new Promise((resolve) => setTimeout(resolve, 0))
      if (op.fence !== undefined && op.fence !== runner) {
        results.push({ ok: false, reason: 'fenced' })
        continue
      }
      switch (op.op) {
        case 'claim': {
          runner = op.token
          results.push({ ok: true })
          break
        }
        case 'insert': {
          const existing = current(op.job.id)
          if (existing) {
            results.push({ ok: false, reason: 'exists', job: copy(existing) })
            break
          }
          const held = op.job.key === undefined ? undefined : holder(op.job.key)
          const heldBy = held === undefined ? undefined : current(held)
          if (heldBy) {
            results.push({ ok: false, reason: 'key', job: copy(heldBy) })
            break
          }
          let data: unknown
          try {
            data = clone(op.data)
          } catch (error) {
            results.push({ ok: false, reason: 'uncloneable', error })
            break
          }
          const job: JobRecord = { ...copy(op.job), seq: ++seq }
          jobs.set(job.id, job)
          if (job.key !== undefined && !isFinal(job.status)) keys.set(job.key, job.id)
          writes.push(() => this.#data.set(job.id, data))
          results.push({ ok: true, seq: job.seq })
          break
        }
        case 'put': {
          const stored = current(op.job.id)
          if (op.expect && (!stored || !op.expect.includes(stored.status))) {
            results.push({ ok: false, reason: 'conflict', job: stored && copy(stored) })
            break
          }
          // A value that cannot be stored fails this op alone, as in idbStore.
          let data: unknown
          let result: unknown
          try {
            if ('data' in op) data = clone(op.data)
            if ('result' in op && op.job.status === 'completed') result = clone(op.result)
            if (op.job.progress !== undefined) clone(op.job.progress)
          } catch (error) {
            results.push({ ok: false, reason: 'uncloneable', error })
            break
          }
          if ('data' in op) writes.push(() => this.#data.set(op.job.id, data))
          const job = copy(op.job)
          jobs.set(job.id, job)
          // Like a rewritten row: a result only with a completing put; any other put drops it.
          if ('result' in op && job.status === 'completed') writes.push(() => this.#results.set(job.id, result))
          else writes.push(() => this.#results.delete(job.id))
          if (job.key !== undefined) {
            if (isFinal(job.status)) {
              if (holder(job.key) === job.id) keys.set(job.key, undefined)
            } else if (holder(job.key) === undefined) {
              keys.set(job.key, job.id)
            }
          }
          results.push({ ok: true })
          break
        }
        case 'log': {
          const entries = op.entries.map((entry) => {
            try {
              return clone(entry)
            } catch (error) {
              const { meta: _meta, ...rest } = entry
              return { ...rest, meta: { unserializable: `the meta of this line could not be stored: ${(error as Error).message}` } }
            }
          })
          writes.push(() => {
            const list = this.#logs.get(op.id)
            if (list) list.push(...entries)
            else this.#logs.set(op.id, entries)
          })
          results.push({ ok: true })
          break
        }
        case 'error': {
          const record = clone(op.record)
          writes.push(() => {
            const list = this.#errors.get(op.id)
            if (list) list.push(record)
            else this.#errors.set(op.id, [record])
          })
          results.push({ ok: true })
          break
        }
        case 'schedule': {
          const stored = this.#schedules.get(op.schedule.id)
          if (op.fired && (!stored || (op.fired === 'due' && stored.paused))) {
            results.push({ ok: false, reason: 'conflict', job: undefined })
            break
          }
          const schedule = clone(op.fired && stored ? firedOnto(stored, op.schedule) : op.schedule)
          writes.push(() => this.#schedules.set(schedule.id, schedule))
          results.push({ ok: true })
          break
        }
        case 'step': {
          const job = current(op.id)
          if (job?.status !== 'running') {
            results.push({ ok: false, reason: 'conflict', job: job && copy(job) })
            break
          }
          let value: unknown
          try {
            value = clone(op.value)
          } catch (error) {
            results.push({ ok: false, reason: 'uncloneable', error })
            break
          }
          writes.push(() => {
            let steps = this.#steps.get(op.id)
            if (!steps) this.#steps.set(op.id, (steps = new Map<string, unknown>()))
            steps.set(op.step, value)
          })
          results.push({ ok: true })
          break
        }
        case 'unschedule': {
          writes.push(() => this.#schedules.delete(op.id))
          results.push({ ok: true })
          break
        }
        case 'release': {
          const release = structuredClone(op.release)
          writes.push(() => {
            for (const version of op.drop ?? []) this.#releases.delete(releaseKey(version))
            this.#releases.set(releaseKey(release.version), release)
            if (op.runner) this.#runnerRelease = releaseKey(release.version)
          })
          results.push({ ok: true })
          break
        }
        case 'delete': {
          for (const id of op.ids) {
            const job = current(id)
            if (job?.key !== undefined && holder(job.key) === id) keys.set(job.key, undefined)
            jobs.set(id, undefined as unknown as JobRecord)
          }
          writes.push(() => {
            for (const id of op.ids) {
              this.#data.delete(id)
              this.#results.delete(id)
              this.#logs.delete(id)
              this.#errors.delete(id)
              this.#steps.delete(id)
            }
          })
          results.push({ ok: true })
          break
        }
      }
    }
    // An atomic batch is all or nothing: bad input or a lost condition rolls it back.
    // (An insert whose id or key is taken is no failure: the caller gets that job.)
    if (options.atomic && results.some(rollsBack)) {
      return results.map((r) => (r.ok || r.reason === 'exists' || r.reason === 'key' ? { ok: false, reason: 'aborted' } : r))
    }
    this.#seq = seq
    this.#runner = runner
    for (const [id, job] of jobs) {
      if (job) this.#jobs.set(id, job)
      else this.#jobs.delete(id)
    }
    for (const [key, id] of keys) {
      if (id === undefined) this.#keys.delete(key)
      else this.#keys.set(key, id)
    }
    for (const write of writes) write()
    return results
  }

  async get(ids: readonly string[]): Promise<Array<JobRecord | undefined>> {
    return ids.map((id) => {
      const job = this.#jobs.get(id)
      return job && copy(job)
    })
  }

  async getFull(id: string, options: { data?: boolean } = {}): Promise<StoredJob | undefined> {
    const job = this.#jobs.get(id)
    return job && this.#full(job, options.data !== false)
  }

  async getData(ids: readonly string[]): Promise<unknown[]> {
    return ids.map((id) => clone(this.#data.get(id)))
  }

  async list(query: ListQuery): Promise<StoredJob[]> {
    const statuses = query.status === undefined ? undefined : ([] as JobStatus[]).concat(query.status)
    const all = [...this.#jobs.values()]
      .filter(
        (job) =>
          (!statuses || statuses.includes(job.status)) &&
          (!query.name || job.name === query.name) &&
          (query.before === undefined || job.seq < query.before),
      )
      .sort((a, b) => b.seq - a.seq)
    const offset = query.offset ?? 0
    const page = all.slice(offset, query.limit === undefined ? undefined : offset + query.limit)
    return page.map((job) => (query.data ? this.#full(job, true) : (copy(job) as StoredJob)))
  }

  async counts(): Promise<Record<JobStatus, number>> {
    const counts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>
    for (const job of this.#jobs.values()) counts[job.status]++
    return counts
  }

  async pending(kind: 'ready' | 'delayed', limit: number, after?: JobRecord): Promise<JobRecord[]> {
    const status = kind === 'ready' ? 'waiting' : 'delayed'
    const past = (job: JobRecord): boolean =>
      !after ||
      (kind === 'ready' ? job.priority < after.priority || (job.priority === after.priority && job.seq > after.seq) : job.runAt >= after.runAt)
    return [...this.#jobs.values()]
      .filter((job) => job.status === status && past(job))
      .sort((a, b) => (kind === 'ready' ? b.priority - a.priority || a.seq - b.seq : a.runAt - b.runAt || a.seq - b.seq))
      .slice(0, limit)
      .map(copy)
  }

  async releases(): Promise<StoredReleases> {
    await Promise.resolve()
    const known = [...this.#releases.values()].map((r) => structuredClone(r))
    return { known, runner: known.find((r) => releaseKey(r.version) === this.#runnerRelease) }
  }

  async schedules(): Promise<ScheduleRecord[]> {
    return clone([...this.#schedules.values()])
  }

  async debounced(key: string): Promise<JobRecord | undefined> {
    const job = [...this.#jobs.values()].find((j) => j.debounce === key && j.status === 'delayed')
    return job && copy(job)
  }

  async dependents(id: string): Promise<JobRecord[]> {
    return [...this.#jobs.values()].filter((job) => job.dependencies.includes(id)).map(copy)
  }

  async scan(statuses: readonly JobStatus[], visit: (job: JobRecord) => void): Promise<void> {
    const found = [...this.#jobs.values()].filter((job) => statuses.includes(job.status)).sort((a, b) => a.seq - b.seq)
    for (const job of found) visit(copy(job))
  }

  async logs(id: string): Promise<LogEntry[]> {
    return clone(this.#logs.get(id) ?? [])
  }

  async errors(id: string): Promise<ErrorRecord[]> {
    return clone(this.#errors.get(id) ?? [])
  }
  async steps(id: string): Promise<Record<string, unknown>> {
    return clone(Object.fromEntries(this.#steps.get(id) ?? []))
  }

  async expired(status: JobStatus, rule: { finishedBefore?: number; keep?: number }, limit: number): Promise<string[]> {
    const finished = [...this.#jobs.values()].filter((job) => job.status === status).sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0))
    const overCount = rule.keep === undefined ? 0 : Math.max(0, finished.length - rule.keep)
    const out: string[] = []
    for (const [i, job] of finished.entries()) {
      if (out.length >= limit) break
      const old = rule.finishedBefore !== undefined && (job.finishedAt ?? 0) < rule.finishedBefore
      if (old || i < overCount) out.push(job.id)
      else break
    }
    return out
  }

  #full(job: JobRecord, withData: boolean): StoredJob {
    const full = copy(job) as StoredJob
    if (withData) full.data = clone(this.#data.get(job.id))
    // As in idbStore: a result is part of the job only once it is completed.
    if (job.status === 'completed' && this.#results.has(job.id)) full.result = clone(this.#results.get(job.id))
    return full
  }
}
