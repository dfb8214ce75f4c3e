import { wrap, releaseProxy } from 'comlink'
import { deleteDB, openDB } from 'idb'
import { describe, expect, it } from 'vitest'
import type { EchoApi } from './fixtures/echo.worker.ts'

describe('browser smoke (Chromium)', () => {
  it('uses real IndexedDB: put then get', async () => {
    expect(typeof indexedDB).toBe('object')
    const name = `smoke-browser-${Date.now()}`
    const db = await openDB(name, 1, {
      upgrade(d) {
        d.createObjectStore('kv')
      },
    })
    await db.put('kv', { hello: 'world' }, 'k1')
    expect(await db.get('kv', 'k1')).toEqual({ hello: 'world' })
    db.close()
    await deleteDB(name)
  })

  it('runs a TypeScript module worker and talks to it via Comlink', async () => {
    const worker = new Worker(new URL('./fixtures/echo.worker.ts', import.meta.url), {
      type: 'module',
    })
    const remote = wrap<EchoApi>(worker)
    try {
      expect(await remote.echo('hi')).toBe('echo: hi')
      expect(await remote.isWorker()).toBe(true)
    } finally {
      remote[releaseProxy]()
      worker.terminate()
    }
  })
})
