/**
 * The queue's cross-tab plumbing over its {@link Channel}: what other tabs
 * say (changes, new jobs, the runner's tasks), and cancelling a job whichever
 * tab runs it; only the runner can abort a worker, so a follower asks it.
 */
import { nanoid } from 'nanoid'
import { Channel, type ChannelMessage } from './channel.js'
import type { JobChange } from './dispatcher.js'
import { WorkerError } from './errors.js'
import { toSnapshot } from './handle.js'
import { runnerExists } from './leader.js'
import type { WorkerManifest } from './pool/protocol.js'
import type { QueueContext } from './queue-context.js'
import { cancelled } from './transition.js'
import { isFinal } from './types.js'

/** How long `add` waits at most for the first worker to load, to check task names. */
const MANIFEST_WAIT = 1000

/** How long a follower waits for the runner tab to answer a request. */
const RUNNER_REPLY_TIMEOUT = 5000

/** What the cross-tab plumbing needs from its queue. */
export type TabsHost = Pick<
  QueueContext,
  'options' | 'store' | 'committer' | 'events' | 'dispatcher' | 'closed' | 'ready' | 'publish' | 'reloadSchedules'
>

/** One queue's link to its other tabs. */
export class Tabs {
  #host: TabsHost
  #channel: Channel
  /** The worker module's tasks as the runner tab reported them (for a follower's checks). */
  #remoteManifest: WorkerManifest | undefined
  #requests = new Map<string, (ok: boolean) => void>()

  constructor(host: TabsHost) {
    this.#host = host
    this.#channel = new Channel(
      host.options.name,
      (message) => this.#onChannel(message),
      () => {
        // A new tab: tell it the tasks, so it can check names at `add`.
        const manifest = host.dispatcher()?.pool.manifest
        if (manifest) this.#channel.post({ type: 'manifest', manifest })
      },
    )
  }

  /** Sends to every other tab of this queue. */
  post(message: ChannelMessage): void {
    this.#channel.post(message)
  }

  /** The worker module's tasks, when this tab can know them (its own pool, or the runner's word). */
  async manifest(): Promise<Record<string, { priority?: number }> | undefined> {
    const pool = this.#host.dispatcher()?.pool
    if (!pool) return this.#remoteManifest?.tasks
    // A worker module that is slow to load, broken or stuck must not hold `add` up:
    // without its word the job is stored, and a task it lacks fails when it runs.
    return (pool.manifest ?? (await pool.whenManifest(MANIFEST_WAIT)))?.tasks
  }

  /** Closes the channel; requests still waiting for the runner answer false. */
  close(): void {
    this.#channel.close()
    for (const resolve of this.#requests.values()) resolve(false)
  }

  /** Cancels job `id`: in this tab's dispatcher, through the runner tab, or in the store. */
  async cancel(id: string, reason: string | undefined): Promise<boolean> {
    const host = this.#host
    await host.ready()
    const mine = await host.dispatcher()?.cancel(id, reason)
    if (mine !== undefined) return mine
    const [job] = await host.store.get([id])
    if (!job || isFinal(job.status)) return false
    // Another tab runs it: only the runner can abort its worker. With no runner left, it is stale: write.
    if (job.status === 'running' && !host.dispatcher() && (await runnerExists(host.options.name))) {
      return this.#askRunner(id, reason)
    }
    const next = cancelled(job, reason, Date.now())
    const [result] = await host.committer.write([{ op: 'put', job: next, expect: [job.status] }])
    if (!result?.ok) {
      // It moved on meanwhile (started, or finished): look again.
      return result && !result.ok && result.reason === 'conflict' && result.job && !isFinal(result.job.status)
        ? this.cancel(id, reason)
        : false
    }
    host.publish({ event: 'cancelled', job: next, reason }, true)
    host.dispatcher()?.forget(next)
    return true
  }

  #askRunner(id: string, reason: string | undefined): Promise<boolean> {
    const request = nanoid()
    return new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#requests.delete(request)
        reject(new WorkerError(`Cannot cancel job ${id}: the tab that runs it did not answer within ${RUNNER_REPLY_TIMEOUT} ms`))
      }, RUNNER_REPLY_TIMEOUT)
      this.#requests.set(request, (ok) => {
        clearTimeout(timer)
        this.#requests.delete(request)
        resolve(ok)
      })
      this.#channel.post({ type: 'cancel', id, reason, request })
    })
  }

  /** What other tabs of this queue say. */
  #onChannel(message: ChannelMessage): void {
    const host = this.#host
    if (host.closed()) return
    const dispatcher = host.dispatcher()
    switch (message.type) {
      case 'change': {
        const change = message.change as JobChange
        host.publish(change, false)
        if (dispatcher) {
          if (change.event === 'requeued') dispatcher.enqueue(change.job)
          else if (change.event === 'cancelled') dispatcher.forget(change.job)
        }
        break
      }
      case 'added':
        for (const job of message.jobs) {
          if (dispatcher) dispatcher.enqueue(job)
          if (host.events.has('added')) host.events.emit('added', toSnapshot(job, undefined), undefined)
        }
        break
      case 'cancel':
        if (dispatcher) {
          void this.cancel(message.id, message.reason).then(
            (ok) => this.#channel.post({ type: 'cancel-reply', request: message.request, ok }),
            () => this.#channel.post({ type: 'cancel-reply', request: message.request, ok: false }),
          )
        }
        break
      case 'cancel-reply':
        this.#requests.get(message.request)?.(message.ok)
        break
      case 'manifest':
        this.#remoteManifest = message.manifest
        break
      case 'schedules':
        host.reloadSchedules()
        break
    }
  }
}
