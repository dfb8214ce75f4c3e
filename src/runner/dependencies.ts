/**
 * Dependencies, seen from the runner: which blocked jobs wait for which, and
 * what a blocked job becomes when the jobs it waits for end. All completed:
 * due (a join job completes with their results); one failed or cancelled: it
 * ends the same way, with that as its cause, and so do its own dependents.
 */
import type { Committer } from '../store/committer.js'
import { JobCancelledError, JobFailedError, deserializeError, serializeError } from '../shared/errors.js'
import type { JobRecord, Store, WriteOp } from '../store/store.js'
import type { JobChange } from './transition.js'
import { JOIN_TASK, isFinal } from '../shared/types.js'

/** What the dependency tracker needs from the dispatcher. */
export interface DependenciesHost {
  readonly store: Store
  readonly committer: Committer
  publish(change: JobChange): void
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
      const now = Date.now()
      const rev = job.rev + 1
      const missing = job.dependencies.find((_, i) => !deps[i])
      const failed = deps.find((d) => d?.status === 'failed')
      const cancelled = deps.find((d) => d?.status === 'cancelled')
      let next: JobRecord
      let change: JobChange
      const ops: WriteOp[] = []
      if (missing !== undefined || failed) {
        const message = missing !== undefined ? `Dependency ${missing} no longer exists` : `Dependency ${failed?.id} (${failed?.name}) failed`
        const error = serializeError(new JobFailedError(message, { cause: failed?.error && deserializeError(failed.error) }, failed?.id))
        next = { ...job, status: 'failed', finishedAt: now, error, rev }
        change = { event: 'failed', job: next, error }
      } else if (cancelled) {
        const error = serializeError(
          new JobCancelledError(`Dependency ${cancelled.id} (${cancelled.name}) was cancelled`, {
            cause: cancelled.error && deserializeError(cancelled.error),
          }),
        )
        next = { ...job, status: 'cancelled', finishedAt: now, error, rev }
        change = { event: 'cancelled', job: next, reason: error.message }
      } else if (deps.every((d) => d?.status === 'completed')) {
        if (job.name === JOIN_TASK) {
          const full = await Promise.all(job.dependencies.map((dep) => this.#host.store.getFull(dep)))
          const result = full.map((f) => f?.result)
          next = { ...job, status: 'completed', startedAt: now, finishedAt: now, rev }
          change = { event: 'completed', job: next, result }
          ops.push({ op: 'put', job: next, expect: ['blocked'], result })
        } else {
          next = { ...job, status: job.runAt > now ? 'delayed' : 'waiting', rev }
          change = { event: 'requeued', job: next }
        }
      } else {
        // Still waiting on some: make sure each is watched (one may have come from another tab).
        this.watch(job)
        return
      }
      if (ops.length === 0) ops.push({ op: 'put', job: next, expect: ['blocked'] })
      const [result] = await this.#host.committer.write(ops)
      if (!result?.ok) return
      this.#host.publish(change)
      if (isFinal(next.status)) this.ended(next)
      else this.#host.due(next)
    } catch (error) {
      // Closing: the next runner looks at blocked jobs again.
      if (!this.#host.closing()) this.#host.error(error instanceof Error ? error : new Error(String(error)))
    }
  }
}
