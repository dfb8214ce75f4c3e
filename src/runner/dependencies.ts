/**
 * Dependencies, seen from the runner: which blocked jobs wait for which, and
 * what a blocked job becomes when the jobs it waits for end. All completed:
 * due (a join job completes with their results); one failed or cancelled: it
 * ends the same way, with that as its cause, and so do its own dependents.
 */
import type { Writer } from '../store/committer.js'
import type { JobRecord, Store, WriteOp } from '../store/store.js'
import { unblocked, type ChangeSink } from './transition.js'
import { isFinal } from '../shared/types.js'
import { toError } from '../shared/timers.js'

/** What the dependency tracker needs from the dispatcher. */
export interface DependenciesHost {
  readonly store: Store
  readonly committer: Writer
  /** Where committed changes go (the queue's change path). */
  readonly changes: ChangeSink
  /** A blocked job became due. */
  due(job: JobRecord): void
  closing(): boolean
  error(error: Error): void
}

/** Blocked jobs by the ids of the jobs they wait for. */
export class Dependencies {
  #host: DependenciesHost
  /** Only ids: the records are read when it matters. */
  #blockedOn = new Map<string, Set<string>>()

  constructor(host: DependenciesHost) {
    this.#host = host
  }

  /** Notes what a blocked job waits for. */
  watch(job: JobRecord): void {
    for (const dep of job.dependencies) {
      let set = this.#blockedOn.get(dep)
      if (!set) this.#blockedOn.set(dep, (set = new Set()))
      set.add(job.id)
    }
  }

  /** A blocked job the runner had not seen: watch first, then look, so a dependency ending in between is seen either way. */
  add(job: JobRecord): void {
    this.watch(job)
    void this.evaluate(job.id)
  }

  /** A job is final: the jobs blocked on it may move on. */
  ended(job: JobRecord): void {
    const waiting = this.#blockedOn.get(job.id)
    if (!waiting) return
    this.#blockedOn.delete(job.id)
    for (const id of waiting) void this.evaluate(id)
  }

  /** A runner that stopped between a dependency ending and its dependents moving on left them blocked: look again. */
  async recheck(): Promise<void> {
    const blocked: JobRecord[] = []
    await this.#host.store.scan(['blocked'], (job) => blocked.push(job))
    for (const job of blocked) this.watch(job)
    await Promise.all(blocked.map((job) => this.evaluate(job.id)))
  }

  /** Looks at a blocked job's dependencies and moves it on when they allow. */
  async evaluate(id: string): Promise<void> {
    try {
      const [job] = await this.#host.store.get([id])
      if (!job || job.status !== 'blocked' || this.#host.closing()) return
      const deps = await this.#host.store.get(job.dependencies)
      const moved = unblocked(job, deps, Date.now())
      if (!moved) {
        // Still waiting on some: make sure each is watched (one may have come from another tab).
        this.watch(job)
        return
      }
      const { next, change } = moved
      let op: WriteOp = { op: 'put', job: next, expect: ['blocked'] }
      if (change.event === 'completed') {
        // A join job: its result is its members' results, in order.
        const full = await Promise.all(job.dependencies.map((dep) => this.#host.store.getFull(dep)))
        change.result = full.map((f) => f?.result)
        op = { ...op, result: change.result }
      }
      const [result] = await this.#host.committer.write([op])
      if (!result?.ok) return
      this.#host.changes.publish(change, 'here')
      if (isFinal(next.status)) this.ended(next)
      else this.#host.due(next)
    } catch (error) {
      // Closing: the next runner looks at blocked jobs again.
      if (!this.#host.closing()) this.#host.error(toError(error))
    }
  }
}
