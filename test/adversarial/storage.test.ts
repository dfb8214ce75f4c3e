/**
 * Storage under stress: a job too big for IndexedDB, and the database deleted
 * under an open queue. Errors carry the browser's real reason; other callers
 * of the same turn are not harmed.
 */
import { deleteDB } from 'idb'
import { describe, expect, it } from 'vitest'
import { makeQueue } from '../browser/fixtures/queue.js'
import { delay, within } from './fixtures/queue.js'

describe('adversarial storage', () => {
  it('a job whose data is 200 MB: either stored, or refused with the browser’s real reason; other adds of the turn succeed', async () => {
    const queue = makeQueue({ autostart: false })
    let big: ArrayBuffer | undefined
    try {
      big = new ArrayBuffer(200 * 1024 * 1024)
    } catch {
      big = undefined
    }
    expect(big, 'the page could allocate 200 MB').toBeDefined()
    const errors: Error[] = []
    queue.on('error', (e) => errors.push(e))
    const bigAdd = queue.add('echo', { big })
    const small = Array.from({ length: 10 }, (_, i) => queue.add('echo', i))
    const settled = await within(15_000, 'adds next to a 200 MB add', Promise.allSettled([bigAdd, ...small]))
    const first = settled[0]
    const firstText = first.status === 'rejected' ? `refused with ${String(first.reason)}` : 'stored'
    const smallRejected = settled.slice(1).filter((s) => s.status === 'rejected')
    expect(
      smallRejected.map((s) => String(s.reason)),
      `small adds next to the 200 MB one (which was ${firstText}) must succeed`,
    ).toEqual([])
    if (first.status === 'rejected') {
      // Refused: the error must carry the browser's reason, not a bare "AbortError".
      const reason = first.reason as Error
      expect(reason.message).not.toBe('AbortError')
      expect(reason.message.length).toBeGreaterThan(20)
      expect(`${reason.name}: ${reason.message}`).not.toMatch(/^AbortError: (AbortError)?$/)
      expect((await queue.counts()).waiting).toBe(10)
    } else {
      // Chromium accepted it (headless, enough quota): it is stored and listed without its data.
      expect((await queue.counts()).waiting).toBe(11)
    }
  }, 30_000)

  it('the database deleted under an open queue: the next add reopens it and the job runs', async () => {
    const queue = makeQueue()
    await (await queue.add('echo', 'before')).result()
    const deleting = deleteDB(`offthread:${queue.name}`)
    await within(3000, 'deleteDB (must not be blocked by the open queue)', deleting)
    await delay(50)
    const job = await within(3000, 'add after the deletion', queue.add('echo', 'after'))
    await expect(within(3000, 'the job after the deletion', job.result())).resolves.toBe('after')
  })
})
