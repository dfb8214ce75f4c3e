/**
 * The Store contract (src/store/contract/, shipped as `runStoreContract` in offthread/store)
 * on memoryStore, idbStore (fake-indexeddb) and, where the runtime has SQLite, sqliteStore
 * (test/node/sqlite-runtimes.test.ts runs this file in Deno and Bun too); and idbStore's schema.
 */
import 'fake-indexeddb/auto'
import { afterEach, describe, expect, it } from 'vitest'
import { idbStore } from '../../src/store/idb-store.js'
import { memoryStore } from '../../src/store/memory-store.js'
import { runStoreContract } from '../../src/store/contract/contract.js'
import type { Store } from '../../src/store/store.js'
import { storesUnderTest } from './helpers/stores.js'

let counter = 0
const open: Store[] = []

afterEach(async () => {
  await Promise.all(open.splice(0).map((store) => store.close()))
})

for (const [kind, create] of storesUnderTest({ memoryStore, idbStore })) {
  describe(`${kind} conforms to the Store interface`, () => runStoreContract(create, { describe, it, expect }))
}

describe('idbStore schema', () => {
  it('has the object stores jobs, data, logs, errors, meta, schedules and steps, and no results store', async () => {
    const queue = `store-schema-${++counter}-${Date.now()}`
    const store = idbStore({ prefix: 'schema-test:' })
    await store.open(queue)
    open.push(store)
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(`schema-test:${queue}`)
      request.onsuccess = () => resolve(request.result)
      request.onerror = () => reject(request.error)
    })
    try {
      expect([...db.objectStoreNames].sort()).toEqual(['data', 'errors', 'jobs', 'logs', 'meta', 'schedules', 'steps'])
    } finally {
      db.close()
    }
  })
})
