/**
 * A Store that keeps everything in memory: tests, and runtimes without
 * IndexedDB. Data, results, logs and errors are structured-cloned on the way
 * in and out, as a real store would, so the same bad input fails the same
 * way; job records (plain data the queue builds and never mutates in place)
 * are copied shallowly.
 */
import type { ErrorRecord, JobStatus, LogEntry } from '../shared/types.js'
import type { GroupRecord, JobRecord, ListQuery, ScheduleRecord, Store, StoredJob, StoredReleases, WriteOp, WriteResult } from './store.js'
import { holdsKey, rolledBack, WriteRules, zeroCounts, type Sink } from './write-rules.js'
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

/** Appends `value` to the list of `id` in `lists`. */
function append<T>(lists: Map<string, T[]>, id: string, value: T): void {
  const list = lists.get(id)
  if (list) list.push(value)
  else lists.set(id, [value])
}

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
  /** The unfinished jobs of each key (see holdsKey), as IndexedDB's `activeKey` index has them. */
  #keys = new Map<string, Set<string>>()
  #schedules = new Map<string, ScheduleRecord>()
  #releases = new Map<string, ReleaseRecord>()
  #groups = new Map<string, GroupRecord>()
  /** The key of the runner's release. */
  #runnerRelease: string | undefined
  #seq = 0
  /** Jobs per status, kept by every write. */
  #counts = zeroCounts()

  async open(): Promise<void> {}

  async close(): Promise<void> {}

  async write(ops: readonly WriteOp[], options: { atomic?: boolean } = {}): Promise<WriteResult[]> {
    await Promise.resolve()
    // Staged: the jobs and schedules an op wrote (undefined: deleted), and the other changes in
    // order; read through while the write goes on, committed at the end.
    const jobs = new Map<string, JobRecord | undefined>()
    const schedules = new Map<string, ScheduleRecord | undefined>()
    const groups = new Map<string, GroupRecord | undefined>()
    const writes: Array<() => void> = []
    const reads = {
      job: (id: string) => (jobs.has(id) ? jobs.get(id) : this.#jobs.get(id)),
      holder: (key: string) => this.#keys.get(key)?.values().next().value,
      schedule: (id: string) => (schedules.has(id) ? schedules.get(id) : this.#schedules.get(id)),
      group: (id: string) => (groups.has(id) ? groups.get(id) : this.#groups.get(id)),
    }
    const sink: Sink<JobRecord> = {
      ...this.#sink(jobs, schedules, writes),
      group: (id, record) => {
        groups.set(id, record && structuredClone(record))
        writes.push(() => (record ? this.#groups.set(id, structuredClone(record)) : this.#groups.delete(id)))
      },
    }
    const rules = new WriteRules(reads, sink, this.#seq, this.#runner)
    const results: WriteResult[] = []
    for (const [i, op] of ops.entries()) {
      // A big batch yields to the page now and then, like idbStore: nothing is applied before the end.
      if (i % CHUNK === CHUNK - 1) await new Promise((resolve) => setTimeout(resolve, 0))
      results.push(rules.apply(op))
    }
    const rolled = rolledBack(results, options.atomic)
    if (rolled) return rolled
    this.#seq = rules.seq
    this.#runner = rules.runner
    this.#counts = rules.counts(this.#counts)
    for (const [id, job] of jobs) this.#commit(id, job)
    for (const [id, schedule] of schedules) {
      if (schedule) this.#schedules.set(id, schedule)
      else this.#schedules.delete(id)
    }
    for (const write of writes) write()
    return results
  }

  /**
   * What the rules write through: jobs into `jobs`, schedules into `schedules`, every other
   * change a function in `writes`. Values are cloned now: one that will not clone fails its op.
   */
  #sink(
    jobs: Map<string, JobRecord | undefined>,
    schedules: Map<string, ScheduleRecord | undefined>,
    writes: Array<() => void>,
  ): Omit<Sink<JobRecord>, 'group'> {
    return {
      record: copy,
      insert: (job, seq, data) => {
        const value = clone(data)
        jobs.set(job.id, { ...copy(job), seq })
        writes.push(() => this.#data.set(job.id, value))
      },
      put: (op) => {
        const data = 'data' in op ? clone(op.data) : undefined
        // Like a rewritten row: a result only with a completing put; any other put drops it.
        const completed = 'result' in op && op.job.status === 'completed'
        const result = completed ? clone(op.result) : undefined
        if (op.job.progress !== undefined) clone(op.job.progress)
        const { id } = op.job
        jobs.set(id, copy(op.job))
        if ('data' in op) writes.push(() => this.#data.set(id, data))
        writes.push(completed ? () => this.#results.set(id, result) : () => this.#results.delete(id))
      },
      remove: (id) => {
        jobs.set(id, undefined)
        writes.push(() => {
          this.#data.delete(id)
          this.#results.delete(id)
          this.#logs.delete(id)
          this.#errors.delete(id)
          this.#steps.delete(id)
        })
      },
      log: (id, entry) => {
        const line = clone(entry)
        writes.push(() => append(this.#logs, id, line))
      },
      error: (id, record) => {
        const copied = clone(record)
        writes.push(() => append(this.#errors, id, copied))
      },
      step: (id, step, value) => {
        const copied = clone(value)
        writes.push(() => {
          let steps = this.#steps.get(id)
          if (!steps) this.#steps.set(id, (steps = new Map<string, unknown>()))
          steps.set(step, copied)
        })
      },
      schedule: (record) => schedules.set(record.id, clone(record)),
      unschedule: (id) => schedules.set(id, undefined),
      release: (op) => {
        const release = structuredClone(op.release)
        writes.push(() => {
          for (const version of op.drop ?? []) this.#releases.delete(releaseKey(version))
          this.#releases.set(releaseKey(release.version), release)
          if (op.runner) this.#runnerRelease = releaseKey(release.version)
        })
      },
    }
  }

  /** Commits job `id` (undefined: deleted), and the key it holds. */
  #commit(id: string, job: JobRecord | undefined): void {
    const old = this.#jobs.get(id)
    if (old && holdsKey(old)) {
      const ids = this.#keys.get(old.key as string)
      ids?.delete(id)
      if (ids?.size === 0) this.#keys.delete(old.key as string)
    }
    if (!job) {
      this.#jobs.delete(id)
      return
    }
    this.#jobs.set(id, job)
    if (holdsKey(job)) {
      const ids = this.#keys.get(job.key as string)
      if (ids) ids.add(id)
      else this.#keys.set(job.key as string, new Set([id]))
    }
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
    return { ...this.#counts }
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

  async groups(): Promise<GroupRecord[]> {
    await Promise.resolve()
    return [...this.#groups.values()].map((g) => structuredClone(g))
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
