/**
 * Jobs whose `running` state the store refused (a full origin): each goes back to the
 * runner's index after a pause, twice as long each time the store refuses it again (a
 * full origin stays full for a while, and every refusal is an error event), or at once
 * when a `running` write lands (the store has room again).
 */
import type { JobRecord } from '../store/store.js'
import { STORAGE_RETRY_MAX_MS, STORAGE_RETRY_MS } from './attempts.js'

/** A job's data as the runner holds it until its first run. */
type Payload = { data: unknown; transfer: Transferable[] }

/** The refused jobs of one runner. */
export class Refusals {
  /** By job id: how often in a row, and the retry its timer will make. */
  #refused = new Map<string, { tries: number; retry: () => void }>()
  #requeue: (job: JobRecord, payload: Payload | undefined) => void
  #closing: () => boolean

  /**
   * @param requeue - puts the job back in the index (with its data, when it can be reused)
   * @param closing - whether the runner is closing (then nothing goes back)
   */
  constructor(requeue: (job: JobRecord, payload: Payload | undefined) => void, closing: () => boolean) {
    this.#requeue = requeue
    this.#closing = closing
  }

  /** The store refused `job`'s `running` write: it goes back later. */
  later(job: JobRecord, payload: Payload | undefined): void {
    const tries = (this.#refused.get(job.id)?.tries ?? 0) + 1
    let timer: ReturnType<typeof setTimeout> | undefined
    const retry = (): void => {
      if (timer === undefined) return
      clearTimeout(timer)
      timer = undefined
      if (!this.#closing()) this.#requeue(job, payload)
    }
    timer = setTimeout(retry, Math.min(STORAGE_RETRY_MAX_MS, STORAGE_RETRY_MS * 2 ** (tries - 1)))
    this.#refused.set(job.id, { tries, retry })
  }

  /** The store took a `running` write: it has room again, and the jobs it refused before go now. */
  back(): void {
    if (this.#refused.size === 0) return
    const retries = [...this.#refused.values()].map((refused) => refused.retry)
    this.#refused.clear()
    for (const retry of retries) retry()
  }
}
