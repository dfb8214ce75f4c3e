/**
 * The queue's cross-tab plumbing over its {@link Channel}: what other tabs
 * say (changes, new jobs, releases), and cancelling a job whichever tab runs
 * it; only the runner can abort a worker, so a follower asks it.
 */
import { nanoid } from 'nanoid'
import type { Channel, ChannelMessage } from '../tabs/channel.js'
import type { JobChange } from '../runner/transition.js'
import { WorkerError } from '../shared/errors.js'
import { runnerExists } from '../tabs/leadership.js'
import type { Emitter } from '../shared/events.js'
import type { QueueEvents } from '../shared/types.js'
import type { Committer } from '../store/committer.js'
import type { Store } from '../store/store.js'
import type { Changes } from './changes.js'
import type { LiveHandles } from './live-handles.js'
import type { ResolvedQueueOptions } from './options.js'
import type { QueueState } from './state.js'
import type { Releases } from './releases.js'
import { cancelled } from '../runner/transition.js'
import { LOST } from '../runner/lost.js'
import { isFinal } from '../shared/types.js'
import { toError } from '../shared/timers.js'
import type { JobRecord } from '../store/store.js'

/** How long a follower waits for the runner tab to answer a request. */
const RUNNER_REPLY_TIMEOUT = 5000

/** What the cross-tab plumbing needs from its queue. */
export interface TabsHost {
  readonly options: ResolvedQueueOptions
  readonly store: Store
  readonly committer: Committer
  readonly state: QueueState
  readonly changes: Changes
  readonly handles: LiveHandles
  readonly events: Emitter<QueueEvents>
  /** The runner-side scheduler reads the schedules again (when this tab is the runner). */
  readonly schedules: { reload(): void }
  /** The app's releases: a tab announced one, or asks for the queue. */
  readonly releases: Releases
  /** A runner gave these running jobs up as its page was frozen or hidden. */
  givenUp(ids: string[]): void
}

/** One queue's link to its other tabs. */
export class Tabs {
  #host: TabsHost
  #channel: Channel
  #requests = new Map<string, (ok: boolean) => void>()
  #inbox: Promise<void> = Promise.resolve()

