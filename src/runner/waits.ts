/**
 * Jobs the runner keeps out of dispatch for something that may take long, and why: a
 * release that defines their task (kept by the dispatcher for a release that does), the
 * network while the browser is offline, or the resume of their paused group (both parked
 * with the limits, limits.ts, which let them go when it comes). The reason is written once
 * on the job (`waitingFor`), so its snapshot says it in every tab and the inspector shows it.
 */
import { toError } from '../shared/timers.js'
import type { Writer } from '../store/committer.js'
import type { JobRecord } from '../store/store.js'
import type { Limits } from './limits.js'
import { LOST } from './lost.js'
import { awaitingGroup, awaitingNetwork, awaitingRelease, type ChangeSink } from './transition.js'

/** What the waits need of the runner. */
export interface WaitsHost {
  readonly committer: Writer
  readonly changes: ChangeSink
  readonly limits: Limits
  /** Waiting jobs whose task this runner's release does not define, by id (shared with the dispatcher). */
  readonly forRelease: Map<string, JobRecord>
  error(error: Error): void
  /** A job now waits for another release (the runner may hand the queue over). */
  awaitingRelease(): void
  /** `work`'s outcome, or {@link LOST} once the runner is abandoned. */
  held<T>(work: Promise<T>): Promise<T | typeof LOST>
  /** A parked job left (it moved elsewhere): the runner may be idle now. */
  checkIdle(): void
}

/** The runner's jobs that wait for a release, the network or their group, and the writes of why. */
export class Waits {
  #host: WaitsHost
  /** The tasks of the jobs in `forRelease` the host was told of (see {@link WaitsHost.awaitingRelease}). */
  #toldTasks = new Set<string>()

  constructor(host: WaitsHost) {
    this.#host = host
  }

  /** Keeps a job out of this runner's dispatch (no head-of-line blocking) for a release that defines its task. */
  release(job: JobRecord): void {
    const { forRelease } = this.#host
    forRelease.set(job.id, job)
    // Once per task that jobs wait for, not once per job (10,000 of them, say).
    if (!this.#toldTasks.has(job.name)) {
      this.#toldTasks.add(job.name)
      this.#host.awaitingRelease()
    }
    if (job.waitingFor === 'release' && job.status === 'waiting') return
    const next = awaitingRelease(job)
    forRelease.set(job.id, next)
    this.#writeWhy(next, () => {
      if (forRelease.get(job.id) === next) forRelease.delete(job.id)
    })
  }

  /**
   * Parks a job that waits for the network while the browser is offline, or for the resume of
   * its paused group, under limits group `group` (limits.ts lets it go when it comes).
   */
  park(job: JobRecord, why: 'network' | 'group', group: string): void {
    const { limits } = this.#host
    if (job.waitingFor === why && job.status === 'waiting') {
      limits.park(job, group)
      return
    }
    const next = why === 'network' ? awaitingNetwork(job) : awaitingGroup(job)
    limits.park(next, group)
    this.#writeWhy(next, () => {
      if (limits.unpark(next.id)) this.#host.checkIdle()
    })
  }

  /**
   * Writes why a job this runner holds waits (`waitingFor`), once, and tells every tab; a job
   * moved meanwhile (cancelled in another tab, taken by another runner) is `moved`: not this
   * runner's to hold. Not written: it still waits here, and the reason shows once a write lands.
   */
  #writeWhy(next: JobRecord, moved: () => void): void {
    const host = this.#host
    void host.held(host.committer.write([{ op: 'put', job: next, expect: ['waiting', 'delayed'] }])).then(
      (written) => {
        if (written === LOST) return
        if (written[0]?.ok) host.changes.publish({ event: 'requeued', job: next }, 'here')
        else moved()
      },
      (error: unknown) => host.error(toError(error)),
    )
  }
}
