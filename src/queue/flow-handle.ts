/**
 * FlowHandle: a live view of a chain or group as a whole, over the handles of
 * its jobs. Its result is the terminal job's: a chain's last step, or a
 * group's join (the members' results in order).
 */
import type { JobHandle, WaitOptions } from './handle.js'
import type { JobSnapshot, JobStatus } from '../shared/types.js'

/** A handle on a chain or group, from `queue.chain` or `queue.group`. */
export interface FlowHandle<R = unknown> {
  /** The flow's id: give it again to `chain`/`group` (after a reload, say) to get this flow back. */
  readonly id: string
  /**
   * Live: the terminal job's status once it is final; before that `running`
   * while any step runs, else `waiting`, `delayed` or `blocked`.
   */
  readonly status: JobStatus
  /** The ids of the flow's steps, in the order they were given (nested flows flattened). */
  readonly jobs: readonly string[]
  /** The flow's result; rejects like a job's `result()` when a step failed or was cancelled. */
  result(options?: WaitOptions): Promise<R>
  /** The terminal job's final snapshot, whatever the outcome. */
  wait(options?: WaitOptions): Promise<JobSnapshot<R>>
  /** Cancels every unfinished step; false when none was left to cancel. */
  cancel(reason?: string): Promise<boolean>
  /** Whether the flow is final. */
  isDone(): boolean
}

/** The flow handle behind `chain` and `group`. */
export class Flow<R = unknown> implements FlowHandle<R> {
  readonly id: string
  readonly jobs: readonly string[]
  #terminal: JobHandle<R>
  #all: readonly JobHandle[]

  /**
   * @param steps - the ids of the flow's steps, in order
   * @param all - the handles of its jobs that exist (retention may have deleted finished ones)
   */
  constructor(id: string, terminal: JobHandle<R>, steps: readonly string[], all: readonly JobHandle[]) {
    this.id = id
    this.#terminal = terminal
    this.jobs = steps
    this.#all = all
  }

  get status(): JobStatus {
    const status = this.#terminal.status
    if (this.#terminal.isDone()) return status
    const statuses = this.#all.map((h) => h.status)
    for (const candidate of ['running', 'waiting', 'delayed'] as const) if (statuses.includes(candidate)) return candidate
    return status
  }

  isDone(): boolean {
    return this.#terminal.isDone()
  }

  result(options?: WaitOptions): Promise<R> {
    return this.#terminal.result(options)
  }

  wait(options?: WaitOptions): Promise<JobSnapshot<R>> {
    return this.#terminal.wait(options)
  }

  async cancel(reason?: string): Promise<boolean> {
    const results = await Promise.all(this.#all.filter((h) => !h.isDone()).map((h) => h.cancel(reason)))
    return results.some(Boolean)
  }
}
