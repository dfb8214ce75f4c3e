import 'fake-indexeddb/auto'
import { openDB, type DBSchema } from 'idb'
import { describe, expect, it } from 'vitest'

interface SmokeDB extends DBSchema {
  kv: { key: string; value: { id: string; n: number } }
}

describe('node smoke: fake-indexeddb + idb', () => {
  it('opens a database, puts and gets a record', async () => {
    const db = await openDB<SmokeDB>('smoke-node', 1, {
      upgrade(d) {
        d.createObjectStore('kv', { keyPath: 'id' })
      },
    })
    await db.put('kv', { id: 'a', n: 42 })
    expect(await db.get('kv', 'a')).toEqual({ id: 'a', n: 42 })
    expect(await db.get('kv', 'missing')).toBeUndefined()
    expect(await db.count('kv')).toBe(1)
    db.close()
  })
})
