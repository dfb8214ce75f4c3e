/**
 * The last step of dispatch: a batch whose `running` state is committed goes to its
 * worker as run requests, with the data this tab does not hold read from the store
 * (a job added elsewhere, a chain step's input: the result before it) and the durable
 * steps of a job that ran before. A job stopped meanwhile (cancelled, timed out, the
 * runner closing) is settled instead of sent.
 */
import type { PoolWorker } from '../pool/pool.js'
import { serializeError } from '../shared/errors.js'
import type { RunRequest } from '../shared/protocol.js'
import { toError } from '../shared/timers.js'
import type { JobRecord, Store } from '../store/store.js'
import type { Attempts } from './attempts.js'
import type { Limits } from './limits.js'

/** A job's data as the runner holds it until its first run. */
export type Payload = { data: unknown; transfer: Transferable[] }

/** What sending needs of the dispatch loop (dispatch-loop.ts). */
export interface SenderHost {
  readonly store: Store
  readonly attempts: Attempts
  readonly limits: Limits
  error(error: Error): void
  /** A worker none of whose reserved jobs was sent goes back to the pool. */
  releaseIfIdle(worker: PoolWorker): void
}

/** Sends a runner's committed batches. */
export class Sender {
  #host: SenderHost

  constructor(host: SenderHost) {
    this.#host = host
  }

  /**
   * Sends committed jobs to their worker, with their data (read from the store where this tab
   * does not hold it); with `batch`, as one batch of a batch task (one call of its handler).
   */
  send(worker: PoolWorker, entries: ReadonlyArray<{ job: JobRecord; payload: Payload | undefined }>, batch = false): void {
    const missing = entries.filter((e) => !e.payload && e.job.inputFrom === undefined).map((e) => e.job.id)
    const fromResults = entries.filter((e) => e.job.inputFrom !== undefined)
    // A job that ran before (a retry, an interrupted run, a requeue) may have durable steps stored.
    const store = this.#host.store
    const again = store.steps ? entries.filter((e) => !e.payload || e.job.attempt > 1 || e.job.interruptions > 0 || e.job.slept) : []
    const steps = new Map<string, Record<string, unknown>>()
    const go = (data: Map<string, unknown>): void => {
      const requests: RunRequest[] = []
      const transfer: Transferable[] = []
      for (const { job, payload } of entries) {
        const running = this.#host.attempts.get(job.id)
        if (!running || running.settled) continue
        if (!payload || job.inputFrom !== undefined) running.data = data.get(job.id)
        if (running.stop) {
          // Cancelled (or timed out, or closing) before it was sent: it never runs.
          running.worker?.jobs.delete(job.id)
          running.worker = undefined
          this.#host.attempts.settle(running, { type: 'failed', error: serializeError(running.stop.error), aborted: true })
          continue
        }
        running.sent = true
        running.batch.remaining++
        this.#host.limits.started(running.job, running.lastSeen, Date.now())
        const request: RunRequest = {
          id: job.id,
          name: job.name,
          queue: job.queue,
          attempt: job.attempt,
          createdAt: job.createdAt,
          data: running.data,
        }
        if (job.version !== undefined) request.version = job.version
        const stored = steps.get(job.id)
        if (stored && Object.keys(stored).length > 0) request.steps = stored
        requests.push(request)
        if (payload) transfer.push(...payload.transfer)
        this.#host.attempts.arm(running)
      }
      if (requests.length === 0) {
        this.#host.releaseIfIdle(worker)
        return
      }
      worker.run(requests, transfer, batch)
    }
    if (missing.length === 0 && fromResults.length === 0 && again.length === 0) {
      go(new Map())
      return
    }
    // A chain step's input is the result of the step before it.
    const results = Promise.all(fromResults.map((e) => store.getFull(e.job.inputFrom as string, { data: false })))
    const stepsRead = Promise.all(again.map((e) => (store.steps as (id: string) => Promise<Record<string, unknown>>).call(store, e.job.id)))
    Promise.all([store.getData(missing), results, stepsRead]).then(
      ([values, previous, stored]) => {
        const data = new Map<string, unknown>(missing.map((id, i) => [id, values[i]]))
        fromResults.forEach((e, i) => data.set(e.job.id, previous[i]?.result))
        again.forEach((e, i) => steps.set(e.job.id, stored[i] ?? {}))
        go(data)
      },
      (error: unknown) => {
        this.#host.error(toError(error))
        this.#host.attempts.orphan(
          worker,
          entries.map((e) => e.job.id),
          undefined,
        )
      },
    )
  }
}
