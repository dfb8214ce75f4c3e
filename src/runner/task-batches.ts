/**
 * Batch tasks (task option `batch: { size, wait }`) in the runner: their due jobs are
 * held here, by task, until `size` of them are due or the first has waited `wait` ms;
 * then the dispatch loop (dispatch-loop.ts) sends them to one worker as one message,
 * one call of the handler. Each job keeps its own attempt: from then on it is a
 * running job like any other (attempts.ts). Never mixed with the automatic batching
 * of short jobs (batching.ts), which is about messages, not calls.
 */
import type { WorkerManifest } from '../shared/protocol.js'
import { clearLongTimeout, setUnchainedTimeout, type LongTimer } from '../shared/timers.js'
import type { JobRecord } from '../store/store.js'
import type { Limits } from './limits.js'

/** What the held batches need of the runner. */
export interface TaskBatchesHost {
  /** The worker module's tasks (their `batch` option). */
  manifest(): WorkerManifest | undefined
  /** The task limits: a held job counts (a batch is never more jobs than they let start). */
  readonly limits: Pick<Limits, 'count' | 'uncount'>
  /** A batch's wait is over: dispatch it. */
  due(): void
  /** Whether the job was in a batch whose worker died: it runs alone, so that a culprit is found. */
  suspect(id: string): boolean
}

/** One task's jobs held for its next batch, in dispatch order. */
interface Forming {
  jobs: Array<{ job: JobRecord; since: number }>
  /** The first job has waited its `wait`: the batch goes with what there is. */
  expired: boolean
  timer: LongTimer | undefined
}

/** Due jobs of batch tasks, held until their batch goes. */
export class TaskBatches {
  #host: TaskBatchesHost
  #forming = new Map<string, Forming>()
  #held = new Map<string, string>()

  constructor(host: TaskBatchesHost) {
    this.#host = host
  }

  /** Whether a job of task `name` runs in batches. */
  isBatchTask(name: string): boolean {
    return this.#host.manifest()?.tasks[name]?.batch !== undefined
  }

  /** Jobs held now. */
  get size(): number {
    return this.#held.size
  }

  /** Whether job `id` is held. */
  has(id: string): boolean {
    return this.#held.has(id)
  }

  /** Holds a due job of a batch task (taken from the index) for its task's next batch; its limits count it from now. */
  hold(job: JobRecord, now: number): void {
    this.#host.limits.count(job, now)
    let forming = this.#forming.get(job.name)
    if (!forming) this.#forming.set(job.name, (forming = { jobs: [], expired: false, timer: undefined }))
    forming.jobs.push({ job, since: now })
    this.#held.set(job.id, job.name)
    if (forming.jobs.length === 1) this.#arm(job.name, forming, now)
  }

  /** A task whose batch may go now (full, or its first job has waited long enough), if any. */
  ready(): string | undefined {
    for (const [task, forming] of this.#forming) {
      const size = this.#sizeOf(task)
      if (forming.expired || forming.jobs.length >= size || this.#host.suspect((forming.jobs[0] as { job: JobRecord }).job.id)) return task
    }
    return undefined
  }

  /**
   * Takes the next batch of `task`, at most `size` jobs in their order; a job that was in a
   * batch whose worker died goes alone. What stays waits on from its own time.
   */
  take(task: string, now: number): JobRecord[] {
    const forming = this.#forming.get(task)
    if (!forming) return []
    const size = this.#sizeOf(task)
    const head = forming.jobs[0]
    let taken: Array<{ job: JobRecord; since: number }>
    if (head && this.#host.suspect(head.job.id)) {
      taken = forming.jobs.splice(0, 1)
    } else {
      taken = []
      const rest: typeof forming.jobs = []
      for (const entry of forming.jobs) {
        if (taken.length < size && !this.#host.suspect(entry.job.id)) taken.push(entry)
        else rest.push(entry)
      }
      forming.jobs = rest
    }
    for (const { job } of taken) this.#held.delete(job.id)
    clearLongTimeout(forming.timer)
    forming.timer = undefined
    forming.expired = false
    if (forming.jobs.length === 0) this.#forming.delete(task)
    else this.#arm(task, forming, now)
    return taken.map(({ job }) => job)
  }

  /** Takes one held job out (it was cancelled, or ended elsewhere); its limits have room again. */
  remove(id: string): JobRecord | undefined {
    const task = this.#held.get(id)
    if (task === undefined) return undefined
    this.#held.delete(id)
    const forming = this.#forming.get(task)
    if (!forming) return undefined
    const at = forming.jobs.findIndex((entry) => entry.job.id === id)
    const [entry] = forming.jobs.splice(at, 1)
    if (forming.jobs.length === 0) {
      clearLongTimeout(forming.timer)
      this.#forming.delete(task)
    }
    if (entry) this.#host.limits.uncount(entry.job)
    return entry?.job
  }

  /** Lets every held job go (the runner stops: they are `waiting` in the store still). */
  clear(): void {
    for (const forming of this.#forming.values()) clearLongTimeout(forming.timer)
    this.#forming.clear()
    this.#held.clear()
  }

  #sizeOf(task: string): number {
    return this.#host.manifest()?.tasks[task]?.batch?.size ?? 1
  }

  /** Wakes the loop when the first held job of `task` has waited its `wait`. */
  #arm(task: string, forming: Forming, now: number): void {
    const wait = this.#host.manifest()?.tasks[task]?.batch?.wait ?? 0
    const first = forming.jobs[0]
    const left = first ? first.since + wait - now : 0
    if (left <= 0) {
      forming.expired = true
      return
    }
    forming.timer = setUnchainedTimeout(() => {
      forming.timer = undefined
      forming.expired = true
      this.#host.due()
    }, left)
  }
}
