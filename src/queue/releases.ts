/**
 * Tabs of two releases of the app on one queue (a deploy while tabs stay open): what
 * this tab's release is, what it can run, what the store says the others are, and when
 * the queue changes hands. Everything decided here is read from the store (the release
 * records) and from the browser's Web Locks (which tabs are open), never taken from a
 * message: a message on the channel only says "look again".
 *
 * - A tab with a `worker` loads its worker module once (the first worker of its pool)
 *   to learn its tasks, stores its release (version and tasks) and holds a release mark
 *   (tabs/release-marks.ts) while it is open.
 * - `add` checks names against this tab's own tasks, or, in a tab without a worker,
 *   against every release the store knows.
 * - A tab waiting in line that is newer than the runner (or, unordered, defines more of
 *   the tasks that waiting jobs need) asks the runner for the queue; the runner checks
 *   the ask against the store and the locks, and hands over (queue.ts).
 */
import type { Committer, Writer } from '../store/committer.js'
import type { Pool } from '../pool/pool.js'
import { loadRunnerCode } from './runner-code.js'
import type { TaskMeta, WorkerManifest } from '../shared/protocol.js'
import { compareVersions, fingerprint, releaseKey, shouldHandOver, unknownTaskVerdict, type ReleaseRecord, type Version } from '../shared/release.js'
import { newId } from '../shared/ids.js'
import { setUnrefTimeout } from '../shared/timers.js'
import { whenFreezing, whenRunning } from '../shared/lifecycle.js'
import type { JobRecord, Store, StoredReleases } from '../store/store.js'
import type { Channel } from '../tabs/channel.js'
import { holdReleaseMark, releaseMarks } from '../tabs/release-marks.js'
import type { ResolvedQueueOptions } from './options.js'
import type { QueueState } from './state.js'

/** A release not announced for this long is forgotten when a runner takes the queue. */
const FORGET_AFTER = 30 * 24 * 3_600_000
/** How often a tab in line looks whether it should run the queue (besides the channel's nudges): one small read. */
const LOOK_EVERY = 2000
/** The least time between two asks of one tab. */
const ASK_EVERY = 1000
/** After a failed worker load, the next try comes only after this long, doubled after each failure in a row. */
const PROBE_RETRY = 5000
/** The longest wait between two tries (every failed try is an error event). */
const PROBE_RETRY_MAX = 300_000

/** What the releases engine needs from its queue. */
export interface ReleasesHost {
  readonly options: ResolvedQueueOptions
  readonly store: Store
  readonly committer: Committer
  readonly state: QueueState
  readonly channel: Channel
  /** This tab runs the queue and a newer release asked for it: hand it over. */
  handOver(reason: string): void
}

/** The runner's release, as it stored it when it took the queue. */
export interface RunnerRelease {
  readonly version: Version
  readonly tasks: Readonly<Record<string, TaskMeta>>
}

/** One queue's view of the app's releases. */
export class Releases {
  /** This tab, in its release mark and its asks. */
  readonly tab = newId()
  #host: ReleasesHost
  #manifest: WorkerManifest | undefined
  /** The pool that loads this tab's first worker (handed to the runner, if this tab becomes it). */
  #probe: Pool | undefined
  #probeFailedAt = -Infinity
  #probeFailures = 0
  #stored: StoredReleases = { known: [], runner: undefined }
  #unmark: (() => void) | undefined
  #lastAsk = -Infinity
  #announced = false
  #closed = false

  constructor(host: ReleasesHost) {
    this.#host = host
  }

  /** This tab's release: the `version` option, else the fingerprint of its tasks once known. */
  get version(): Version | undefined {
    return this.#host.options.version ?? (this.#manifest && fingerprint(this.#manifest))
  }

  /** This tab's release with its tasks, once its worker module has loaded. */
  get record(): ReleaseRecord | undefined {
    const version = this.version
    return this.#manifest && version !== undefined ? { version, tasks: this.#manifest.tasks, seenAt: Date.now() } : undefined
  }

  /** The runner's release as stored (undefined before one stored it, or with a store that keeps none). */
  get runner(): RunnerRelease | undefined {
    const runner = this.#stored.runner
    return runner && Object.freeze({ version: runner.version, tasks: Object.freeze({ ...runner.tasks }) })
  }

