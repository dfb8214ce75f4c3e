import { openDB } from 'idb'
import { describe, expect, it } from 'vitest'
import { idbStore } from '../../src/index.js'
import { SCHEMA_VERSION } from '../../src/store/idb-store.js'
import { makeQueue } from './fixtures/queue.js'

describe('IndexedDB storage (Chromium)', () => {
  it('stores the schema version in the database', async () => {
    const queue = makeQueue({ autostart: false })
    await queue.add('double', 1)
    const db = await openDB(`offthread:${queue.name}`)
    try {
      expect(db.version).toBe(SCHEMA_VERSION)
      expect([...db.objectStoreNames].sort()).toEqual(['data', 'errors', 'jobs', 'logs', 'meta', 'schedules'])
    } finally {
      db.close()
    }
  })

  it('another tab upgrading the database is not blocked: the store closes, and says why on its next call', async () => {
    const queue = makeQueue({ autostart: false })
    await queue.add('double', 1)
    let blocked = false
    const upgraded = await openDB(`offthread:${queue.name}`, SCHEMA_VERSION + 1, {
      blocked: () => (blocked = true),
    })
    expect(blocked).toBe(false)
    upgraded.close()
    const error = (await queue.counts().catch((e: unknown) => e)) as Error
    expect(error.message).toMatch(/upgraded by a newer version/)
  })

  it('another tab deleting the database is not blocked, and the queue starts afresh', async () => {
    const queue = makeQueue({ autostart: false })
    await queue.add('double', 1)
    const deleted = await new Promise<string>((resolve) => {
      const request = indexedDB.deleteDatabase(`offthread:${queue.name}`)
      request.onblocked = () => resolve('blocked')
      request.onsuccess = () => resolve('deleted')
    })
    expect(deleted).toBe('deleted')
    expect((await queue.counts()).waiting).toBe(0)
    await queue.add('double', 2)
    expect((await queue.counts()).waiting).toBe(1)
  })

  it('durability can be set to strict', async () => {
    const queue = makeQueue({ store: idbStore({ durability: 'strict' }) })
    await expect(queue.add('double', 2).then((j) => j.result())).resolves.toBe(4)
  })
})
