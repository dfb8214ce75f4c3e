/**
 * Group commit: the writes queued in one turn of the event loop (and while a
 * transaction is in flight) go to the store as one transaction. The number of
 * IndexedDB transactions, not their size, is what costs.
 */
import type { Store, WriteOp, WriteResult } from './store.js'
import { yieldToPage } from '../shared/timers.js'

/** Ops whose callers are woken between two looks at the clock. */
const RESOLVE_CHUNK = 64
/** Time the woken callers may take before the page gets a turn. */
const SLICE_MS = 12
/**
 * Ops of callers that share one transaction, at most (a caller's own ops are never split).
 * A transaction needs its page until its last request is issued, and a page stopped in that
 * window blocks every other tab; overlapping transactions of other tabs wait for it anyway.
 * 200 ops need the page about 12 ms (bench S1, p50; 1000 took 16 ms) at the same throughput.
 */
const GROUP_OPS = 200

interface Pending {
  ops: WriteOp[]
  atomic: boolean
  resolve: (results: WriteResult[]) => void
  reject: (error: unknown) => void
}

/** What writes to the store: the {@link Committer}, or a runner's {@link FencedWriter} over it. */
export interface Writer {
  write(ops: WriteOp[], options?: { atomic?: boolean }): Promise<WriteResult[]>
  settled(): Promise<void>
}

/** Batches store writes; each caller's promise settles when its own ops are durable. */
export class Committer implements Writer {
  #store: Store
  #pending: Pending[] = []
  #flushing = false
  #idle: Array<() => void> = []

  constructor(store: Store) {
    this.#store = store
  }

  /**
   * Queues `ops` for the next transaction. Job records are copied now, so a
   * later change to the caller's object cannot slip into this write.
   */
  write(ops: WriteOp[], options: { atomic?: boolean } = {}): Promise<WriteResult[]> {
    const copied = ops.map((op) => (op.op === 'put' ? { ...op, job: { ...op.job } } : op.op === 'insert' ? { ...op, job: { ...op.job } } : op))
    return new Promise((resolve, reject) => {
      this.#pending.push({ ops: copied, atomic: options.atomic ?? false, resolve, reject })
      if (!this.#flushing) {
        this.#flushing = true
        queueMicrotask(() => void this.#flush())
      }
    })
  }

  /** Resolves once every write queued so far has settled. */
  settled(): Promise<void> {
    if (!this.#flushing) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      // An atomic batch gets a transaction of its own; the others share one.
      const first = this.#pending[0] as Pending
      let ops = 0
      const group = first.atomic
        ? [first]
        : takeWhile(this.#pending, (p) => {
            // The first caller always goes, however many ops it has; the others while they fit.
            const fits = !p.atomic && (ops === 0 || ops + p.ops.length <= GROUP_OPS)
            if (fits) ops += p.ops.length
            return fits
          })
      this.#pending.splice(0, group.length)
      await this.#commit(group, first.atomic)
    }
    this.#flushing = false
    for (const resolve of this.#idle.splice(0)) resolve()
  }

  /**
   * Writes the ops of `group` in one transaction. When it fails, one caller's
   * write may be the cause (a value over quota, say): the group is split in
   * halves written apart, down to single callers, so that only the callers
   * whose own write fails see the error, and every other write lands.
   */
  async #commit(group: Pending[], atomic: boolean): Promise<void> {
    let results: WriteResult[]
    try {
      results = await this.#store.write(
        group.flatMap((p) => p.ops),
        { atomic },
      )
    } catch (error) {
      if (group.length === 1) {
        ;(group[0] as Pending).reject(error)
        return
      }
      const half = Math.ceil(group.length / 2)
      await this.#commit(group.slice(0, half), atomic)
      await this.#commit(group.slice(half), atomic)
      return
    }
    let offset = 0
    let woken = 0
    let since = performance.now()
    for (const p of group) {
      p.resolve(results.slice(offset, offset + p.ops.length))
      offset += p.ops.length
      // Work on thousands of jobs woken by one commit must not become one long task:
      // let the woken callers run, and hand the page a turn when they took long.
      woken += weight(p.ops)
      if (woken >= RESOLVE_CHUNK) {
        woken = 0
        for (let hop = 0; hop < 4; hop++) await Promise.resolve()
        if (performance.now() - since > SLICE_MS) {
          await yieldToPage()
          since = performance.now()
        }
      }
    }
  }
}

/** How much waking the caller of `ops` costs: a job each, a log line each. */
function weight(ops: readonly WriteOp[]): number {
  let total = 0
  for (const op of ops) total += op.op === 'log' ? op.entries.length : 1
  return total
}

function takeWhile<T>(items: T[], test: (item: T) => boolean): T[] {
  const out: T[] = []
  for (const item of items) {
    if (!test(item)) break
    out.push(item)
  }
  return out
}

/**
 * The writes of one runner: every op fenced with its token (see `claim` in store.ts).
 * Once the store refuses one (another tab or process took the runner place), the
 * runner has lost: `onLost` runs, and no write of this runner settles any more, so
 * nothing of its code after a refused write runs (it is torn down meanwhile).
 */
export class FencedWriter implements Writer {
  #committer: Committer
  #token: string
  #onLost: () => void
  #lost = false

  constructor(committer: Committer, token: string, onLost: () => void) {
    this.#committer = committer
    this.#token = token
    this.#onLost = onLost
  }

  /** The runner token its ops are fenced with. */
  get token(): string {
    return this.#token
  }

  /** Whether the store refused this runner's writes. */
  get lost(): boolean {
    return this.#lost
  }

  /** This runner stopped (its place was lost some other way): nothing more goes out. */
  lose(): void {
    this.#lost = true
  }

  async write(ops: WriteOp[], options?: { atomic?: boolean }): Promise<WriteResult[]> {
    if (this.#lost) return never()
    const results = await this.#committer.write(
      ops.map((op) => ({ ...op, fence: this.#token })),
      options,
    )
    if (!this.#lost && !results.some((r) => !r.ok && r.reason === 'fenced')) return results
    if (!this.#lost) {
      this.#lost = true
      this.#onLost()
    }
    return never()
  }

  settled(): Promise<void> {
    return this.#committer.settled()
  }
}

/** A promise that never settles: what a runner that lost its place waits for. */
function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined)
}
