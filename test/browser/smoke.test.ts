import { wrap, releaseProxy } from 'comlink'
import { deleteDB, openDB } from 'idb'
import { describe, expect, it } from 'vitest'
import { server } from 'vitest/browser'
import type { EchoApi } from './fixtures/echo.worker.ts'
import { watchMainThread } from './fixtures/main-thread.js'

/** What each project's browser says it is: the engine really is the one the project is named after. */
const USER_AGENT: Record<string, RegExp> = {
  chromium: /Chrome\/\d+/,
  firefox: /Gecko\/\d+ Firefox\/\d+/,
  // WebKitGTK's MiniBrowser: Safari's engine, with Safari's user agent shape.
  safari: /AppleWebKit\/\d+.*Safari\/\d+/,
}

describe('browser smoke', () => {
  it('runs in the engine its project names', () => {
    expect(Object.keys(USER_AGENT)).toContain(server.browser)
    expect(navigator.userAgent).toMatch(USER_AGENT[server.browser]!)
    if (server.browser !== 'chromium') expect(navigator.userAgent).not.toMatch(/Chrome\//)
  })

  it('the main-thread watch of the long-task tests sees a 300 ms block in this engine', async () => {
    const watch = watchMainThread({ longTask: 100, timerGap: 250 })
    await new Promise((resolve) => setTimeout(resolve, 20))
    const until = performance.now() + 300
    while (performance.now() < until) {
      // hold the main thread
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
    const blocks = watch.stop()
    expect(blocks.length, `${watch.how}: ${blocks.join(', ')}`).toBeGreaterThanOrEqual(1)
    expect(Math.max(...blocks)).toBeGreaterThanOrEqual(290)
  })

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
