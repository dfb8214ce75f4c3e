/**
 * The runner's in-memory index of what runs next: a window of the `waiting`
 * jobs (by priority, then insertion order) and of the `delayed` jobs (by
 * `runAt`), refilled from the store's indexes as it drains. Dispatch never
 * scans the store, and a queue with 100,000 stored jobs holds only a window
 * of them in memory.
 */
import { Heap } from './heap.js'
import { due } from './transition.js'
import { clearLongTimeout, setUnchainedTimeout, type LongTimer } from '../shared/timers.js'
import type { JobRecord, Store } from '../store/store.js'

/** Jobs of each kind held in memory at most (more may wait in the store). */
export const WINDOW = 1000
/** Pages a refill reads at most, looking past jobs held already. */
const MAX_PAGES = 16

const readyBefore = (a: JobRecord, b: JobRecord): boolean => (a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq)

/** Due and delayed jobs, windowed over the store. */
export class JobIndex {
  #store: Store
  #known: (id: string) => boolean
  #onDue: () => void
  /** Jobs that left (ran, were cancelled) while a refill was reading: its view of them is stale. */
  #leftDuringRefill = new Set<string>()
  /** Every job in either heap, by id; entries whose job left are skipped when popped. */
  #jobs = new Map<string, JobRecord>()
  #ready = new Heap<JobRecord>(readyBefore)
  #readyIds = new Set<string>()
  #delayed = new Heap<JobRecord>((a, b) => a.runAt < b.runAt)
  /** The last job of a full window: the store may hold more beyond it. */
  #readyEdge: JobRecord | undefined
  #delayedEdge: JobRecord | undefined
  #refilling: Promise<void> | undefined
  /** The last refill found no job it did not hold already. */
  #starved = false
  #timer: LongTimer | undefined
  #timerAt = Infinity
  #stopped = false

  /**
   * @param known - whether the caller holds a job already (running: its new status may not be committed yet)
   * @param onDue - called when delayed jobs became due or a refill brought jobs in: dispatch
   */
  constructor(store: Store, known: (id: string) => boolean, onDue: () => void) {
    this.#store = store
    this.#known = known
    this.#onDue = onDue
  }

  /** Jobs in memory that may run now. */
  get readyCount(): number {
    return this.#readyIds.size
  }

  /** Whether nothing waits, in memory or (beyond the window) in the store. */
  get empty(): boolean {
    return this.#readyIds.size === 0 && this.#readyEdge === undefined
  }

  /** The indexed view of a job. */
  get(id: string): JobRecord | undefined {
    return this.#jobs.get(id)
  }

