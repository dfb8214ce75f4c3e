import { openDB } from 'idb'
import { describe, expect, it } from 'vitest'
import { idbStore } from '../../src/index.js'
import { JOB_INDEXES } from '../../src/store/idb-schema.js'
import { SCHEMA_VERSION } from '../../src/store/idb-store.js'
import { makeQueue } from './fixtures/queue.js'

describe('IndexedDB storage', () => {
  it('stores the schema version in the database', async () => {
    const queue = makeQueue({ autostart: false })
    await queue.add('double', 1)
    const db = await openDB(`offthread:${queue.name}`)
    try {
      expect(db.version).toBe(SCHEMA_VERSION)
      expect([...db.objectStoreNames].sort()).toEqual(['data', 'errors', 'jobs', 'logs', 'meta', 'schedules', 'steps'])
    } finally {
      db.close()
    }
  })

  it('a database of schema 1 (before the list indexes) is upgraded in place: its jobs are kept and listed by name and status', async () => {
    // Jobs as schema 2 stores them, copied into a schema 1 database made as offthread 0.1 made it.
    const source = makeQueue({ autostart: false })
    await source.addBulk([
      { name: 'double', data: 1 },
      { name: 'echo', data: 'e' },
      { name: 'double', data: 2 },
    ])
    const dbName = `offthread:${source.name}`
    const old = await openDB(dbName)
    const [rows, seq] = [await old.getAll('jobs'), await old.get('meta', 'seq')]
    old.close()
    // Schema 1 kept every job's data in the data store (schema 5 keeps small data in the row).
    const data = rows.map(({ input }: { input?: unknown }) => input)
    const keys = rows.map(({ id }: { id: string }) => id)
    for (const row of rows) delete (row as { input?: unknown }).input
    await source.close()
    await new Promise((resolve) => (indexedDB.deleteDatabase(dbName).onsuccess = resolve))
    const v1 = await openDB(dbName, 1, {
      upgrade(db) {
        const jobs = db.createObjectStore('jobs', { keyPath: 'id' })
        for (const [since, name, keyPath, options] of JOB_INDEXES) if (since === 1) jobs.createIndex(name, keyPath, options)
        for (const name of ['data', 'logs', 'errors', 'meta']) db.createObjectStore(name)
        db.createObjectStore('schedules', { keyPath: 'id' })
      },
    })
    for (const row of rows) await v1.put('jobs', row)
    for (const [i, key] of keys.entries()) await v1.put('data', data[i], key)
    await v1.put('meta', seq, 'seq')
    v1.close()

    const queue = makeQueue({ name: source.name, autostart: false })
    expect((await queue.list({ name: 'double', data: true })).map((j) => j.data)).toEqual([2, 1])
    expect((await queue.list({ status: 'waiting', name: 'echo' })).map((j) => j.name)).toEqual(['echo'])
    expect(await queue.counts()).toMatchObject({ waiting: 3 })
    const db = await openDB(dbName)
    expect(db.version).toBe(SCHEMA_VERSION)
    expect([...db.transaction('jobs').store.indexNames]).toEqual(expect.arrayContaining(['name', 'statusName']))
    db.close()
  })

  it("list(), getJob() and result() never read a job's data; handle.data() and list({ data: true }) do", async () => {
    const writer = makeQueue()
    // Data too large to live in the job's record (small data does: see the next test).
    const input = 'x'.repeat(2000)
    const big = await writer.add('echo', input)
    await big.result()
    // Every object store a transaction of this page opens, from here on.
    const opened: string[] = []
    const transaction = IDBDatabase.prototype.transaction
    IDBDatabase.prototype.transaction = function (this: IDBDatabase, names: string | string[], ...rest: unknown[]) {
      opened.push(...([] as string[]).concat(names))
      return (transaction as (...args: unknown[]) => IDBTransaction).call(this, names, ...rest)
    } as typeof transaction
    try {
      // A fresh queue on the same database: no handle in memory, as after a reload.
      const reader = makeQueue({ name: writer.name, worker: undefined })
      expect((await reader.list()).map((j) => j.id)).toEqual([big.id])
      const handle = await reader.getJob<number>(big.id)
      await expect(handle!.result()).resolves.toBe(input)
      await handle!.refresh()
      expect(opened).not.toContain('data')
      await expect(handle!.data()).resolves.toBe(input)
      expect(opened).toContain('data')
      opened.length = 0
      expect((await reader.list({ data: true }))[0]).toMatchObject({ data: input, result: input })
      expect(opened).toContain('data')
    } finally {
      IDBDatabase.prototype.transaction = transaction
    }
  })

  it("small data lives in its job's record (one put per insert), large data in the data store; both reach the worker, survive every state change and read back on a fresh queue", async () => {
    const writer = makeQueue()
    const small = { n: 21, tags: ['a'] }
    const large = { text: 'y'.repeat(2000) }
    const [a, b, c] = await writer.addBulk([
      { name: 'echo', data: small },
      { name: 'echo', data: large },
      { name: 'echo', data: undefined },
    ])
    const db = await openDB(`offthread:${writer.name}`)
    try {
      const stored = async (id: string): Promise<[Record<string, unknown>, unknown]> => [await db.get('jobs', id), await db.get('data', id)]
      const [rowA, dataA] = await stored(a.id)
      expect(rowA).toMatchObject({ input: small })
      expect(dataA).toBeUndefined()
      const [rowB, dataB] = await stored(b.id)
      expect(rowB).not.toHaveProperty('input')
      expect(dataB).toEqual(large)
      const [rowC] = await stored(c.id)
      expect(rowC).toHaveProperty('input', undefined)
      expect(await Promise.all([a.result(), b.result(), c.result()])).toEqual([small, large, undefined])
      // Carried over by the writes of running and completed.
      expect(await db.get('jobs', a.id)).toMatchObject({ status: 'completed', input: small, result: small })
    } finally {
      db.close()
    }
    // As after a reload: nothing in memory.
    const reader = makeQueue({ name: writer.name, worker: undefined })
    const handles = await Promise.all([a, b, c].map((h) => reader.getJob(h.id)))
    expect(await Promise.all(handles.map((h) => h!.data()))).toEqual([small, large, undefined])
    expect(new Map((await reader.list({ data: true })).map((j) => [j.id, j.data]))).toEqual(
      new Map<string, unknown>([
        [a.id, small],
        [b.id, large],
        [c.id, undefined],
      ]),
    )
    for (const job of await reader.list()) expect(job).not.toHaveProperty('input')
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

  it('a storage failure surfaces with the browser’s own name and message, not a bare AbortError', async () => {
    const queue = makeQueue({ autostart: false })
    const first = await queue.add('double', 1)
    // Wind the stored sequence back, as a database recreated under the queue would: the next insert collides.
    const db = await openDB(`offthread:${queue.name}`)
    await db.put('meta', 0, 'seq')
    db.close()
    const error = await queue.add('double', 2).then(
      () => undefined,
      (e: unknown) => e as DOMException,
    )
    expect(error?.name).toBe('ConstraintError')
    expect(error?.message).not.toBe('ConstraintError')
    expect(error?.message.length).toBeGreaterThan(10)
    // The job before it is untouched, and nothing half-written stays.
    expect((await queue.counts()).waiting).toBe(1)
    expect((await queue.getJob(first.id))?.status).toBe('waiting')
  })

  /** Runs `fn` while recording the `durability` every readwrite transaction of the page asks for. */
  async function durabilities(fn: () => Promise<void>): Promise<Array<string | undefined>> {
    const seen: Array<string | undefined> = []
    const original = IDBDatabase.prototype.transaction
    IDBDatabase.prototype.transaction = function (this: IDBDatabase, names, mode, options) {
      if (mode === 'readwrite') seen.push(options?.durability)
      return original.call(this, names, mode, options)
    } as typeof original
    try {
      await fn()
    } finally {
      IDBDatabase.prototype.transaction = original
    }
    return seen
  }

  it("durability: 'strict' reaches IndexedDB: every write of the queue asks for a strict commit", async () => {
    const seen = await durabilities(async () => {
      const queue = makeQueue({ store: idbStore({ durability: 'strict' }) })
      await expect(queue.add('double', 2).then((j) => j.result())).resolves.toBe(4)
    })
    // The insert, `running`, and the outcome at least: each one flushed to disk before it resolves.
    expect(seen.length).toBeGreaterThanOrEqual(3)
    expect(new Set(seen)).toEqual(new Set(['strict']))
  })

  it("durability: 'relaxed' and the default reach IndexedDB as asked", async () => {
    const relaxed = await durabilities(async () => {
      const queue = makeQueue({ store: idbStore({ durability: 'relaxed' }) })
      await queue.add('double', 2).then((j) => j.result())
    })
    expect(new Set(relaxed)).toEqual(new Set(['relaxed']))
    const plain = await durabilities(async () => {
      const queue = makeQueue({ store: idbStore() })
      await queue.add('double', 2).then((j) => j.result())
    })
    expect(new Set(plain)).toEqual(new Set(['default']))
  })
})
