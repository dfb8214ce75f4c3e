/**
 * The Queue users hold: a thin facade over engines that each get the services
 * they need as objects: the queue's state (state.ts), adding jobs (insert.ts),
 * schedules (schedules.ts), other tabs (remote.ts), live handles
 * (live-handles.ts) and the one change path (changes.ts); and, while this tab
 * holds the runner lock, the runner (runner/dispatcher.ts).
 */
import { Committer, FencedWriter } from '../store/committer.js'
import { Dispatcher } from '../runner/dispatcher.js'
import type { FlowHandle } from './flow-handle.js'
import type { ChainMismatch, ChainOutput, FlowStep, GroupOutput } from './flow.js'
import { QueueClosedError, StorageBlockedError } from '../shared/errors.js'
import { whenFreezing, whenRunning } from '../shared/lifecycle.js'
import { Emitter } from '../shared/events.js'
import { toSnapshot, type JobHandle } from './handle.js'
import { Inserter } from './insert.js'
import { LiveHandles } from './live-handles.js'
import { invalidOption } from '../shared/options.js'
import { setUnrefTimeout } from '../shared/timers.js'
import { DEFAULTS, resolveQueueOptions, type QueueOptions, type ResolvedQueueOptions } from './options.js'
import { Leadership, type RunnerElection } from '../tabs/leadership.js'
import { validateList } from './list-options.js'
import { QueueState } from './state.js'
import { Retention, resolveClean } from '../runner/retention.js'
import type { Schedule, ScheduleOptions } from '../runner/scheduler.js'
import { Schedules } from './schedules.js'
import { idbStore } from '../store/idb-store.js'
import { deferredStore } from '../store/deferred-store.js'
import type { Store, StoredJob } from '../store/store.js'
import { Tabs } from './remote.js'
import { Releases, type RunnerRelease } from './releases.js'
import { Changes } from './changes.js'
import { fromStored } from '../shared/binary.js'
import { LiveCounts, LiveJob, LiveJobList, LiveViews, type LiveJobStore, type LiveList, type LiveStore, type WatchQuery } from './live.js'
import { Channel } from '../tabs/channel.js'
import type {
  AnySnapshot,
  Listed,
  TaskProgress,
  BulkJob,
  JobOptions,
  JobSnapshot,
  ListOptions,
  JobStatus,
  QueueEvents,
  QueueRole,
  TaskInput,
  TaskMap,
  TaskName,
  TaskOutput,
} from '../shared/types.js'

export type { BulkJob, ListOptions, QueueEvents, QueueRole } from '../shared/types.js'

/**
 * The arguments of `chain` after its steps: `options`; and, when a step without data of
 * its own does not accept the previous step's output, a required argument of the
 * mismatch's type, so that the call is a type error that shows the mismatch.
 */
type ChainRest<T extends TaskMap, S> =
  unknown extends ChainMismatch<T, S> ? [options?: { id?: string }] : [options: { id?: string } | undefined, mismatch: ChainMismatch<T, S>]

type BulkHandles<T extends TaskMap, J extends readonly BulkJob<T>[]> = {
  [I in keyof J]: J[I] extends { name: infer K } ? JobHandle<TaskOutput<T[K & keyof T]>, TaskProgress<T[K & keyof T]>> : JobHandle
}

/**
 * Creates a queue. With a `worker` factory this tab runs the jobs on a pool of
 * workers; without one it only adds and observes them.
 *
 * @typeParam T - the worker module's `typeof tasks`, for typed names, data and results
 * @param options - see {@link QueueOptions}; invalid ones throw a `TypeError`/`RangeError` naming the option
 *
 * @example
 * ```ts
 * import { createQueue } from 'offthread'
 * import type { Tasks } from './tasks.worker'
 *
 * const queue = createQueue<Tasks>({
 *   name: 'media',
 *   worker: () => new Worker(new URL('./tasks.worker.ts', import.meta.url), { type: 'module' }),
 * })
 * const job = await queue.add('thumbnail', { image, width: 256 })
 * job.on('progress', (p) => console.log(p))
 * const blob = await job.result()
 * ```
 */
export function createQueue<T extends TaskMap = TaskMap>(options?: QueueOptions): Queue<T> {
  return new Queue<T>(options)
}