  constructor(host: TabsHost, channel: Channel) {
    this.#host = host
    this.#channel = channel
    channel.listen(
      (messages) => {
        // In order, one batch after the other: each is checked against the store first.
        this.#inbox = this.#inbox
          .then(() => this.#onChannel(messages))
          .catch((error: unknown) => {
            if (!host.state.closed) host.state.report(toError(error))
          })
      },
      () => {
        // A new tab: it reads the releases (the runner's among them) from the store.
        if (host.state.runner) this.#channel.post({ type: 'release' })
      },
    )
  }

  /** Sends to every other tab of this queue. */
  post(message: ChannelMessage): void {
    this.#channel.post(message)
  }

  /** Closes the channel; requests still waiting for the runner answer false. */
  close(): void {
    this.#channel.close()
    for (const resolve of this.#requests.values()) resolve(false)
  }

  /** Cancels job `id`: in this tab's dispatcher, through the runner tab, or in the store. */
  async cancel(id: string, reason: string | undefined): Promise<boolean> {
    const host = this.#host
    await host.state.ready()
    const mine = await host.state.runner?.cancel(id, reason)
    // This tab lost the runner's place meanwhile (and is a follower now, see queue.ts #lost): ask again as one.
    if (mine === LOST) return this.cancel(id, reason)
    if (mine !== undefined) return mine
    const [job] = await host.store.get([id])
    if (!job || isFinal(job.status)) return false
    // Another tab runs it: only the runner can abort its worker. With no runner left, it is stale: write.
    // (A store shared between processes has no channel to them: the runner process sees the cancel in the store.)
    if (job.status === 'running' && !host.state.runner && !host.store.version && (await runnerExists(host.options.name))) {
      // This tab may have become the runner meanwhile (it took the place back): then it cancels here.
      return host.state.runner ? this.cancel(id, reason) : this.#askRunner(id, reason)
    }
    const next = cancelled(job, reason, Date.now())
    const [result] = await host.committer.write([{ op: 'put', job: next, expect: [job.status] }])
    if (!result?.ok) {
      // It moved on meanwhile (started, or finished): look again.
      return result && !result.ok && result.reason === 'conflict' && result.job && !isFinal(result.job.status) ? this.cancel(id, reason) : false
    }
    host.changes.publish({ event: 'cancelled', job: next, reason }, 'here')
    host.state.runner?.forget(next)
    return true
  }

  #askRunner(id: string, reason: string | undefined): Promise<boolean> {
    const request = nanoid()
    return new Promise<boolean>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer)
        offRole()
        this.#requests.delete(request)
      }
      const timer = setTimeout(() => {
        done()
        reject(new WorkerError(`Cannot cancel job ${id}: the tab that runs it did not answer within ${RUNNER_REPLY_TIMEOUT} ms`))
      }, RUNNER_REPLY_TIMEOUT)
      // The runner may be this tab (it took the place a moment ago, or back after losing it):
      // a tab hears no message of its own, so its runner answers here.
      const offRole = this.#host.events.on('role', (role) => {
        if (role !== 'runner') return
        done()
        this.cancel(id, reason).then(resolve, reject)
      })
      this.#requests.set(request, (ok) => {
        done()
        resolve(ok)
      })
      this.#channel.post({ type: 'cancel', id, reason, request })
    })
  }

  /**
   * What other tabs of this queue say. A message is a claim: a change is shown
   * only as far as the store confirms it (a final state only once stored, a
   * result only as stored), and the runner runs only jobs it read from the store.
   */
  async #onChannel(messages: ChannelMessage[]): Promise<void> {
    const host = this.#host
    if (host.state.closed) return
    const ids = new Set<string>()
    for (const message of messages) {
      if (message?.type === 'change' && typeof message.change?.job?.id === 'string') ids.add(message.change.job.id)
      if (message?.type === 'added' && Array.isArray(message.jobs)) {
        for (const job of message.jobs) if (typeof job?.id === 'string') ids.add(job.id)
      }
    }
    const stored = new Map<string, JobRecord>()
    if (ids.size > 0) {
      await host.state.ready()
      const list = [...ids]
      for (const [i, job] of (await host.store.get(list)).entries()) if (job) stored.set(list[i] as string, job)
    }
    let looked = false
    for (const message of messages) {
      if (host.state.closed) return
      // "Look at the releases again" once per batch, however many tabs said it.
      if (message?.type === 'release') {
        if (looked) continue
        looked = true
      }
      await this.#onMessage(message, stored)
    }
  }

  async #onMessage(message: ChannelMessage, stored: Map<string, JobRecord>): Promise<void> {
    const host = this.#host
    const dispatcher = host.state.runner
    switch (message?.type) {
      case 'change': {
        const change = confirmed(message.change as JobChange, stored.get(message.change?.job?.id))
        if (!change) return
        if (change.event === 'completed') {
          // The result as stored, never as told; read only where someone looks at it.
          change.result =
            host.handles.get(change.job.id) !== undefined || host.events.has('completed')
              ? (await host.store.getFull(change.job.id))?.result
              : undefined
        }
        host.changes.publish(change, 'elsewhere')
        const job = stored.get(change.job.id) as JobRecord
        if (dispatcher) {
          if (change.event === 'requeued' && (job.status === 'waiting' || job.status === 'delayed' || job.status === 'blocked')) {
            dispatcher.enqueue(job)
          } else if (change.event === 'cancelled') dispatcher.forget(job)
        }
        break
      }
      case 'added': {
        const jobs: Array<{ job: JobRecord }> = []
        for (const claimed of Array.isArray(message.jobs) ? message.jobs : []) {
          const job = stored.get(claimed?.id)
          if (!job) continue
          if (dispatcher && (job.status === 'waiting' || job.status === 'delayed' || job.status === 'blocked')) dispatcher.enqueue(job)
          jobs.push({ job })
        }
        host.changes.added(jobs, 'elsewhere')
        break
      }
      case 'cancel':
        if (dispatcher && typeof message.id === 'string') {
          void this.cancel(message.id, typeof message.reason === 'string' ? message.reason : undefined).then(
            (ok) => this.#channel.post({ type: 'cancel-reply', request: message.request, ok }),
            () => this.#channel.post({ type: 'cancel-reply', request: message.request, ok: false }),
          )
        }
        break
      case 'cancel-reply':
        this.#requests.get(message.request)?.(message.ok === true)
        break
      case 'release':
        await host.releases.nudged()
        break
      case 'handover':
        if (dispatcher) await host.releases.asked(message.tab, message.key, dispatcher.neededTasks)
        break
      case 'schedules':
        host.schedules.reload()
        break
      case 'groups':
        // Read from the store, whoever says so: a message is a claim, the store the fact.
        if (dispatcher) await dispatcher.groupsChanged()
        break
      case 'given-up':
        if (Array.isArray(message.ids)) host.givenUp(message.ids.filter((id): id is string => typeof id === 'string'))
        break
      case 'removed': {
        if (!Array.isArray(message.ids)) return
        const ids = message.ids.filter((id): id is string => typeof id === 'string')
        // Only what the store no longer has.
        const jobs = await host.store.get(ids)
        host.changes.removed(
          ids.filter((_, i) => !jobs[i]),
          'elsewhere',
        )
        break
      }
    }
  }
}

/**
 * A change another tab reports, as far as the store confirms it: nothing for
 * a job the store does not have, or a newer revision than it holds; a final
 * state only if it is the stored one (with the stored record).
 */
function confirmed(change: JobChange, stored: JobRecord | undefined): JobChange | undefined {
  if (!stored || typeof change?.job?.rev !== 'number' || stored.rev < change.job.rev) return undefined
  switch (change.event) {
    case 'completed':
    case 'failed':
    case 'cancelled':
      if (stored.status !== change.event) return undefined
      return { ...change, job: stored }
    case 'started':
    case 'progress':
    case 'log':
    case 'retrying':
    case 'requeued':
      // A past revision is history (handles ignore it); the current one must match the store.
      if (stored.rev > change.job.rev) return change
      if (stored.status !== change.job.status) return undefined
      return { ...change, job: change.event === 'progress' ? { ...stored, progress: change.job.progress } : stored }
    default:
      return undefined
  }
}
