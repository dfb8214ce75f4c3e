/**
 * The Store contract suite, written once: every case idbStore, memoryStore and
 * sqliteStore pass, registered with the test functions the caller gives, so that a
 * store of your own can prove it keeps jobs as the queue expects.
 */
import type { Store } from '../store.js'
import { createKit, type StoreContractApi, type StoreContractOptions } from './kit.js'
import { groupCases } from './groups.js'
import { listCases } from './lists.js'
import { readCases } from './reads.js'
import { runnerCases } from './runner-side.js'
import { writeCases } from './writes.js'

/**
 * Registers the Store contract's cases (about 70) with your test runner: inserts, keys,
 * atomic batches, conditional puts, values that cannot be stored, results, logs, errors,
 * counts, list and its paging, pending, scan, expired, schedules, dependents; and, when
 * the store has them, durable steps (`steps`), fencing (`fencing: true`), releases
 * (`releases`) and group settings (`groups`). Each case opens a fresh store from `makeStore` under a queue name of its
 * own and closes it after; `makeStore` is also called once at registration, to read which
 * optional parts the store has (that store is never opened). Cases must run one at a time.
 *
 * Values are expected to come back as structured clones (a `Map`, a `Date`, a
 * `Uint8Array`), and a value that cannot be cloned (a function) to be refused with
 * `uncloneable`, as `structuredClone` does.
 *
 * @param makeStore - returns a new, unopened store each call
 * @param api - your test runner's `describe`, `it` and `expect`
 * @param options - a timeout per case, and the prefix of the queue names the cases open
 *
 * @example
 * ```ts
 * // my-store.test.ts (Vitest; Jest's and Bun's describe/it/expect work the same)
 * import { describe, expect, it } from 'vitest'
 * import { runStoreContract } from 'offthread/store'
 * import { myStore } from '../src/my-store'
 *
 * describe('myStore conforms to the Store contract', () => {
 *   runStoreContract(() => myStore({ url: 'memory:' }), { describe, it, expect }, { timeout: 20_000 })
 * })
 * ```
 */
export function runStoreContract(makeStore: () => Store, api: StoreContractApi, options: StoreContractOptions = {}): void {
  const kit = createKit(makeStore, api, options)
  writeCases(kit)
  readCases(kit)
  listCases(kit)
  runnerCases(kit)
  groupCases(kit)
}
