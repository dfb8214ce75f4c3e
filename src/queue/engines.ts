/**
 * The engines behind a queue's facade, built in the order they need one another: each
 * is given, where it is made, exactly what it uses. Two links point forward and are
 * bound late: a live handle's `cancel` goes through the tabs (made after the handles),
 * and the releases and the tabs reach the runner's seat (made last).
 *
 * This module, and all it imports that the facade does not (the store, the engines, the
 * seat), is a chunk of its own: the facade (queue.ts) imports it dynamically as it is
 * made, so that `createQueue` returns before any of it has loaded ({@link makeCore}).
 */
import { Retention } from '../runner/retention.js'
import { Committer } from '../store/committer.js'
import { deferredStore } from '../store/deferred-store.js'
import { idbStore } from '../store/idb-store.js'
import type { Store } from '../store/store.js'
import type { Emitter } from '../shared/events.js'
import type { QueueEvents } from '../shared/types.js'
import { Channel } from '../tabs/channel.js'
import { Changes } from './changes.js'
import { Closing } from './closing.js'
import { Inserter } from './insert.js'
import { LiveHandles } from './live-handles.js'
import type { ResolvedQueueOptions } from './options.js'
import { Releases } from './releases.js'
import { Tabs } from './remote.js'
import { Schedules } from './schedules.js'
import { Reads, storageFigures } from './reads.js'
import { Seat } from './seat.js'
import { Signals } from './signals.js'
import type { QueueState } from './state.js'

/** What every engine may use: the queue's own parts. */
export interface QueueBase {
  readonly options: ResolvedQueueOptions
  readonly store: Store
  readonly committer: Committer
  readonly state: QueueState
  readonly events: Emitter<QueueEvents>
  readonly channel: Channel
}

/** A queue's engines. */
export interface Engines {
  readonly handles: LiveHandles
  readonly changes: Changes
  readonly retention: Retention
  readonly releases: Releases
  readonly inserter: Inserter
  readonly schedules: Schedules
  readonly tabs: Tabs
  readonly seat: Seat
  readonly reads: Reads
  readonly signals: Signals
}

/** What the facade holds itself, made before the rest of the queue has loaded. */
export type QueueParts = Pick<QueueBase, 'options' | 'state' | 'events'>

/** The rest of a queue: its store, committer, channel, engines, and its close. */
export interface Core extends Engines {
  readonly store: Store
  readonly committer: Committer
  readonly closing: Closing
  /** What the browser says of this origin's storage (reads.ts). */
  storage(): ReturnType<typeof storageFigures>
}

/**
 * Makes the rest of a queue around the facade's parts.
 *
 * @param leave - the queue leaves its name in the page once closed (open-queues.ts)
 */
export function makeCore(parts: QueueParts, leave: () => void): Core {
  const store = parts.options.store ?? defaultStore()
  const base: QueueBase = { ...parts, store, committer: new Committer(store), channel: new Channel(parts.options.name) }
  const engines = makeEngines(base)
  return { ...engines, store, committer: base.committer, closing: new Closing({ ...base, ...engines, leave }), storage: storageFigures }
}

/** Builds a queue's engines (the seat reads `state.started` when this tab becomes the runner). */
export function makeEngines(base: QueueBase): Engines {
  const { options, store, committer, state, events, channel } = base
  // `tabs` and `seat` are bound late (see the module's comment): made below, called only once made.
  const handles: LiveHandles = new LiveHandles({ store, state, remote: { cancel: (id, reason): Promise<boolean> => tabs.cancel(id, reason) } })
  const changes: Changes = new Changes(handles, events, channel)
  const retention = new Retention(
    store,
    committer,
    options.retention,
    (error) => state.report(error),
    (ids) => changes.removed(ids, 'here'),
  )
  const releases = new Releases({
    ...base,
    handOver: (reason) => void seat.handOver(reason).catch((error: unknown) => state.report(error as Error)),
  })
  const inserter = new Inserter({ ...base, changes, handles, releases })
  const schedules = new Schedules({ ...base, releases, inserter })
  const tabs: Tabs = new Tabs({ ...base, changes, handles, schedules, releases, givenUp: (ids) => seat.givenUp(ids) }, channel)
  const seat: Seat = new Seat({
    ...base,
    changes,
    handles,
    releases,
    schedules,
    retention,
  })
  const reads = new Reads({ ...base, handles, changes })
  const signals = new Signals({ ...base, changes })
  return { handles, changes, retention, releases, inserter, schedules, tabs, seat, reads, signals }
}

/**
 * The store of a queue made without one: IndexedDB's; where IndexedDB is missing (Deno,
 * Bun, Node), memoryStore, imported then, so that a page's bundle never carries it.
 */
export function defaultStore(): Store {
  return typeof indexedDB !== 'undefined'
    ? idbStore()
    : deferredStore('memory', async () => (await import('../store/memory-store.js')).memoryStore(), true)
}
