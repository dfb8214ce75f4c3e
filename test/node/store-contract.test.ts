/**
 * offthread/store as a store author uses it: `runStoreContract` from the built package
 * (dist/store.js), given Vitest's describe/it/expect, on the built memoryStore. (The same
 * suite from src/ runs on every store in test/node/store.test.ts, and on idbStore over
 * each engine's IndexedDB in test/browser/conformance.test.ts.)
 */
import { describe, expect, it } from 'vitest'
import { ensureDist } from './helpers/ensure-dist.js'

await ensureDist()
const { runStoreContract, memoryStore } = (await import(new URL('../../dist/store.js', import.meta.url).href)) as typeof import('../../src/store.js')

describe('offthread/store (dist): runStoreContract on memoryStore', () => {
  runStoreContract(memoryStore, { describe, it, expect }, { prefix: 'dist-contract-' })
})