/**
 * The queues open in this page, by name: a second `createQueue` of an open name
 * (a module re-run by hot reload) replaces the first. On `globalThis`, so that two
 * copies of offthread in one page (a dev server's re-bundled dependency) share it.
 */
const OPEN: Map<string, Queue> = ((globalThis as { [key: symbol]: unknown })[Symbol.for('offthread.openQueues')] ??= new Map()) as Map<string, Queue>
/** Set while an observer is made: it is not registered and replaces nothing. */
let makingObserver = false

/**
 * The queue of `name` open in this page, or else a new one that only observes
 * (no worker: it runs nothing and replaces nothing). For tools that are given a
 * queue's name only (`<offthread-inspector name>`).
 *
 * @returns the queue, and whether the caller made it (and so closes it when done)
 */
export function observeQueue(name: string): { queue: Queue; owned: boolean } {
  const open = OPEN.get(name)
  if (open) return { queue: open, owned: false }
  makingObserver = true
  try {
    return { queue: new Queue({ name }), owned: true }
  } finally {
    makingObserver = false
  }
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

/** Asks the browser, once per page, to keep this origin's storage (`persist: true`). */
let persistence: Promise<boolean> | undefined
function requestPersistence(): Promise<boolean> {
  const manager = typeof navigator !== 'undefined' ? navigator.storage : undefined
  persistence ??= manager?.persist ? manager.persist().catch(() => false) : Promise.resolve(false)
  return persistence
}

/** A persistent job queue. Create it with {@link createQueue}. */
export class Queue<T extends TaskMap = TaskMap> {
  #options: ResolvedQueueOptions
  #store: Store
  #committer: Committer
  #retention: Retention
  #events = new Emitter<QueueEvents>()
  #state: QueueState
  #closing: Promise<void> | undefined
  #started: boolean
  #leadership: RunnerElection | undefined
  /** The writes of this tab's runner, fenced with its token (a store with `fencing`). */
  #fence: FencedWriter | undefined
  // The engines behind the facade; they reach the queue through one context.
  #channel: Channel
  #changes: Changes
  #handles: LiveHandles
  #inserter: Inserter
  #schedules: Schedules
  #tabs: Tabs
  #releases: Releases
  /** When this tab last let the runner lock go at once for a newer release in line (see #run). */
  #passedAt = -Infinity

  constructor(options?: QueueOptions) {
    this.#options = resolveQueueOptions(options)
    // Where IndexedDB is missing (Deno, Bun, Node), memoryStore: imported then, so a page's bundle never carries it.
    this.#store =
      this.#options.store ??
      (typeof indexedDB !== 'undefined'
        ? idbStore()
        : deferredStore('memory', async () => (await import('../store/memory-store.js')).memoryStore(), true))
    this.#committer = new Committer(this.#store)
    this.#state = new QueueState(this.#options.name, this.#events, (closed) => void this.#shutdown(0, closed))
    this.#retention = new Retention(
      this.#store,
      this.#committer,
      this.#options.retention,
      (e) => this.#state.report(e),
      (ids) => this.#changes.removed(ids, 'here'),
    )
    this.#started = this.#options.autostart
    this.#channel = new Channel(this.#options.name)
    // The engines, each given the services it needs as objects (see each one's host interface).
    const services = {
      options: this.#options,
      store: this.#store,
      committer: this.#committer,
      channel: this.#channel,
      events: this.#events,
      state: this.#state,
      get changes(): Changes {
        return engines.changes
      },
      get handles(): LiveHandles {
        return engines.handles
      },
      get remote(): Tabs {
        return engines.remote
      },
      get inserter(): Inserter {
        return engines.inserter
      },
      get schedules(): Schedules {
        return engines.schedules
      },
      get releases(): Releases {
        return engines.releases
      },
      handOver: (reason: string) => void this.#handOver(reason).catch((error: unknown) => this.#state.report(error as Error)),
      givenUp: (ids: string[]) => this.#noteGivenUp(ids),
    }
    const handles = new LiveHandles(services)
    const engines = {
      handles,
      changes: new Changes(handles, this.#events, this.#channel),
      releases: new Releases(services),
      remote: new Tabs(services, this.#channel),
      inserter: new Inserter(services),
      schedules: new Schedules(services),
    }
    this.#handles = engines.handles
    this.#changes = engines.changes
    this.#tabs = engines.remote
    this.#inserter = engines.inserter
    this.#schedules = engines.schedules
    this.#releases = engines.releases
    // Hot reload: the queue of this name open in this page closes and hands its jobs over, as a closed tab would.
    const registers = !makingObserver && this.#options.replace
    const previous = registers ? OPEN.get(this.#options.name) : undefined
    if (registers) OPEN.set(this.#options.name, this as unknown as Queue)
    if (previous) {
      console.warn(
        `[offthread] createQueue: a queue named "${this.#options.name}" is open in this page (a module re-run by hot reload?); it closes and this one takes its place`,
      )
    }
    const replaced = previous?.close({ timeout: 0 }).catch(() => undefined)
    const open = async (): Promise<void> => {
      await replaced
      await this.#open()
    }
    // Without IndexedDB and without a store of the app's (a server render, a script), nothing
    // stored can wait to be resumed: the queue opens at its first use, and a queue never used
    // (made at module scope, rendered on a server) starts nothing that keeps the process alive.
    if (this.#options.store === undefined && typeof indexedDB === 'undefined') this.#state.deferOpen(open)
    else this.#state.open(open)
  }

  /** The queue's name. */
  get name(): string {
    return this.#options.name
  }

  /** Whether this tab runs the queue's jobs now (it holds the queue's runner lock). */
  get role(): QueueRole {
    return this.#state.runner ? 'runner' : 'follower'
  }

  /** Whether the queue is taking new jobs to run (not paused, not closed). */
  get isRunning(): boolean {
    return this.#state.runner?.active ?? false
  }

  /**
   * The release of the tab that runs the queue, as it stored it when it took its place
   * (its `version` and its worker module's tasks); undefined until one did (or with a
   * store that keeps no releases). Kept current as runners change.
   */
  get runner(): RunnerRelease | undefined {
    return this.#releases.runner
  }

  /**
   * What the browser says of this origin's storage: whether it is persisted (not evicted
   * under storage pressure), and its usage and quota in bytes. A field is undefined
   * where the engine does not tell (WebKitGTK tells no quota, say).
   */
  async storage(): Promise<{ persisted?: boolean; usage?: number; quota?: number }> {
    const manager = typeof navigator !== 'undefined' ? navigator.storage : undefined
    const out: { persisted?: boolean; usage?: number; quota?: number } = {}
    const [persisted, estimate] = await Promise.all([manager?.persisted?.().catch(() => undefined), manager?.estimate?.().catch(() => undefined)])
    if (typeof persisted === 'boolean') out.persisted = persisted
    if (typeof estimate?.usage === 'number') out.usage = estimate.usage
    if (typeof estimate?.quota === 'number') out.quota = estimate.quota
    return out
  }

  async #open(): Promise<void> {
    if (this.#options.persist) void requestPersistence()
    this.#offFreeze = whenFreezing(() => this.#freeze())
    this.#offBlocked = this.#store.blocked?.((blocked) => {
      this.#storageBlocked = blocked
      this.#state.report(new StorageBlockedError(undefined, { blocked }))
    })
    await this.#store.open(this.#options.name)
    this.#releases.open()
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
    if (!this.#options.worker) return undefined
    const timeout = this.#store.fencing ? this.#options.runnerTimeout : Infinity
    if (!this.#store.lease) return new Leadership(this.#options.name, timeout)
    const { StoreLease } = await import('../tabs/store-lease.js')
    return new StoreLease(this.#store, { ttl: Math.min(timeout, MAX_LEASE) })
  }

  /**
   * A store shared between processes: no BroadcastChannel reaches the others, so this
   * queue looks at the store's version every {@link STORE_POLL_MS} and, when another
   * process wrote, reads again what it may have changed: the runner takes in new jobs
   * and stops cancelled ones; live handles catch up.
   */
  #watchStore(): void {
    const store = this.#store
    if (!store.version) return
    let last: number | undefined
    const tick = async (): Promise<void> => {
      if (this.#state.closed) return
      try {
        const version = await (store.version as () => Promise<number>)()
        if (last !== undefined && version !== last) {
          await this.#state.runner?.refresh()
          await this.#handles.refreshAll()
        }
        last = version
      } catch (error) {
        if (!this.#state.closed) this.#state.report(error as Error)
      }
      if (!this.#state.closed) setUnrefTimeout(() => void tick(), STORE_POLL_MS)
    }
    void tick()
  }

  /** Free runner place: run now (before the queue reports ready). Else wait in line and take over later. */
  async #elect(): Promise<void> {
    const leadership = this.#leadership
    if (!leadership) return
    const now = await leadership.acquire(() => {
      this.#becomeRunner().catch((error: unknown) => this.#state.report(error as Error))
    })
    if (now) await this.#becomeRunner()
  }

  #becoming: Promise<void> | undefined

  /** This tab holds the runner lock: load the unfinished jobs and start the pool. */
  #becomeRunner(): Promise<void> {
    // Trouble while closing is no trouble: the next runner loads again.
    this.#becoming ??= this.#run().catch((error: unknown) => {
      if (!this.#state.closed) throw error
    })
    return this.#becoming
  }

  async #run(): Promise<void> {
    const factory = this.#options.worker
    if (this.#state.closed || !factory || this.#state.runner) return
    if (await this.#passOn()) return
    let committer: Committer | FencedWriter = this.#committer
    if (this.#store.fencing && this.#leadership?.token) {
      // This runner's token: from now on, the writes of any runner before it are refused.
      const token = this.#leadership.token
      const fence = new FencedWriter(this.#committer, token, () => this.#lost())
      this.#fence = fence
      await this.#committer.write([{ op: 'claim', token }])
      if (fence.lost || !this.#leadership.held || this.#state.closed) return
      committer = fence
    }
    const releases = this.#releases
    const dispatcher: Dispatcher = new Dispatcher(
      {
        options: this.#options,
        store: this.#store,
        committer,
        changes: this.#changes,
        error: (error) => this.#state.report(error),
        idle: () => this.#events.emit('idle'),
        unknownTask: (job) => releases.verdict(job, dispatcher.pool.manifest),
        // A newer tab in line asks for the queue when it sees the jobs waiting for it.
        awaitingRelease: () => this.#channel.post({ type: 'release' }),
        givenUp: (id) => this.#givenUp.delete(id),
      },
      releases.takePool(),
    )
    this.#state.runner = dispatcher
    // The runner's own news is best-effort: followers read the store anyway.
    this.#channel.mustDeliver = false
    this.#changes.retention = this.#retention
    this.#events.emit('role', 'runner')
    await dispatcher.load()
    // The releases the store knows, before any job is judged by them (a task this release lacks).
    await releases.refresh().catch((error: unknown) => this.#state.report(error as Error))
    if (this.#started && !this.#state.closed) dispatcher.start()
    releases.claimed(committer).catch((error: unknown) => {
      if (this.#state.runner === dispatcher) this.#state.report(error as Error)
    })
    this.#retention.schedule()
    this.#schedules.start(this.#fence)
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
    if (!(await this.#releases.newerInLine()) || this.#state.closed || !leadership.held) return false
    this.#passedAt = performance.now()
    this.#becoming = undefined
    leadership.release()
    setTimeout(() => void this.#elect().catch((error: unknown) => this.#state.report(error as Error)), 0)
    return true
  }

  /**
   * A tab of a newer release asked for the queue (see releases.ts): start nothing new,
   * give the running jobs `abortGrace` to finish (then stop them: they run again in the
   * new runner, their durable steps kept), give the place up, and wait in line again.
   * The new runner's claim fences anything this one might still write.
   */
  async #handOver(reason: string): Promise<void> {
    const runner = this.#state.runner
    if (!runner || this.#handingOver || this.#state.closed) return
    this.#handingOver = true
    try {
      this.#schedules.stop()
      await runner.close(this.#options.abortGrace, reason)
      await this.#committer.settled()
      if (this.#state.runner !== runner || this.#state.closed) return
      this.#fence?.lose()
      this.#fence = undefined
      this.#state.runner = undefined
      this.#becoming = undefined
      this.#channel.mustDeliver = true
      this.#events.emit('role', 'follower')
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

  #noteGivenUp(ids: string[]): void {
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
    if (!leadership || this.#state.closed) return
    const runner = this.#state.runner
    if (runner) {
      this.#fence?.lose()
      this.#fence = undefined
      this.#becoming = undefined
      const ids = runner.abandon()
      if (ids.length > 0) {
        // Sent before the place is given up (this turn's messages go out with its microtasks);
        // kept here too, for when this tab is the next runner.
        this.#channel.post({ type: 'given-up', ids }, false)
        this.#noteGivenUp(ids)
      }
      this.#schedules.stop()
      this.#state.runner = undefined
      this.#channel.mustDeliver = true
      this.#events.emit('role', 'follower')
    }
    leadership.release()
    void whenRunning().then(() => {
      if (!this.#state.closed) this.#elect().catch((error: unknown) => this.#state.report(error as Error))
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
    const runner = this.#state.runner
    this.#becoming = undefined
    if (!runner) return
    runner.abandon()
    this.#schedules.stop()
    this.#state.runner = undefined
    this.#channel.mustDeliver = true
    console.warn(`[offthread] queue "${this.name}": another tab took the runner's place (this one was frozen or blocked); its jobs run there`)
    this.#events.emit('role', 'follower')
    const election = this.#leadership
    if (election?.held && !this.#state.closed) {
      // The store refused this runner while it still held its place: another claimed it. Give it up, wait in line.
      election.release()
      this.#elect().catch((error: unknown) => this.#state.report(error as Error))
    }
  }

  /**
   * Schedules a repeating job, stored: it fires in the runner tab on its
   * `cron` pattern or `every` ms. Scheduling again with the same `id`
   * replaces the schedule.
   *
   * @example
   * ```ts
   * await queue.schedule('cleanup', { id: 'nightly', cron: '0 3 * * *', data: { days: 30 } })
   * await queue.schedule('poll', { id: 'poll', every: 60_000, data: null })
   * ```
   */
  async schedule<K extends TaskName<T>>(name: K, options: ScheduleOptions<TaskInput<T[K]>>): Promise<Schedule> {
    return this.#schedules.schedule(name, options)
  }

  /** Manage stored schedules: list, pause, resume, remove, trigger (run now). */
  get schedules(): {
    list(): Promise<Schedule[]>
    pause(id: string): Promise<Schedule>
    resume(id: string): Promise<Schedule>
    remove(id: string): Promise<boolean>
    trigger(id: string): Promise<JobHandle>
  } {
    return this.#schedules.manager()
  }

  /**
   * Adds a job: stores it, then dispatches it. Resolves once it is durable.
   *
   * @param name - a task defined in the worker module
   * @param data - the task's input; must be structured-cloneable
   * @param options - see {@link JobOptions}
   * @returns a live handle on the job (the existing job's, for an `id` or `key` already taken)
   * @throws `JobDataError` for data that cannot be cloned, `UnknownTaskError`, `TypeError`/`RangeError` for bad options
   */
  async add<K extends TaskName<T>>(name: K, data: TaskInput<T[K]>, options?: JobOptions): Promise<JobHandle<TaskOutput<T[K]>, TaskProgress<T[K]>>> {
    type Typed = JobHandle<TaskOutput<T[K]>, TaskProgress<T[K]>>
    const debounce = options?.debounce
    if (debounce !== undefined) return (await this.#inserter.debounced(name, data, options as JobOptions)) as unknown as Typed
    const [handle] = await this.#inserter.insert([{ name, data, options }], false)
    return handle as unknown as Typed
  }

  /**
   * Adds many jobs in one transaction: all are stored, or none.
   *
   * @returns the handles, in order
   */
  async addBulk<const J extends readonly BulkJob<T>[]>(jobs: J): Promise<BulkHandles<T, J>> {
    if (!Array.isArray(jobs)) throw invalidOption('jobs', 'an array of { name, data, options? }', jobs)
    return (await this.#inserter.insert(jobs as readonly BulkJob<T>[], true)) as BulkHandles<T, J>
  }

  /**
   * Adds a chain: each step's result is the next step's input (a step that
   * gives its own `data` keeps it). Steps may be nested `{ chain }` and
   * `{ group }` flows. All of it is stored in one transaction; a reload resumes
   * at the step it reached.
   *
   * @param options.id - the flow's id; adding a flow with an id that exists returns that flow
   * @returns a handle whose result is the last step's
   * @example
   * ```ts
   * const flow = await queue.chain([{ name: 'decode', data: file }, { name: 'resize' }, { name: 'encode' }])
   * const blob = await flow.result()
   * ```
   */
  async chain<const S extends readonly FlowStep<T>[]>(steps: S, ...rest: ChainRest<T, S>): Promise<FlowHandle<ChainOutput<T, S>>> {
    const [options = {}] = rest as [{ id?: string }?]
    if (!Array.isArray(steps)) throw invalidOption('steps', 'an array of { name, data?, options? }', steps)
    // Flows' code is imported on first use: a page that adds no flow never loads it.
    const { addFlow } = await import('./flow.js')
    return (await addFlow({ chain: steps }, options, this.#inserter)) as FlowHandle<ChainOutput<T, S>>
  }

  /**
   * Adds a group: its jobs run in parallel, and its result is their results in order.
   *
   * @param options.id - the flow's id; adding a flow with an id that exists returns that flow
   * @example
   * ```ts
   * const sizes = await (await queue.group([{ name: 'resize', data: 256 }, { name: 'resize', data: 512 }])).result()
   * ```
   */
  async group<const G extends readonly FlowStep<T>[]>(jobs: G, options: { id?: string } = {}): Promise<FlowHandle<GroupOutput<T, G>>> {
    if (!Array.isArray(jobs)) throw invalidOption('jobs', 'an array of { name, data, options? }', jobs)
    const { addFlow } = await import('./flow.js')
    return (await addFlow({ group: jobs }, options, this.#inserter)) as FlowHandle<GroupOutput<T, G>>
  }

  /**
   * A live handle for any job, by id.
   *
   * @returns undefined when no job has that id
   */
  getJob<K extends TaskName<T>>(id: string, name: K): Promise<JobHandle<TaskOutput<T[K]>, TaskProgress<T[K]>> | undefined>
  getJob<R = unknown>(id: string): Promise<JobHandle<R> | undefined>
  async getJob(id: string, name?: string): Promise<JobHandle | undefined> {
    if (typeof id !== 'string') throw invalidOption('id', 'a job id (string)', id)
    if (name !== undefined && typeof name !== 'string') throw invalidOption('name', 'a task name (string)', name)
    await this.#state.ready()
    const handle = await this.#find(id)
    // Typed by a task: a job of another task is not that task's job.
    return name === undefined || handle?.name === name ? handle : undefined
  }

  async #find(id: string): Promise<JobHandle | undefined> {
    const live = this.#handles.get(id)
    // A finished job may have been deleted (by another tab's clean or retention): make sure.
    if (live && (!live.isDone() || (await this.#store.get([id]))[0])) return live
    if (live) this.#changes.removed([id], 'elsewhere')
    // Metadata and result only: a job's data (100 MB, maybe) is read when `handle.data()` asks.
    const full = await this.#store.getFull(id, { data: false })
    if (!full) return undefined
    const { data: _data, result, ...job } = full
    return this.#handles.handleFor(job, undefined, result)
  }

  /**
   * A live query: the jobs `list(query)` gives, kept current by the queue's events
   * (from every tab), for UI code. `getSnapshot()` returns the same array until
   * something changes; `subscribe(listener)` calls the listener at once and after each
   * change, at most once per animation frame. It reads only while subscribed.
   *
   * @example
   * ```ts
   * const running = queue.watch({ status: 'running' })
   * const off = running.subscribe((jobs) => render(jobs))
   * ```
   */
  watch(query: WatchQuery = {}): LiveList<Listed<AnySnapshot<T>>> {
    validateList({ ...query })
    // Views of the same query share one list (one read per change, however many views).
    const { status, name, limit } = query
    const key = JSON.stringify([typeof status === 'string' ? [status] : (status ?? null), name ?? null, limit === undefined ? null : String(limit)])
    return this.#views.get(`list:${key}`, () => new LiveJobList(this.#live, query)) as unknown as LiveList<Listed<AnySnapshot<T>>>
  }

  /** Live `counts()`, in the store contract of {@link watch}; one for the queue. */
  watchCounts(): LiveStore<Readonly<Record<JobStatus, number>>> {
    return this.#views.get('counts', () => new LiveCounts(this.#live))
  }

  /**
   * A job by id, live: `{ state, job, handle, error }`, where `state` is `'loading'`
   * until it is read, `'ready'` (with its snapshot and live handle), `'missing'` (no
   * such job; with `name`, none of that task), `'deleted'` once it is deleted in any
   * tab, or `'error'` (the read failed). In the store contract of {@link watch}.
   *
   * @example
   * ```ts
   * const job = queue.watchJob(id, 'resize')
   * const off = job.subscribe(({ state, job }) => render(state === 'ready' ? job.progress : state))
   * ```
   */
  watchJob<K extends TaskName<T>>(id: string, name: K): LiveJobStore<TaskOutput<T[K]>, TaskProgress<T[K]>>
  watchJob<R = unknown>(id: string): LiveJobStore<R>
  watchJob(id: string, name?: string): LiveJobStore {
    if (typeof id !== 'string') throw invalidOption('id', 'a job id (string)', id)
    if (name !== undefined && typeof name !== 'string') throw invalidOption('name', 'a task name (string)', name)
    return this.#views.get(
      `job:${name ?? ''}\u0000${id}`,
      () => new LiveJob({ getJob: (job) => this.getJob(job, name as TaskName<T>), on: (event, listener) => this.#events.on(event, listener) }, id),
    )
  }

  /** The live views handed out, shared by query. */
  #views = new LiveViews()

  get #live(): ConstructorParameters<typeof LiveCounts>[0] {
    return { list: (query) => this.list(query), counts: () => this.counts(), on: (event, listener) => this.#events.on(event, listener) }
  }

  /**
   * Jobs, newest first: at most `limit` (100 by default), without their `data` and
   * `result` unless `data: true`.
   */
  async list(options: ListOptions = {}): Promise<JobSnapshot[]> {
    const query = validateList(options)
    await this.#state.ready()
    const jobs = await this.#store.list(query)
    if (query.data) return Promise.all(jobs.map(async ({ data, result, ...job }: StoredJob) => toSnapshot(job, await fromStored(data), result)))
    return jobs.map(({ data, result, ...job }: StoredJob) => toSnapshot(job, data, result))
  }

  /**
   * Deletes one job with its data, result, logs and errors; a job not yet
   * finished is cancelled first (a running one through the tab that runs it).
   *
   * @returns false when no job has that id
   */
  async remove(id: string): Promise<boolean> {
    if (typeof id !== 'string') throw invalidOption('id', 'a job id (string)', id)
    await this.#state.ready()
    const [job] = await this.#store.get([id])
    if (!job) return false
    if (job.status !== 'completed' && job.status !== 'failed' && job.status !== 'cancelled') {
      await this.#tabs.cancel(id, 'The job was removed')
    }
    await this.#committer.write([{ op: 'delete', ids: [id] }])
    this.#changes.removed([id], 'here')
    return true
  }

  /**
   * Cancels job `id` (a running one through the tab that runs it), as its handle's
   * `cancel(reason)` does, without reading the handle first.
   *
   * @returns false when no job has that id, or it is final already
   * @example
   * ```ts
   * await queue.cancel(id, 'the user closed the dialog')
   * ```
   */
  async cancel(id: string, reason?: string): Promise<boolean> {
    if (typeof id !== 'string') throw invalidOption('id', 'a job id (string)', id)
    if (reason !== undefined && typeof reason !== 'string')
      throw new TypeError(`cancel(id, reason): expected a string reason, received ${typeof reason}`)
    return this.#tabs.cancel(id, reason)
  }

  /** How many jobs there are in each status. */
  async counts(): Promise<Record<JobStatus, number>> {
    await this.#state.ready()
    return this.#store.counts()
  }

  /**
   * Puts a `failed` or `cancelled` job back in the queue; its attempts start again.
   * A job already back (waiting, delayed, blocked or running: a second click, another
   * tab's retry) is left as it is: its handle, and a console note that says so.
   *
   * @throws TypeError when the job is completed, or does not exist
   */
  async retry(id: string): Promise<JobHandle> {
    return this.#inserter.requeue(id)
  }

  /** Stops taking new jobs; running ones finish. */
  pause(): void {
    this.#started = false
    this.#state.runner?.pause()
  }

  /** Takes new jobs again after `pause()`. */
  resume(): void {
    this.start()
  }

  /** Starts dispatching (after `autostart: false`, or `pause()`). */
  start(): void {
    if (this.#state.closed) throw this.#state.closed
    this.#started = true
    void this.#state.opened.then(
      () => {
        if (this.#started && !this.#state.closed) this.#state.runner?.start()
      },
      () => undefined,
    )
  }

  /** Resolves when nothing is waiting, delayed-and-due or running; rejects `QueueClosedError` if the queue closes first. */
  async idle(): Promise<void> {
    await this.#state.ready()
    for (;;) {
      if (this.#state.closed) throw this.#state.closed
      const dispatcher = this.#state.runner
      if (dispatcher) {
        if (dispatcher.isIdle()) return
      } else {
        // A tab that does not run jobs sees the store.
        const counts = await this.#store.counts()
        if (counts.waiting + counts.running === 0) return
      }
      await this.#next(dispatcher ? ['idle', 'role'] : ['completed', 'failed', 'cancelled', 'role'])
    }
  }

  /** Resolves on the next of `events`; rejects when the queue closes first. Leaves no listener behind. */
  #next(events: ReadonlyArray<'idle' | 'role' | 'completed' | 'failed' | 'cancelled'>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (settle: () => void): void => {
        for (const off of offs) off()
        offClose()
        settle()
      }
      const offs = events.map((event) => this.#events.on(event, () => done(resolve)))
      const offClose = this.#whenClosed(() => done(() => reject(this.#state.closed ?? new QueueClosedError())))
    })
  }

  /**
   * Deletes finished jobs of `status` (with their data, results, logs and errors).
   *
   * @param options.olderThan - only those that finished more than this many ms ago
   * @returns how many were deleted
   */
  async clean(options: {
    status: 'completed' | 'failed' | 'cancelled' | ReadonlyArray<'completed' | 'failed' | 'cancelled'>
    olderThan?: number
  }): Promise<number> {
    const { statuses, olderThan } = resolveClean(options)
    await this.#state.ready()
    let count = 0
    for (const status of statuses) count += await this.#retention.clean(status, olderThan)
    return count
  }

  /**
   * Stops taking jobs, gives running ones `timeout` ms, then aborts them
   * (`QueueClosedError`); terminates the workers and closes the store.
   * Interrupted jobs resume on the next start.
   *
   * @param options.timeout - ms running jobs get to finish; default 5000
   */
  close(options: { timeout?: number } = {}): Promise<void> {
    if (typeof options !== 'object' || options === null) return Promise.reject(invalidOption('options', 'an object { timeout? }', options))
    const timeout = options.timeout === undefined ? DEFAULTS.closeTimeout : options.timeout
    if (typeof timeout !== 'number' || !(timeout >= 0)) {
      return Promise.reject(invalidOption('timeout', 'a number of ms ≥ 0', timeout, RangeError))
    }
    return this.#shutdown(timeout, new QueueClosedError(`The queue "${this.name}" is closed`))
  }

  /** Closes the queue; every pending wait of it rejects with `closed`. */
  #shutdown(timeout: number, closed: QueueClosedError): Promise<void> {
    this.#closing ??= (async () => {
      this.#state.closed = closed
      await this.#state.settled()
      await this.#becoming?.catch(() => undefined)
      this.#schedules.stop()
      await this.#state.runner?.close(timeout)
      if (this.#state.runner) {
        // This tab no longer runs the queue (the next one in line takes over).
        this.#state.runner = undefined
        this.#events.emit('role', 'follower')
      }
      await this.#retention.stop()
      await this.#committer.settled()
      this.#leadership?.release()
      this.#offFreeze?.()
      this.#offBlocked?.()
      this.#releases.close()
      this.#tabs.close()
      await this.#store.close()
      this.#handles.abandon(closed)
      if (OPEN.get(this.name) === this) OPEN.delete(this.name)
      this.#shut = true
      const listeners = [...this.#closeListeners]
      this.#closeListeners.clear()
      for (const listener of listeners) listener()
    })()
    return this.#closing
  }

  #closeListeners = new Set<() => void>()
  #shut = false
  /** Calls `listener` once the queue has closed (at once if it has); returns the unsubscribe function. */
  #whenClosed(listener: () => void): () => void {
    if (this.#shut) {
      listener()
      return () => undefined
    }
    this.#closeListeners.add(listener)
    return () => this.#closeListeners.delete(listener)
  }

  /** Listens to a queue event; returns the unsubscribe function. */
  on<K extends keyof QueueEvents>(event: K, listener: NoInfer<QueueEvents<T>[K]>): () => void {
    return this.#events.on(event, listener as QueueEvents[K])
  }

  /** Removes a listener added with `on`. */
  off<K extends keyof QueueEvents>(event: K, listener: NoInfer<QueueEvents<T>[K]>): void {
    this.#events.off(event, listener as QueueEvents[K])
  }
}
