/**
 * `queue.watch(query)`: a live job list (see live.ts for the store contract it keeps).
 * It re-reads the query on a change of membership, and shows at once what the events
 * tell meanwhile (an added job, a new status, progress); a job that reads as it did
 * keeps its snapshot object.
 */
import { DEFAULT_LIST_LIMIT, type JobSnapshot, type ListOptions, type Progress } from '../shared/types.js'
import { EMPTY, LiveQuery, sameProgress, type LiveHost, type WatchQuery } from './live.js'

/** The events that tell a job's new status (its snapshot as committed). */
const MOVES = ['started', 'retrying', 'requeued', 'completed', 'failed', 'cancelled'] as const

/** `queue.watch(query)`. */
export class LiveJobList extends LiveQuery<readonly JobSnapshot[]> {
  #query: ListOptions
  /** Progress heard since the last read began, by job id. */
  #progress = new Map<string, Progress>()
  /** Jobs as the status events since the last read began tell them (committed before each event), by id. */
  #moved = new Map<string, JobSnapshot>()
  /** Jobs added since the last read began that the query takes, in the order they were added. */
  #added = new Map<string, JobSnapshot>()
  #statuses: ReadonlySet<string> | undefined

  constructor(host: LiveHost, query: WatchQuery) {
    super(host, EMPTY)
    this.#query = { ...query }
    const { status } = query
    if (status !== undefined) this.#statuses = new Set(typeof status === 'string' ? [status] : status)
  }

  protected override listen(): () => void {
    const moved = (job: JobSnapshot): void => {
      const { data: _data, result: _result, ...listed } = job
      this.#moved.set(job.id, listed)
      this.#progress.delete(job.id)
    }
    const offs = [
      this.host.on('progress', (job, progress) => {
        this.#progress.set(job.id, progress)
        this.patched()
      }),
      ...MOVES.map((event) => this.host.on(event, moved)),
      this.host.on('added', (job) => {
        const { data: _data, result: _result, ...listed } = job
        if (this.#takes(listed)) this.#added.set(job.id, listed)
      }),
    ]
    return () => {
      for (const off of offs) off()
    }
  }

  protected override async read(): Promise<readonly JobSnapshot[]> {
    // What was heard before this read began is in what it reads: dropped once it is back (not
    // before: until then the view shows it), unless heard anew meanwhile.
    const heard = [new Map(this.#progress), new Map(this.#moved), new Map(this.#added)] as const
    const jobs = Object.freeze(await this.host.list(this.#query))
    for (const [i, map] of [this.#progress, this.#moved, this.#added].entries()) {
      for (const [id, value] of heard[i] as Map<string, unknown>) if ((map as Map<string, unknown>).get(id) === value) map.delete(id)
    }
    return jobs
  }

  /** Whether the query takes `job` (its limit aside). */
  #takes(job: JobSnapshot): boolean {
    return (this.#statuses === undefined || this.#statuses.has(job.status)) && (this.#query.name === undefined || this.#query.name === job.name)
  }

  /**
   * What was heard since the last read began goes onto the list at once: a job's new
   * status (it leaves a list filtered by status it no longer has; one that joins comes
   * with the re-read the event asked for, which a slow store may make wait), and its
   * progress. It stays until the next read begins: a read that began before an event
   * may come back with an older value.
   */
  protected override patch(jobs: readonly JobSnapshot[]): readonly JobSnapshot[] {
    if (this.#progress.size === 0 && this.#moved.size === 0 && this.#added.size === 0) return jobs
    let out: JobSnapshot[] | undefined
    let dropped = false
    const listed = new Set(jobs.map((job) => job.id))
    // Added since: newest first, ahead of the rest (a job added later has a greater seq), as far as the limit.
    const added = [...this.#added.values()].filter((job) => !listed.has(job.id)).reverse()
    if (added.length > 0) {
      const limit = this.#query.limit ?? DEFAULT_LIST_LIMIT
      jobs = [...added, ...jobs].slice(0, limit)
      out = [...jobs]
      for (const job of added) listed.add(job.id)
    }
    for (const [i, listedJob] of jobs.entries()) {
      let job = listedJob
      const moved = this.#moved.get(job.id)
      if (moved !== undefined && (moved.status !== job.status || moved.attempt !== job.attempt)) {
        out ??= [...jobs]
        if (this.#statuses && !this.#statuses.has(moved.status)) {
          out[i] = undefined as unknown as JobSnapshot
          dropped = true
          continue
        }
        job = out[i] = moved
      }
      const progress = this.#progress.get(job.id)
      if (progress === undefined || progress === job.progress || job.status !== 'running') continue
      out ??= [...jobs]
      out[i] = { ...job, progress }
    }
    // A job not listed joins the list only by a read, which reads its progress.
    for (const id of this.#progress.keys()) if (!listed.has(id)) this.#progress.delete(id)
    if (!out) return jobs
    return Object.freeze(dropped ? out.filter((job) => job !== undefined) : out)
  }

  /**
   * A job that reads as it did keeps its snapshot object (so a `React.memo` row, a keyed
   * Vue or Svelte item, does not render again), and a list that reads as it did keeps its array.
   */
  protected override keep(old: readonly JobSnapshot[], fresh: readonly JobSnapshot[]): readonly JobSnapshot[] {
    if (old.length === 0) return fresh
    const before = new Map(old.map((job) => [job.id, job]))
    let changed = old.length !== fresh.length
    const out = fresh.map((job, i) => {
      const was = before.get(job.id)
      const kept = was !== undefined && sameSnapshot(was, job) ? was : job
      if (kept !== old[i]) changed = true
      return kept
    })
    return changed ? Object.freeze(out) : old
  }

  protected override same(a: readonly JobSnapshot[], b: readonly JobSnapshot[]): boolean {
    return a.length === b.length && a.every((job, i) => job === b[i])
  }
}

/** Whether two snapshots of a job read alike, field by field (a re-read brings new objects for the same values). */
export function sameSnapshot(a: JobSnapshot, b: JobSnapshot): boolean {
  if (a === b) return true
  const keys = Object.keys(a) as Array<keyof JobSnapshot>
  if (keys.length !== Object.keys(b).length) return false
  for (const key of keys) {
    const x = a[key]
    const y = b[key]
    if (x === y) continue
    if (key === 'dependencies') {
      const xs = x as readonly string[]
      const ys = y as readonly string[] | undefined
      if (!ys || xs.length !== ys.length || xs.some((id, i) => id !== ys[i])) return false
      continue
    }
    // Progress, an error, data or a result: values compared by what they read as.
    if (!sameProgress(x, y)) return false
  }
  return true
}
