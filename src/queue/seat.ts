/**
 * The runner's seat of one queue in this tab: opening the store, the election (Web
 * Locks, or a store's lease), becoming the runner and giving the place up (to a newer
 * release, on a page freeze, when another took it), and the poll of a store shared
 * between processes. The queue (queue.ts) is the facade; this is the life of its runner.
 */
import type { Dispatcher } from '../runner/dispatcher.js'
import { loadRunnerCode, type RunnerCode } from './runner-code.js'
import type { Retention } from '../runner/retention.js'
import type { Schedules } from './schedules.js'
import { FencedWriter, type Committer } from '../store/committer.js'
import type { Store } from '../store/store.js'
import { StorageBlockedError, WorkerError } from '../shared/errors.js'
import type { Emitter } from '../shared/events.js'
import { whenFreezing, whenRunning } from '../shared/lifecycle.js'
import { setUnrefTimeout } from '../shared/timers.js'
import type { QueueEvents } from '../shared/types.js'
import { Leadership, type RunnerElection } from '../tabs/leadership.js'
import type { Channel } from '../tabs/channel.js'
import type { Changes } from './changes.js'
import type { LiveHandles } from './live-handles.js'
import type { ResolvedQueueOptions } from './options.js'
import type { Releases } from './releases.js'
import type { QueueState } from './state.js'

/** What the seat needs of its queue. */
export interface SeatHost {
  readonly options: ResolvedQueueOptions
  readonly store: Store
  readonly committer: Committer
  readonly state: QueueState
  readonly events: Emitter<QueueEvents>
  readonly channel: Channel
  readonly changes: Changes
  readonly handles: LiveHandles
  readonly releases: Releases
  readonly schedules: Schedules
  readonly retention: Retention
}

/** How often a queue on a store shared between processes looks for their writes (ms). */
const STORE_POLL_MS = 200
/** The longest runner lease (`runnerTimeout: Infinity` with a lease store): about 24.8 days. */
const MAX_LEASE = 2 ** 31 - 1
/** A tab that let the runner lock go for a newer release keeps it if it comes back within this (ms). */
const PASS_AGAIN_AFTER = 2000
/** How long (ms) a runner's word that it gave jobs up (frozen, hidden) is kept for the next runner. */
const GIVEN_UP_FOR = 60_000
/** Ids of one such word kept at most (any script of the origin can post on the channel). */
const MAX_GIVEN_UP = 10_000

/** How long (ms) a tab whose runner code did not load leaves the place to others before it tries again. */
const RUNNER_RETRY_MS = 5000

/** Asks the browser, once per page, to keep this origin's storage (`persist: true`). */
let persistence: Promise<boolean> | undefined
function requestPersistence(): Promise<boolean> {
  const manager = typeof navigator !== 'undefined' ? navigator.storage : undefined
  persistence ??= manager?.persist ? manager.persist().catch(() => false) : Promise.resolve(false)
  return persistence
}

/** The runner's seat of one queue in this tab. */
export class Seat {
  #host: SeatHost
  #leadership: RunnerElection | undefined
  /** The runner's fenced writer, while this tab runs the queue on a store that fences. */
  #fence: FencedWriter | undefined
  /** When this tab last let the runner lock go at once for a newer release in line (see #run). */
  #passedAt = -Infinity

  constructor(host: SeatHost) {
    this.#host = host
  }

  /** Opens the store and takes this tab's place in line (or the runner's, when free). */
  async open(): Promise<void> {
    if (this.#host.options.persist) void requestPersistence()
    this.#offFreeze = whenFreezing(() => this.#freeze())
    this.#offBlocked = this.#host.store.blocked?.((blocked) => {
      this.#storageBlocked = blocked
      this.#host.state.report(new StorageBlockedError(undefined, { blocked }))
    })
    await this.#host.store.open(this.#host.options.name)
    this.#host.releases.open()
    this.#leadership = await this.#election()
    if (this.#leadership) this.#leadership.onLost = () => this.#lost()
    await this.#elect()
    this.#watchStore()
  }

