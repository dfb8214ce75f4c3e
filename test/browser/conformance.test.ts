/**
 * The conformance suite in each browser engine: the sources through Vite, module Web
 * Workers, memoryStore (the same cases Node, Deno and Bun run on dist/). And the Store
 * contract (offthread/store's `runStoreContract`) on idbStore over the engine's own
 * IndexedDB, as a third-party store would run it.
 */
import { describe, expect, it } from 'vitest'
import * as lib from '../../src/index.js'
import { runStoreContract } from '../../src/store.js'
import { conformanceCases } from '../conformance/suite.js'
import { expectAssert } from '../conformance/expect-assert.js'

let count = 0
const makeQueue = (options: object = {}) =>
  lib.createQueue({
    name: `conformance-browser-${Date.now()}-${++count}`,
    store: lib.memoryStore(),
    worker: () => new Worker(new URL('../conformance/tasks.worker.js', import.meta.url), { type: 'module' }),
    ...options,
  })

describe('conformance (module Web Workers)', () => {
  for (const { name, run } of conformanceCases({ lib, makeQueue, assert: expectAssert })) it(name, run)
})

describe('idbStore conforms to the Store contract (this engine’s IndexedDB)', () => {
  runStoreContract(() => lib.idbStore({ prefix: 'store-contract:' }), { describe, it, expect })
})