  /** Starts: reads the stored releases; a tab with a worker learns its own and announces it. */
  open(): void {
    void this.refresh().catch(() => undefined)
    if (!this.#host.options.worker) return
    // A queue closed meanwhile announces nothing; any other trouble is the queue's to report.
    this.#announce().catch((error: unknown) => {
      if (!this.#host.state.closed) this.#host.state.report(error as Error)
    })
    const look = (): void => {
      if (this.#closed) return
      // A worker module that failed to load is tried again, ever less often (see PROBE_RETRY).
      const next = this.#announced ? this.nudged() : this.#announce()
      void next.catch(() => undefined).finally(() => setUnrefTimeout(look, LOOK_EVERY))
    }
    setUnrefTimeout(look, LOOK_EVERY)
  }

  /** Stops: drops this tab's mark and its probe. */
  close(): void {
    this.#closed = true
    this.#offFreeze?.()
    this.#unmark?.()
    this.#probe?.close()
    this.#probe = undefined
  }

  /** The pool for this tab's runner: the one that loaded the first worker, if still open; else a new one. */
  async takePool(): Promise<Pool> {
    await this.#loadPool()
    const probe = this.#probe
    this.#probe = undefined
    if (probe && !probe.closed) return probe
    return this.#newPool()
  }

  /** The Pool class, once the runner's code has loaded (runner-code.ts). */
  #Pool: typeof Pool | undefined
  async #loadPool(): Promise<void> {
    this.#Pool ??= (await loadRunnerCode()).Pool
  }

  #newPool(): Pool {
    const { worker, concurrency } = this.#host.options
    return new (this.#Pool as typeof Pool)(worker as NonNullable<typeof worker>, concurrency, { error: (error) => this.#host.state.report(error) })
  }