  /** Takes a stored `waiting` or `delayed` job in, unless it lies beyond a full window. */
  add(job: JobRecord): void {
    if (this.#stopped) return
    // Something moved (a new job, a parked one back): a refill may find more again.
    this.#starved = false
    if (job.status === 'waiting') {
      if (this.#readyEdge && !readyBefore(job, this.#readyEdge)) return
      this.#jobs.set(job.id, job)
      this.#readyIds.add(job.id)
      this.#ready.push(job)
    } else if (job.status === 'delayed') {
      if (this.#delayedEdge && job.runAt > this.#delayedEdge.runAt) return
      this.#jobs.set(job.id, job)
      this.#delayed.push(job)
      this.#arm()
    }
  }

  /** The jobs held in memory that pass `test`. */
  held(test: (job: JobRecord) => boolean): JobRecord[] {
    return [...this.#jobs.values()].filter(test)
  }

  /** Drops a job (cancelled, or finished elsewhere). */
  remove(id: string): void {
    this.#jobs.delete(id)
    this.#readyIds.delete(id)
    this.left(id)
  }

  /** A job the caller held has left for good (finished, cancelled): a refill under way must not bring it back. */
  left(id: string): void {
    if (this.#refilling) this.#leftDuringRefill.add(id)
  }

  /** The next job to run, without taking it. */
  peek(): JobRecord | undefined {
    this.#promote()
    for (let top = this.#ready.peek(); top; top = this.#ready.peek()) {
      if (this.#readyIds.has(top.id) && this.#jobs.get(top.id) === top) return top
      this.#ready.pop()
    }
    return undefined
  }

  /** Takes the next job to run out of the index; refills the window when it runs low. */
  take(): JobRecord | undefined {
    const job = this.peek()
    if (!job) return undefined
    this.#ready.pop()
    this.#readyIds.delete(job.id)
    this.#jobs.delete(job.id)
    if (this.#readyEdge && !this.#starved && this.#readyIds.size < WINDOW / 4) void this.refill()
    return job
  }

  /** Loads the next windows from the store. */
  refill(): Promise<void> {
    this.#refilling ??= (async () => {
      try {
        const [ready, delayed] = await Promise.all([this.#page('ready'), this.#page('delayed')])
        if (this.#stopped) return
        this.#readyEdge = undefined
        this.#delayedEdge = undefined
        const fresh = ready.jobs.filter((job) => this.#fresh(job))
        for (const job of fresh) this.add(job)
        for (const job of delayed.jobs) if (this.#fresh(job)) this.add(job)
        this.#readyEdge = ready.edge
        this.#delayedEdge = delayed.edge
        // Pages of jobs held already (parked by a limit) and nothing new: read again only once something moves.
        this.#starved = fresh.length === 0
      } finally {
        this.#refilling = undefined
        this.#leftDuringRefill.clear()
      }
      this.#onDue()
    })()
    return this.#refilling
  }

  #fresh(job: JobRecord): boolean {
    return !this.#jobs.has(job.id) && !this.#known(job.id) && !this.#leftDuringRefill.has(job.id)
  }

  /**
   * Reads a window of one kind from the store, paging past the jobs the caller
   * holds already (parked by a task's limit, running): 1,200 jobs of a
   * `concurrency: 1` task must not hide the next task's job behind them.
   *
   * @returns the jobs read, and the last one when the store may hold more beyond it
   */
  async #page(kind: 'ready' | 'delayed'): Promise<{ jobs: JobRecord[]; edge: JobRecord | undefined }> {
    const jobs: JobRecord[] = []
    let after: JobRecord | undefined
    for (let page = 0; page < MAX_PAGES; page++) {
      const rows = await this.#store.pending(kind, WINDOW, after)
      let fresh = 0
      for (const job of rows) {
        jobs.push(job)
        if (!this.#known(job.id)) fresh++
      }
      const last = rows[rows.length - 1]
      if (rows.length < WINDOW || !last) return { jobs, edge: undefined }
      // A store that ignores `after`, or a page of one `runAt`: reading on would not move.
      if (after && (last.id === after.id || (kind === 'delayed' && last.runAt === after.runAt))) return { jobs, edge: last }
      after = last
      if (fresh >= WINDOW / 4) break
    }
    return { jobs, edge: after }
  }

  /** Forgets everything; takes nothing more. */
  stop(): void {
    this.#stopped = true
    clearLongTimeout(this.#timer)
    this.#jobs.clear()
    this.#readyIds.clear()
    this.#ready.clear()
    this.#delayed.clear()
  }

  /** Delayed jobs whose time has come become ready (in memory: `running` is the next status written). */
  #promote(): void {
    const now = Date.now()
    for (let top = this.#delayed.peek(); top && top.runAt <= now; top = this.#delayed.peek()) {
      this.#delayed.pop()
      if (this.#jobs.get(top.id) !== top) continue
      const ready = due(top)
      this.#jobs.set(ready.id, ready)
      this.#readyIds.add(ready.id)
      this.#ready.push(ready)
    }
    if (this.#delayedEdge && this.#delayed.size < WINDOW / 4) void this.refill()
    this.#arm()
  }

  #arm(): void {
    const next = this.#delayed.peek()
    if (!next || this.#stopped) return
    if (this.#timer !== undefined && next.runAt >= this.#timerAt) return
    clearLongTimeout(this.#timer)
    this.#timerAt = next.runAt
    this.#timer = setUnchainedTimeout(
      () => {
        this.#timer = undefined
        this.#timerAt = Infinity
        this.#promote()
        this.#onDue()
      },
      Math.max(0, next.runAt - Date.now()),
    )
  }
}