  /**
   * How this queue elects its runner (only a queue with a `worker` runs): a store shared
   * between processes (sqliteStore) by its lease, tabs by Web Locks. A frozen runner is
   * replaced only where the store fences its writes. (StoreLease is imported here: a
   * page's bundle never carries it.)
   */
  async #election(): Promise<RunnerElection | undefined> {
    if (!this.#host.options.worker) return undefined
    const timeout = this.#host.store.fencing ? this.#host.options.runnerTimeout : Infinity
    if (!this.#host.store.lease) return new Leadership(this.#host.options.name, timeout)
    const { StoreLease } = await import('../tabs/store-lease.js')
    return new StoreLease(this.#host.store, { ttl: Math.min(timeout, MAX_LEASE) })
  }

  /**
   * A store shared between processes: no BroadcastChannel reaches the others, so this
   * queue looks at the store's version every {@link STORE_POLL_MS} and, when another
   * process wrote, reads again what it may have changed: the runner takes in new jobs
   * and stops cancelled ones; live handles catch up.
   */
  #watchStore(): void {
    const store = this.#host.store
    if (!store.version) return
    let last: number | undefined
    const tick = async (): Promise<void> => {
      if (this.#host.state.closed) return
      try {
        const version = await (store.version as () => Promise<number>)()
        if (last !== undefined && version !== last) {
          await this.#host.state.runner?.refresh()
          await this.#host.handles.refreshAll()
        }
        last = version
      } catch (error) {
        if (!this.#host.state.closed) this.#host.state.report(error as Error)
      }
      if (!this.#host.state.closed) setUnrefTimeout(() => void tick(), STORE_POLL_MS)
    }
    void tick()
  }

  /** Free runner place: run now (before the queue reports ready). Else wait in line and take over later. */
  async #elect(): Promise<void> {
    const leadership = this.#leadership
    if (!leadership) return
    const now = await leadership.acquire(() => {
      this.#becomeRunner().catch((error: unknown) => this.#host.state.report(error as Error))
    })
    if (now) await this.#becomeRunner()
  }

  #becoming: Promise<void> | undefined

  /** This tab holds the runner lock: load the unfinished jobs and start the pool. */
  #becomeRunner(): Promise<void> {
    // Trouble while closing is no trouble: the next runner loads again.
    this.#becoming ??= this.#run().catch((error: unknown) => {
      if (!this.#host.state.closed) throw error
    })
    return this.#becoming
  }

  async #run(): Promise<void> {
    const factory = this.#host.options.worker
    if (this.#host.state.closed || !factory || this.#host.state.runner) return
    let runnerCode: RunnerCode
    try {
      runnerCode = await loadRunnerCode()
    } catch (error) {
      this.#cannotRun(error)
      return
    }
    if (this.#host.state.closed || this.#host.state.runner) return
    if (await this.#passOn()) return
    let committer: Committer | FencedWriter = this.#host.committer
    if (this.#host.store.fencing && this.#leadership?.token) {
      // This runner's token: from now on, the writes of any runner before it are refused.
      const token = this.#leadership.token
      const fence = new FencedWriter(this.#host.committer, token, () => this.#lost())
      this.#fence = fence
      await this.#host.committer.write([{ op: 'claim', token }])
      if (fence.lost || !this.#leadership.held || this.#host.state.closed) return
      committer = fence
    }
    const releases = this.#host.releases
    const pool = await releases.takePool()
    if (this.#host.state.closed || this.#host.state.runner) {
      pool.close()
      return
    }
    const dispatcher: Dispatcher = new runnerCode.Dispatcher(
      {
        options: this.#host.options,
        store: this.#host.store,
        committer,
        changes: this.#host.changes,
        error: (error) => this.#host.state.report(error),
        idle: () => this.#host.events.emit('idle'),
        unknownTask: (job) => releases.verdict(job, dispatcher.pool.manifest),
        // A newer tab in line asks for the queue when it sees the jobs waiting for it.
        awaitingRelease: () => this.#host.channel.post({ type: 'release' }),
        givenUp: (id) => this.#givenUp.delete(id),
      },
      pool,
    )
    this.#host.state.runner = dispatcher
    // The runner's own news is best-effort: followers read the store anyway.
    this.#host.channel.mustDeliver = false
    this.#host.changes.retention = this.#host.retention
    this.#host.events.emit('role', 'runner')
    await dispatcher.load()
    // The releases the store knows, before any job is judged by them (a task this release lacks).
    await releases.refresh().catch((error: unknown) => this.#host.state.report(error as Error))
    if (this.#host.state.started && !this.#host.state.closed) dispatcher.start()
    releases.claimed(committer).catch((error: unknown) => {
      if (this.#host.state.runner === dispatcher) this.#host.state.report(error as Error)
    })
    this.#host.retention.schedule()
    this.#host.schedules.start(this.#fence)
  }

  /**
   * The runner's code did not load (the network is down, or a deploy took the chunk off the
   * server): this tab cannot run the queue. It says so on the `error` event, lets the place
   * go to the next tab in line, and tries again in a moment.
   */
  #cannotRun(cause: unknown): void {
    if (this.#host.state.closed) return
    const name = this.#host.options.name
    this.#host.state.report(
      new WorkerError(
        `queue "${name}": this tab cannot run its jobs: offthread's runner code did not load (${String((cause as Error | undefined)?.message ?? cause)}); another tab may run them, and this one tries again in ${RUNNER_RETRY_MS / 1000} s`,
        { cause },
      ),
    )
    this.#becoming = undefined
    this.#leadership?.release()
    setUnrefTimeout(() => {
      if (!this.#host.state.closed) this.#elect().catch((error: unknown) => this.#host.state.report(error as Error))
    }, RUNNER_RETRY_MS)
  }

  /**
   * This tab just got the runner lock while a tab of a newer release waits in line: let
   * it go at once (to the back of the line), so that the older release never takes the
   * queue back from the newer one. Not after a steal (the tab it came from did not
   * answer, and may be that newer one, frozen), nor twice within a moment.
   */
  async #passOn(): Promise<boolean> {
    const leadership = this.#leadership
    if (!leadership?.held || leadership.stolen || performance.now() - this.#passedAt < PASS_AGAIN_AFTER) return false
    if (!(await this.#host.releases.newerInLine()) || this.#host.state.closed || !leadership.held) return false
    this.#passedAt = performance.now()
    this.#becoming = undefined
    leadership.release()
    setTimeout(() => void this.#elect().catch((error: unknown) => this.#host.state.report(error as Error)), 0)
    return true
  }

  /**
   * A tab of a newer release asked for the queue (see releases.ts): start nothing new,
   * give the running jobs `abortGrace` to finish (then stop them: they run again in the
   * new runner, their durable steps kept), give the place up, and wait in line again.
   * The new runner's claim fences anything this one might still write.
   */
  async handOver(reason: string): Promise<void> {
    const runner = this.#host.state.runner
    if (!runner || this.#handingOver || this.#host.state.closed) return
    this.#handingOver = true
    try {
      this.#host.schedules.stop()
      await runner.close(this.#host.options.abortGrace, reason)
      await this.#host.committer.settled()
      if (this.#host.state.runner !== runner || this.#host.state.closed) return
      this.#fence?.lose()
      this.#fence = undefined
      this.#host.state.runner = undefined
      this.#becoming = undefined
      this.#host.channel.mustDeliver = true
      this.#host.events.emit('role', 'follower')
      this.#leadership?.release()
      await this.#elect()
    } finally {
      this.#handingOver = false
    }
  }

  #handingOver = false
  /** Running jobs that a runner frozen or hidden gave up lately (see `#freeze`), and when it said so. */
  #givenUp = new Map<string, number>()
  #offFreeze: (() => void) | undefined

  /** A runner frozen or hidden gave these running jobs up (see `#freeze`). */
  givenUp(ids: string[]): void {
    const now = Date.now()
    for (const [id, at] of this.#givenUp) if (now - at > GIVEN_UP_FOR) this.#givenUp.delete(id)
    for (const id of ids.slice(0, MAX_GIVEN_UP)) this.#givenUp.set(id, now)
  }
  #offBlocked: (() => void) | undefined
  #storageBlocked = false

  /**
   * Whether this tab's calls are waiting on a database another tab holds (a frozen or
   * stopped page): set and cleared with the `StorageBlockedError`s of the `error` event.
   */
  get storageBlocked(): boolean {
    return this.#storageBlocked
  }

  /**
   * The page is about to be frozen or put in the back/forward cache (it runs no code from
   * now on, maybe never again): a runner gives its place up at once, so that another tab
   * takes over in a moment instead of `runnerTimeout`; a tab in line leaves it. Once the
   * page runs again, it waits in line as a follower. (The store aborts the transactions
   * it holds: see idbStore.) Its running jobs run again there; the page says which, so
   * that no interruption is counted against them: they did not take the page down.
   * (What it says is best-effort: a runner that never hears it counts them, as after a reload.)
   */
  #freeze(): void {
    const leadership = this.#leadership
    if (!leadership || this.#host.state.closed) return
    const runner = this.#host.state.runner
    if (runner) {
      this.#fence?.lose()
      this.#fence = undefined
      this.#becoming = undefined
      const ids = runner.abandon()
      if (ids.length > 0) {
        // Sent before the place is given up (this turn's messages go out with its microtasks);
        // kept here too, for when this tab is the next runner.
        this.#host.channel.post({ type: 'given-up', ids }, false)
        this.givenUp(ids)
      }
      this.#host.schedules.stop()
      this.#host.state.runner = undefined
      this.#host.channel.mustDeliver = true
      this.#host.events.emit('role', 'follower')
    }
    leadership.release()
    void whenRunning().then(() => {
      if (!this.#host.state.closed) this.#elect().catch((error: unknown) => this.#host.state.report(error as Error))
    })
  }

  /**
   * Another tab (or process) took the runner place while this one could not answer
   * (frozen, suspended, blocked): stop at once, terminate the workers, write nothing
   * more, and wait in line again. The new runner counts this tab's running jobs as
   * interrupted and runs them; the store's fence refuses anything this tab still sends.
   */
  #lost(): void {
    this.#fence?.lose()
    this.#fence = undefined
    const runner = this.#host.state.runner
    this.#becoming = undefined
    if (!runner) return
    runner.abandon()
    this.#host.schedules.stop()
    this.#host.state.runner = undefined
    this.#host.channel.mustDeliver = true
    console.warn(
      `[offthread] queue "${this.#host.options.name}": another tab took the runner's place (this one was frozen or blocked); its jobs run there`,
    )
    this.#host.events.emit('role', 'follower')
    const election = this.#leadership
    if (election?.held && !this.#host.state.closed) {
      // The store refused this runner while it still held its place: another claimed it. Give it up, wait in line.
      election.release()
      this.#elect().catch((error: unknown) => this.#host.state.report(error as Error))
    }
  }

  /** Settles once a start as runner under way has (the queue is closing). */
  async settled(): Promise<void> {
    await this.#becoming?.catch(() => undefined)
  }

  /** The queue closed: the place goes to the next in line, and the page's listeners go. */
  close(): void {
    this.#leadership?.release()
    this.#offFreeze?.()
    this.#offBlocked?.()
  }
}
