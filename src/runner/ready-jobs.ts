/**
 * The ready jobs of the runner's index, fair between groups (`JobOptions.group`): a heap
 * per group (by priority, then insertion order), and the groups with jobs taken in turn,
 * round robin, the jobs of no group being one more group. So a group with 10,000 waiting
 * jobs does not hold up a group with one. While no job in it has a group, it is one heap,
 * as if groups did not exist.
 */
import { Heap } from './heap.js'
import type { JobRecord } from '../store/store.js'

/** Ready jobs by group, served round robin; by priority then insertion order within a group. */
export class ReadyJobs {
  #before: (a: JobRecord, b: JobRecord) => boolean
  /** The jobs of no group (and every job, while no job has a group). */
  #ungrouped: Heap<JobRecord>
  /** The heap of each group that has jobs here. */
  #grouped = new Map<string, Heap<JobRecord>>()
  /**
   * Whose turn is next, in order (`undefined`: the jobs of no group): kept only while some
   * group has jobs. A group whose job is taken goes to the back.
   */
  #turns = new Map<string | undefined, true>()
  /** The group whose heap {@link peek} found its job in. */
  #at: string | undefined

  /** @param before - the order within a group: whether `a` runs before `b` */
  constructor(before: (a: JobRecord, b: JobRecord) => boolean) {
    this.#before = before
    this.#ungrouped = new Heap(before)
  }

  /** Whether group `group` has jobs here (stale ones included). */
  has(group: string): boolean {
    return this.#grouped.has(group)
  }

  push(job: JobRecord): void {
    const group = job.options.group
    if (group === undefined) {
      this.#ungrouped.push(job)
      if (this.#grouped.size > 0) this.#turns.set(undefined, true)
      return
    }
    let heap = this.#grouped.get(group)
    if (!heap) {
      // The first group: the jobs of no group held already take the first turn.
      if (this.#grouped.size === 0 && this.#ungrouped.size > 0) this.#turns.set(undefined, true)
      heap = new Heap(this.#before)
      this.#grouped.set(group, heap)
      this.#turns.set(group, true)
    }
    heap.push(job)
  }

  /**
   * The next job, without taking it: the best job of the group whose turn it is.
   *
   * @param alive - whether a job is still ready (entries of jobs that left are dropped as they come up)
   */
  peek(alive: (job: JobRecord) => boolean): JobRecord | undefined {
    if (this.#grouped.size === 0) {
      this.#at = undefined
      return top(this.#ungrouped, alive)
    }
    for (const group of this.#turns.keys()) {
      const found = top(this.#heap(group), alive)
      if (found) {
        this.#at = group
        return found
      }
      // Nothing left in it: out of the turns until a job of it comes again.
      this.#turns.delete(group)
      if (group !== undefined) this.#grouped.delete(group)
      if (this.#grouped.size === 0) {
        this.#turns.clear()
        this.#at = undefined
        return top(this.#ungrouped, alive)
      }
    }
    return undefined
  }

  /** Takes the next job ({@link peek}'s); its group goes to the back of the turns. */
  take(alive: (job: JobRecord) => boolean): JobRecord | undefined {
    const job = this.peek(alive)
    if (!job) return undefined
    const group = this.#at
    const heap = this.#heap(group)
    heap.pop()
    if (this.#grouped.size === 0) return job
    this.#turns.delete(group)
    if (heap.size > 0) this.#turns.set(group, true)
    else if (group !== undefined) {
      this.#grouped.delete(group)
      if (this.#grouped.size === 0) this.#turns.clear()
    }
    return job
  }

  clear(): void {
    this.#ungrouped.clear()
    this.#grouped.clear()
    this.#turns.clear()
  }

  #heap(group: string | undefined): Heap<JobRecord> {
    return group === undefined ? this.#ungrouped : (this.#grouped.get(group) as Heap<JobRecord>)
  }
}

/** The best job of `heap` still ready; stale entries above it are dropped. */
function top(heap: Heap<JobRecord>, alive: (job: JobRecord) => boolean): JobRecord | undefined {
  for (let job = heap.peek(); job; job = heap.peek()) {
    if (alive(job)) return job
    heap.pop()
  }
  return undefined
}
