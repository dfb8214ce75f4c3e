import { openDB } from 'idb'
import { describe, expect, it } from 'vitest'
import { idbStore, StorageBlockedError } from '../../src/index.js'
import { delay, makeQueue } from './fixtures/queue.js'
import '../../src/inspector.js'

// The Page Lifecycle events as the browser fires them before it freezes a page, or puts it
// in the back/forward cache; dispatched by hand (a test page is never frozen for real).
const freeze = (): boolean => document.dispatchEvent(new Event('freeze'))
const resume = (): boolean => document.dispatchEvent(new Event('resume'))

/**
 * Holds a readwrite transaction of the queue's database open for `ms` (a request chained on
 * each success, as a page frozen between two requests would hold it), then lets it commit.
 */
async function holdDatabase(name: string, ms: number): Promise<void> {
  const db = await openDB(`offthread:${name}`)
  const tx = db.transaction(['jobs', 'meta'], 'readwrite')
  const meta = tx.objectStore('meta')
  const until = performance.now() + ms
  await new Promise<void>((resolve) => {
    const again = (): void => {
      if (performance.now() >= until) return resolve()
      void meta.get('seq').then(again)
    }
    again()
  })
  await tx.done
  db.close()
}

describe('page lifecycle: a frozen page holds nothing another tab waits for', () => {
  it('calls that wait on a database held elsewhere fire StorageBlockedError once, and again when it clears', async () => {
    const queue = makeQueue({ store: idbStore({ blockedAfter: 300 }), autostart: false })
    await queue.add('double', 1)
    const seen: Array<{ name: string; blocked: boolean; code?: string }> = []
    queue.on('error', (error) => {
      if (error instanceof StorageBlockedError) seen.push({ name: error.name, blocked: error.blocked, code: error.code })
    })
    const held = holdDatabase(queue.name, 1200)
    await delay(50)
    const counts = queue.counts()
    await expect.poll(() => seen.length, { timeout: 3000 }).toBe(1)
    expect(seen[0]).toEqual({ name: 'StorageBlockedError', blocked: true, code: 'ERR_STORAGE_BLOCKED' })
    await held
    expect((await counts).waiting).toBe(1)
    await expect.poll(() => seen.map((e) => e.blocked)).toEqual([true, false])
  })

  it('the inspector shows while the database is held elsewhere', async () => {
    const queue = makeQueue({ store: idbStore({ blockedAfter: 300 }), autostart: false })
    await queue.add('double', 1)
    const el = document.createElement('offthread-inspector') as HTMLElement & { queue: unknown }
    el.queue = queue
    document.body.append(el)
    try {
      const banner = (): string => ((el.shadowRoot?.querySelector('.blocked') as HTMLElement | null)?.hidden === false ? 'shown' : 'hidden')
      await delay(100)
      expect(banner()).toBe('hidden')
      const held = holdDatabase(queue.name, 1200)
      await delay(50)
      const counts = queue.counts()
      await expect.poll(banner, { timeout: 3000 }).toBe('shown')
      expect(el.shadowRoot?.querySelector('.blocked')?.textContent).toMatch(/another tab holds the database/)
      await held
      await counts
      await expect.poll(banner).toBe('hidden')
    } finally {
      el.remove()
    }
  })

  it('a runner on freeze gives its place up at once and, resumed, waits in line; a write aborted by the freeze lands after resume, once', async () => {
    // Every completed job kept (retention would delete all but the newest 1,000).
    const runner = makeQueue({ retention: { completed: false } })
    const other = makeQueue({ name: runner.name, retention: { completed: false } })
    await runner.counts()
    await other.counts()
    expect([runner.role, other.role]).toEqual(['runner', 'follower'])
    const roles: string[] = []
    runner.on('role', (role) => roles.push(role))
    // A big atomic write in flight when the page freezes: its transaction is aborted, and written again after resume.
    const bulk = runner.addBulk(Array.from({ length: 2000 }, (_, i) => ({ name: 'double' as const, data: i })))
    await delay(1)
    freeze()
    expect(runner.role).toBe('follower')
    expect(roles).toEqual(['follower'])
    let settled = false
    void bulk.finally(() => (settled = true))
    await delay(200)
    // Nothing of this page writes while it is frozen.
    expect(settled).toBe(false)
    resume()
    const handles = await bulk
    expect(handles).toHaveLength(2000)
    expect(new Set(handles.map((h) => h.id)).size).toBe(2000)
    // One of the two queues (tabs) runs again; every job is stored once and completes.
    await expect.poll(() => [runner.role, other.role].filter((r) => r === 'runner').length).toBe(1)
    await expect.poll(async () => (await runner.counts()).completed, { timeout: 15_000 }).toBe(2000)
    expect(await runner.counts()).toMatchObject({ waiting: 0, running: 0, failed: 0 })
  })

  it('jobs a runner gives up on freeze run again with no interruption counted: three freezes fail none of them', async () => {
    const runner = makeQueue({ retention: { completed: false } })
    const other = makeQueue({ name: runner.name, retention: { completed: false } })
    await runner.counts()
    await other.counts()
    const handles = await runner.addBulk(Array.from({ length: 6 }, () => ({ name: 'sleep' as const, data: 400 })))
    for (let i = 0; i < 3; i++) {
      // The oldest two run (the same two each time: the oldest go first after a takeover) when the page freezes.
      await expect.poll(async () => (await runner.counts()).running, { timeout: 5000 }).toBe(2)
      freeze()
      await delay(50)
      resume()
      await expect.poll(() => [runner.role, other.role].filter((r) => r === 'runner').length, { timeout: 5000 }).toBe(1)
    }
    await expect.poll(async () => (await runner.counts()).completed, { timeout: 15_000 }).toBe(6)
    expect(await runner.counts()).toMatchObject({ failed: 0, waiting: 0, running: 0 })
    for (const handle of handles) expect((await handle.errors()).map((e) => e.name)).toEqual([])
  })

  it('pagehide with persisted (the back/forward cache) does what freeze does; pageshow resumes', async () => {
    const queue = makeQueue()
    await queue.counts()
    expect(queue.role).toBe('runner')
    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }))
    expect(queue.role).toBe('follower')
    const added = queue.add('double', 21)
    await delay(100)
    window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))
    await expect((await added).result()).resolves.toBe(42)
    expect(queue.role).toBe('runner')
    // A pagehide that does not enter the cache (a real unload) changes nothing here.
    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }))
    expect(queue.role).toBe('runner')
  })
})
