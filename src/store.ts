/**
 * offthread/store: for writing a store of your own. The `Store` interface a queue
 * keeps its jobs behind, the records it reads and writes, and the Store contract
 * suite, which registers with your test runner the cases `idbStore`, `memoryStore`
 * and `sqliteStore` pass. A page needs none of this: `createQueue`, `idbStore` and
 * `memoryStore` are in `offthread`.
 *
 * @example
 * ```ts
 * import type { JobRecord, Store, StoredJob, WriteOp, WriteResult } from 'offthread/store'
 * import { runStoreContract } from 'offthread/store'
 * import { describe, expect, it } from 'vitest'
 *
 * class KvStore implements Store {
 *   readonly kind = 'kv'
 *   // open, close, write, get, getFull, getData, list, counts, pending, schedules,
 *   // debounced, dependents, scan, logs, errors, expired
 * }
 *
 * describe('KvStore', () => runStoreContract(() => new KvStore(), { describe, it, expect }))
 * ```
 *
 * @packageDocumentation
 */
export type { JobRecord, ScheduleRecord, Store, StoredJob, StoredReleases, WriteOp, WriteResult } from './store/store.js'
export type { ReleaseRecord } from './shared/release.js'
export type { ErrorRecord, JobStatus, ListOptions, LogEntry, SerializedError } from './shared/types.js'
export { runStoreContract } from './store/contract/contract.js'
/** The step id under which a store keeps signal `name` of a job (the `signal` write op). */
export { signalStep } from './shared/waits.js'
export type { ContractMatchers, StoreContractApi, StoreContractOptions } from './store/contract/kit.js'
export { idbStore } from './store/idb-store.js'
export { memoryStore } from './store/memory-store.js'