  /**
   * This tab's tasks: from its runner's pool, else from a worker loaded for it (closed
   * again once it answered, unless this tab became the runner meanwhile). Waits at
   * most `within` ms; undefined without a worker, or while its module fails to load.
   */
  async manifest(within = Infinity): Promise<WorkerManifest | undefined> {
    if (this.#manifest || !this.#host.options.worker || this.#closed) return this.#manifest
    // The runner's code did not load (offline): no tasks known yet, as while a worker module fails to load.
    // (Told when this tab becomes the runner: see seat.ts.)
    if (
      !(await this.#loadPool().then(
        () => true,
        () => false,
      )) ||
      this.#manifest ||
      this.#closed
    )
      return this.#manifest
    const runnerPool = this.#host.state.runner?.pool
    if (runnerPool) return this.#learned(await runnerPool.whenManifest(within))
    if (!this.#probe) {
      const wait = Math.min(PROBE_RETRY_MAX, PROBE_RETRY * 2 ** Math.max(0, this.#probeFailures - 1))
      if (performance.now() - this.#probeFailedAt < wait) return undefined
      this.#probe = this.#newPool()
    }
    const probe = this.#probe
    const manifest = await probe.whenManifest(within)
    if (!manifest && this.#probe === probe && !this.#manifest && probe.failing) {
      // The module failed to load: try again on a later call, not on every one. (A module slow to
      // load keeps loading: a later call waits for the same worker.)
      this.#probeFailedAt = performance.now()
      this.#probeFailures++
      this.#probe = undefined
      probe.close()
    }
    if (manifest && this.#probe === probe && !this.#host.state.runner) {
      // A follower runs nothing: its worker goes (a new pool loads one if this tab becomes the runner).
      this.#probe = undefined
      probe.close()
    }
    return this.#learned(manifest ?? this.#manifest)
  }

  #learned(manifest: WorkerManifest | undefined): WorkerManifest | undefined {
    this.#manifest ??= manifest
    return this.#manifest
  }

  /**
   * The tasks `add` checks names against: this tab's own (a tab with a worker: it waits
   * at most `within` ms for its module), else those of every release the store knows.
   * Undefined when neither is known: the job is stored unchecked.
   */
  async tasks(within: number): Promise<Record<string, TaskMeta> | undefined> {
    if (this.#host.options.worker) return (await this.manifest(within))?.tasks
    const { known } = await this.refresh()
    if (known.length === 0) return undefined
    return Object.assign({}, ...known.map((r) => r.tasks)) as Record<string, TaskMeta>
  }

  /** Reads the stored releases again (the runner's among them). The store must be open. */
  async refresh(): Promise<StoredReleases> {
    const store = this.#host.store
    if (!store.releases || this.#host.state.closed) return this.#stored
    this.#stored = await store.releases()
    return this.#stored
  }

  /** Stores this tab's release, holds its mark, and tells the other tabs to look. */
  async #announce(): Promise<void> {
    const manifest = await this.manifest()
    const record = this.record
    if (!manifest || !record || this.#closed) return
    await this.#host.state.ready()
    if (this.#host.store.releases) await this.#host.committer.write([{ op: 'release', release: record }])
    this.#announced = true
    this.#mark(record)
    this.#offFreeze ??= whenFreezing(() => {
      // A frozen tab cannot take the queue: it is not open for the runner's purposes until it runs again.
      this.#unmark?.()
      this.#unmark = undefined
      void whenRunning().then(() => this.#mark(this.record))
    })
    this.#host.channel.post({ type: 'release' })
    await this.nudged()
  }

  #offFreeze: (() => void) | undefined

  /** Holds this tab's release mark (see tabs/release-marks.ts). */
  #mark(record: ReleaseRecord | undefined): void {
    this.#unmark?.()
    this.#unmark = this.#closed || !record ? undefined : holdReleaseMark(this.#host.options.name, this.tab, releaseKey(record.version))
  }

  /**
   * This tab took the runner's place: its release is the runner's in the store (fenced
   * with its token), releases unseen for long are forgotten, and the tabs in line look.
   */
  async claimed(writer: Writer): Promise<void> {
    await this.manifest()
    const record = this.record
    const store = this.#host.store
    if (!record || !store.releases) return
    const { known } = await this.refresh()
    const old = known.filter((r) => r.seenAt < record.seenAt - FORGET_AFTER).map((r) => r.version)
    await writer.write([{ op: 'release', release: record, runner: true, drop: old }])
    await this.refresh()
    // Reliable: a tab opened a moment ago, not yet known to this one, must hear it too.
    this.#host.channel.post({ type: 'release' }, true)
  }

  /**
   * What the runner does with a job whose task its release does not define (see shared/release.ts).
   *
   * @param manifest - the runner's tasks, as its pool read them
   */
  verdict(job: JobRecord, manifest: WorkerManifest | undefined): 'fail' | 'wait' {
    this.#learned(manifest)
    const mine = this.version
    // A store that keeps no releases: no tab can hand over, so nothing would ever run the job.
    if (mine === undefined || !this.#host.store.releases) return 'fail'
    return unknownTaskVerdict(mine, job.version, job.name, this.#stored.known)
  }

  /**
   * Whether the tab that just got the runner lock should let it go at once: a tab of a
   * newer release (by order) waits in line. (Unordered releases are settled by asks.)
   */
  async newerInLine(): Promise<boolean> {
    const mine = this.version
    if (mine === undefined) return false
    const marks = await releaseMarks(this.#host.options.name, this.tab)
    return marks.some((mark) => compareVersions(mark.key, String(mine)) === 1)
  }

  /** Another tab said to look again (a release stored, a runner changed), or it is time to. */
  async nudged(): Promise<void> {
    if (this.#closed) return
    // A nudge may arrive while this queue is still opening its store.
    await this.#host.state.ready()
    await this.refresh()
    if (this.#host.options.worker && !this.#host.state.runner) this.#maybeAsk()
  }

  /** A tab in line: asks the runner for the queue when its release should run it. */
  #maybeAsk(): void {
    const mine = this.record
    const runner = this.#stored.runner
    if (!mine || !runner || performance.now() - this.#lastAsk < ASK_EVERY) return
    const order = compareVersions(mine.version, runner.version)
    const more =
      order === undefined &&
      Object.keys(runner.tasks).every((name) => name in mine.tasks) &&
      Object.keys(mine.tasks).length > Object.keys(runner.tasks).length
    if (order !== 1 && !more) return
    this.#lastAsk = performance.now()
    this.#host.channel.post({ type: 'handover', tab: this.tab, key: releaseKey(mine.version) })
  }

  /**
   * The runner heard an ask for the queue: it hands over only when the asking tab is open
   * (its mark is held), its release is stored, and that release should run the queue.
   *
   * @param needed - the tasks that jobs waiting for another release need
   */
  async asked(tab: unknown, key: unknown, needed: ReadonlySet<string>): Promise<void> {
    const mine = this.record
    if (!mine || typeof tab !== 'string' || typeof key !== 'string' || !this.#host.state.runner) return
    const marks = await releaseMarks(this.#host.options.name, this.tab)
    if (!marks.some((mark) => mark.tab === tab && mark.key === key)) return
    const { known } = await this.refresh()
    const other = known.find((r) => releaseKey(r.version) === key)
    if (!other) return
    const live = [mine, ...known.filter((r) => marks.some((mark) => mark.key === releaseKey(r.version)))]
    if (shouldHandOver(mine, other, needed, live) && this.#host.state.runner) {
      this.#host.handOver(`the queue was handed to a tab of release ${String(other.version)}`)
    }
  }
}
