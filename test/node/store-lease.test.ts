import { afterEach, describe, expect, it, vi } from 'vitest'
import { StoreLease } from '../../src/tabs/store-lease.js'
import { memoryStore } from '../../src/store/memory-store.js'
import type { Store } from '../../src/store/store.js'

/** A store with a lease as sqliteStore keeps it (one holder, an expiry), and a log of the calls. */
function leasingStore(): Store & { holder: string | undefined; expires: number; calls: Array<[string, number]>; refuse: boolean } {
  const store = Object.assign(memoryStore(), {
    holder: undefined as string | undefined,
    expires: 0,
    calls: [] as Array<[string, number]>,
    refuse: false,
    async lease(token: string, ttl: number): Promise<boolean> {
      store.calls.push([token, ttl])
      if (ttl === 0) {
        if (store.holder !== token) return false
        store.holder = undefined
        return true
      }
      if (store.refuse) return false
      if (store.holder !== undefined && store.holder !== token && store.expires > Date.now()) return false
      store.holder = token
      store.expires = Date.now() + ttl
      return true
    },
  })
  return store
}

const leases: StoreLease[] = []
afterEach(() => {
  for (const lease of leases.splice(0)) lease.release()
})
const make = (store: Store, ttl: number): StoreLease => {
  const lease = new StoreLease(store, { ttl })
  leases.push(lease)
  return lease
}

describe('StoreLease', () => {
  it('needs a store with lease() and a ttl > 0', () => {
    expect(() => new StoreLease(memoryStore(), { ttl: 100 })).toThrow(TypeError)
    expect(() => new StoreLease(leasingStore(), { ttl: 0 })).toThrow(/ttl/)
  })

  it('takes a free lease at once with a fresh token, and renews it every ttl/3', async () => {
    const store = leasingStore()
    const lease = make(store, 90)
    expect(await lease.acquire(() => undefined)).toBe(true)
    expect(lease.held).toBe(true)
    expect(lease.token).toMatch(/^[\w-]{21}$/)
    expect(store.holder).toBe(lease.token)
    await vi.waitFor(() => expect(store.calls.filter(([, ttl]) => ttl === 90).length).toBeGreaterThanOrEqual(3), { timeout: 1000 })
    expect(store.calls.every(([token]) => token === lease.token)).toBe(true)
  })

  it('a second one waits, polling, and gets the lease (a new token, onAcquire) once the first releases it', async () => {
    const store = leasingStore()
    const first = make(store, 200)
    const second = make(store, 200)
    await first.acquire(() => undefined)
    const acquired = vi.fn()
    expect(await second.acquire(acquired)).toBe(false)
    expect(second.held).toBe(false)
    first.release()
    expect(first.held).toBe(false)
    expect(store.calls).toContainEqual([first.token, 0])
    await vi.waitFor(() => expect(acquired).toHaveBeenCalledTimes(1), { timeout: 1000 })
    expect(second.held).toBe(true)
    expect(store.holder).toBe(second.token)
    expect(second.token).not.toBe(first.token)
  })

  it('takes over a lease that was not renewed, once it expired', async () => {
    const store = leasingStore()
    store.holder = 'gone'
    store.expires = Date.now() + 150
    const lease = make(store, 100)
    const acquired = vi.fn()
    const t0 = Date.now()
    expect(await lease.acquire(acquired)).toBe(false)
    await vi.waitFor(() => expect(acquired).toHaveBeenCalled(), { timeout: 1000 })
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140)
  })

  it('a refused renewal loses the lease: onLost, then it waits in line again with a new token', async () => {
    const store = leasingStore()
    const lease = make(store, 60)
    const lost = vi.fn()
    lease.onLost = lost
    const acquired = vi.fn()
    await lease.acquire(acquired)
    const token = lease.token
    store.refuse = true
    await vi.waitFor(() => expect(lost).toHaveBeenCalledTimes(1), { timeout: 1000 })
    expect(lease.held).toBe(false)
    expect(lease.token).not.toBe(token)
    store.refuse = false
    store.holder = undefined
    await vi.waitFor(() => expect(acquired).toHaveBeenCalledTimes(1), { timeout: 1000 })
    expect(lease.held).toBe(true)
  })

  it('release() stops every timer: no lease call after it but the release itself', async () => {
    const store = leasingStore()
    const waiting = make(store, 60)
    const holding = make(store, 60)
    await holding.acquire(() => undefined)
    await waiting.acquire(() => undefined)
    holding.release()
    waiting.release()
    const calls = store.calls.length
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(store.calls.length).toBe(calls)
    expect(store.holder).toBeUndefined()
  })
})
