import { describe, expect, it } from 'vitest'
import { deleteDB } from 'idb'
import { idbStore } from '../../src/index.js'
import type { Store } from '../../src/store.js'
import { makeQueue } from './fixtures/queue.js'

/** Another runner (a tab that stole the lock, a process that took the lease) claims the store of queue `name`. */
async function anotherRunner(name: string): Promise<Store> {
  const other = idbStore()
  await other.open(name)
  expect(await other.write([{ op: 'claim', token: 'another runner' }])).toEqual([{ ok: true }])
  return other
}

// The fence behind a takeover (see test/e2e/frozen.test.ts for a frozen tab itself):
// once another runner has claimed the store, nothing the old runner sends lands.
describe('a runner whose place was taken writes nothing more', () => {
  it('its outcome is refused; it stops, waits in line, and (alone) runs the job again: one completion', async () => {
    const queue = makeQueue({ concurrency: 1 })
    await queue.counts()
    const roles: string[] = []
    const events: string[] = []
    queue.on('role', (role) => roles.push(role))
    queue.on('started', (_job, attempt) => events.push(`started ${attempt}`))
    queue.on('completed', () => events.push('completed'))
    const job = await queue.add('sleep', 300)
    await expect.poll(() => job.status).toBe('running')
    const other = await anotherRunner(queue.name)
    // The job ends in the worker; its outcome is fenced off: the queue gives its place up.
    await expect.poll(() => roles[0], { timeout: 5_000 }).toBe('follower')
    const [stored] = await other.get([job.id])
    // Still `running`, or `waiting` if the queue has taken its place again already (it counts the job interrupted).
    expect(['running', 'waiting'], 'the refused outcome wrote nothing').toContain(stored?.status)
    await other.close()
    // Nobody else is in line: it takes its place again, finds the job interrupted, and runs it once more.
    await expect(job.result()).resolves.toBe(300)
    expect(roles).toEqual(['follower', 'runner'])
    // Interrupted, not retried: the same attempt runs again, and completes once.
    expect(events).toEqual(['started 1', 'started 1', 'completed'])
  })

  it('a cancel() made in the runner as it loses its place settles: asked again as a follower, the waiting job is cancelled', async () => {
    const queue = makeQueue({ concurrency: 1 })
    await queue.counts()
    const roles: string[] = []
    queue.on('role', (role) => roles.push(role))
    const busy = await queue.add('sleep', 400)
    const waiting = await queue.add('double', 2)
    await expect.poll(() => busy.status).toBe('running')
    const other = await anotherRunner(queue.name)
    // The runner's write of the cancel is fenced off: it loses its place during the call.
    const outcome = await Promise.race([waiting.cancel('no longer wanted'), new Promise((resolve) => setTimeout(() => resolve('hung'), 4_000))])
    expect(outcome).toBe(true)
    expect(roles[0]).toBe('follower')
    expect((await other.get([waiting.id]))[0]?.status).toBe('cancelled')
    await other.close()
    await expect(waiting.result()).rejects.toThrow(/no longer wanted/)
    // Alone in line, it runs again: the busy job (interrupted) completes; the cancelled one never ran.
    await expect(busy.result()).resolves.toBe(400)
  })

  it('a cancel() of a running job in a runner that loses its place settles, and the job ends cancelled', async () => {
    const queue = makeQueue({ concurrency: 1 })
    await queue.counts()
    const busy = await queue.add('sleep', 5_000)
    await expect.poll(() => busy.status).toBe('running')
    const other = await anotherRunner(queue.name)
    const outcome = await Promise.race([busy.cancel('stop it'), new Promise((resolve) => setTimeout(() => resolve('hung'), 4_000))])
    expect(outcome).toBe(true)
    expect((await other.get([busy.id]))[0]?.status).toBe('cancelled')
    await other.close()
    await expect(busy.result()).rejects.toThrow(/stop it/)
  })

  it('a database deleted under a running runner (DevTools): it keeps its place, runs new jobs, and closes', async () => {
    const queue = makeQueue({ concurrency: 1 })
    await queue.counts()
    const roles: string[] = []
    queue.on('role', (role) => roles.push(role))
    const first = await queue.add('sleep', 300)
    await expect.poll(() => first.status).toBe('running')
    await deleteDB(`offthread:${queue.name}`)
    // The running job's outcome finds no job (and no runner token) in the new database: nothing is written.
    await expect(first.result()).rejects.toThrow()
    const second = await queue.add('double', 4)
    await expect(second.result()).resolves.toBe(8)
    expect(roles).toEqual([])
    await queue.close({ timeout: 0 })
    expect(roles).toEqual(['follower'])
  })

  it('a fenced schedule run adds no job', async () => {
    const queue = makeQueue({ concurrency: 1 })
    await queue.counts()
    const other = await anotherRunner(queue.name)
    const roles: Array<{ role: string; at: number }> = []
    queue.on('role', (role) => roles.push({ role, at: Date.now() }))
    await queue.schedule('double', { id: 'tick', every: 100, data: 1 })
    // The schedule comes due; the store refuses the runner's run: no job, and the runner gives its place up.
    await expect.poll(() => roles[0]?.role, { timeout: 5_000 }).toBe('follower')
    const lostAt = (roles[0] as { at: number }).at
    // Alone in line, it takes its place again (a fresh claim) and may fire from then on: no job is older than that.
    await expect.poll(() => roles[1]?.role, { timeout: 5_000 }).toBe('runner')
    const jobs = await other.list({})
    expect(jobs.filter((job) => job.createdAt < lostAt)).toEqual([])
    await other.close()
  })
})
