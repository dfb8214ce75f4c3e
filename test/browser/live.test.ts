/**
 * The live core UI code builds on (API.md sections 2 and 3): `queue.watch()` and
 * `queue.watchCounts()`, handles as stores, `getJob(id, name)`, and a second
 * `createQueue` of an open name in one page replacing the first.
 */
import { describe, expect, it, vi } from 'vitest'
import { createQueue, idbStore, QueueClosedError, type JobSnapshot } from '../../src/index.js'
import { makeQueue, tasksWorker } from './fixtures/queue.js'
import '../../src/inspector.js'
import type { LiveHost } from '../../src/queue/live.js'
import { LiveJobList } from '../../src/queue/live-list.js'
import { Emitter } from '../../src/shared/events.js'
import type { QueueEvents } from '../../src/shared/types.js'

const frames = (n: number): Promise<void> =>
  new Promise((resolve) => {
    const step = (): void => (--n <= 0 ? resolve() : void requestAnimationFrame(step))
    requestAnimationFrame(step)
  })

describe('live queries and handles as stores', () => {
  it('watch(): the same array until something changes; follows adds, progress and completions, at most once a frame', async () => {
    const queue = makeQueue()
    const live = queue.watch({ name: 'report' })
    const seen: Array<readonly JobSnapshot[]> = []
    const off = live.subscribe((jobs) => seen.push(jobs))
    // The store contract: called at once with the current value (empty until read).
    expect(seen).toHaveLength(1)
    await vi.waitFor(() => expect(live.loaded).toBe(true))
    expect(live.getSnapshot()).toBe(live.getSnapshot())
    // 40 steps of 5 ms: long enough to be seen running even when frames come late (a loaded CI machine).
    const job = await queue.add('report', 40)
    await queue.add('double', 1) // another task: not in this list
    await job.result()
    await vi.waitFor(() => expect(live.getSnapshot()[0]?.status).toBe('completed'))
    const last = live.getSnapshot()
    expect(last.map((j) => j.id)).toEqual([job.id])
    expect(last[0]?.progress).toEqual({ phase: 'done' })
    // Running, with progress on the way, was seen; no two calls gave the same array.
    expect(
      seen.some((jobs) => jobs[0]?.status === 'running'),
      seen.map((jobs) => jobs.map((j) => `${j.status}:${String(j.progress && JSON.stringify(j.progress))}`).join(',')).join(' | '),
    ).toBe(true)
    expect(new Set(seen).size).toBe(seen.length)
    // 40 progress reports and 40 log lines did not become 80 calls (at most one a frame: ~13 frames of 200 ms, and a few more).
    expect(seen.length).toBeLessThan(25)
    await frames(3)
    expect(live.getSnapshot()).toBe(last)
    // Another task's job moves: the list is read again and finds the same jobs (a new progress
    // object from the store, alike): it keeps its array, and its listeners hear nothing.
    const calls = seen.length
    await (await queue.add('double', 2)).result()
    await new Promise((resolve) => setTimeout(resolve, 150))
    await frames(3)
    expect(live.getSnapshot()).toBe(last)
    expect(seen.length).toBe(calls)
    off()
  })

  it('watch() and watchCounts() hear of a job removed in another tab', async () => {
    const queue = makeQueue()
    const other = makeQueue({ name: queue.name, worker: undefined })
    const job = await queue.add('double', 2)
    await job.result()
    const live = queue.watch()
    const counts = queue.watchCounts()
    const offs = [live.subscribe(() => undefined), counts.subscribe(() => undefined)]
    await vi.waitFor(() => expect(live.getSnapshot().map((j) => j.id)).toEqual([job.id]))
    await vi.waitFor(() => expect(counts.getSnapshot().completed).toBe(1))
    expect(await other.remove(job.id)).toBe(true)
    await vi.waitFor(() => expect(live.getSnapshot()).toEqual([]))
    await vi.waitFor(() => expect(counts.getSnapshot().completed).toBe(0))
    for (const off of offs) off()
  })

  it('a handle is a store: getSnapshot() keeps its object until the job changes; subscribe() follows it', async () => {
    const queue = makeQueue()
    const job = await queue.add('report', 5)
    const first = job.getSnapshot()
    expect(job.getSnapshot()).toBe(first)
    const seen: string[] = []
    const off = job.subscribe((snapshot) => seen.push(snapshot.status))
    expect(seen).toEqual([first.status])
    await job.result()
    await vi.waitFor(() => expect(job.getSnapshot().status).toBe('completed'))
    expect(job.getSnapshot()).not.toBe(first)
    expect(job.getSnapshot().result).toBe('reported')
    expect(seen.at(-1)).toBe('completed')
    off()
  })

  it("a closed queue is no longer the runner: role turns 'follower' and the role event says so", async () => {
    const queue = makeQueue()
    await queue.counts()
    expect(queue.role).toBe('runner')
    const roles: string[] = []
    queue.on('role', (role) => roles.push(role))
    await queue.close()
    expect(queue.role).toBe('follower')
    expect(roles).toEqual(['follower'])
  })

  it('getJob(id, name) gives the job only if it is of that task', async () => {
    const queue = makeQueue({ autostart: false })
    const job = await queue.add('double', 3)
    expect((await queue.getJob(job.id, 'double'))?.id).toBe(job.id)
    expect(await queue.getJob(job.id, 'echo')).toBeUndefined()
    await expect(queue.getJob(job.id, 42 as never)).rejects.toThrow(TypeError)
  })
})

describe('watch() with reads and progress crossing', () => {
  it('progress heard while a re-read is under way is not undone by the older value the read brings back; one notice per frame', async () => {
    // A host whose list() answers when the test says: the read and the progress report cross.
    const events = new Emitter<QueueEvents>()
    const reads: Array<(jobs: JobSnapshot[]) => void> = []
    const host: LiveHost = {
      list: () => new Promise((resolve) => reads.push(resolve)),
      counts: () => Promise.reject(new Error('not used')),
      on: (event, listener) => events.on(event, listener),
    }
    const job = (progress: number): JobSnapshot => ({
      id: 'a',
      name: 'report',
      queue: 'q',
      status: 'running',
      progress,
      attempt: 1,
      priority: 0,
      createdAt: 0,
      runAt: 0,
      dependencies: [],
    })
    const live = new LiveJobList(host, { status: 'running' })
    const seen: unknown[] = []
    let frameOf: number[] = []
    let frame = 0
    const counting = (): void => {
      frame++
      if (frame < 1000) requestAnimationFrame(counting)
    }
    requestAnimationFrame(counting)
    live.subscribe((jobs) => {
      seen.push(jobs[0]?.progress)
      frameOf.push(frame)
    })
    await vi.waitFor(() => expect(reads).toHaveLength(1))
    reads[0]?.([job(1)])
    await vi.waitFor(() => expect(seen).toEqual([undefined, 1]))
    events.emit('started', job(1), 1) // a re-read starts
    await vi.waitFor(() => expect(reads).toHaveLength(2))
    events.emit('progress', job(5), 5) // heard while it is under way
    await vi.waitFor(() => expect(seen.at(-1)).toBe(5))
    reads[1]?.([job(3)]) // the read began before progress 5 was stored
    await frames(4)
    expect(seen).toEqual([undefined, 1, 5])
    frameOf = frameOf.slice(1)
    expect(new Set(frameOf).size, 'notices in one frame').toBe(frameOf.length)
    frame = 1000
  })
})

describe('watch() while its re-read waits on a slow store', () => {
  it('an added job, its start and its end show at once from the events, filtered by the query; the re-read settles it', async () => {
    const events = new Emitter<QueueEvents>()
    const reads: Array<(jobs: JobSnapshot[]) => void> = []
    const host: LiveHost = {
      list: () => new Promise((resolve) => reads.push(resolve)),
      counts: () => Promise.reject(new Error('not used')),
      on: (event, listener) => events.on(event, listener),
    }
    const job = (id: string, seq: number, status: JobSnapshot['status'], name = 'report'): JobSnapshot => ({
      id,
      name,
      queue: 'q',
      status,
      seq,
      attempt: 1,
      priority: 0,
      createdAt: 0,
      runAt: 0,
      dependencies: [],
    })
    const live = new LiveJobList(host, { status: ['waiting', 'running'], name: 'report' })
    const off = live.subscribe(() => undefined)
    await vi.waitFor(() => expect(reads).toHaveLength(1))
    reads[0]?.([job('a', 1, 'waiting')])
    await vi.waitFor(() => expect(live.getSnapshot().map((j) => j.id)).toEqual(['a']))
    // The store is slow from now on: the re-reads these events ask for do not come back.
    events.emit('added', { ...job('b', 2, 'waiting'), data: 'big input' }, undefined)
    events.emit('added', job('other', 3, 'waiting', 'double'), undefined)
    await vi.waitFor(() => expect(live.getSnapshot().map((j) => `${j.id}:${j.status}`)).toEqual(['b:waiting', 'a:waiting']))
    expect(live.getSnapshot()[0]).not.toHaveProperty('data')
    events.emit('started', job('b', 2, 'running'), 1)
    events.emit('progress', job('b', 2, 'running'), 40)
    await vi.waitFor(() =>
      expect(live.getSnapshot().map((j) => `${j.id}:${j.status}:${String(j.progress)}`)).toEqual(['b:running:40', 'a:waiting:undefined']),
    )
    // Completed: no longer one of the statuses asked for.
    events.emit('completed', { ...job('b', 2, 'completed'), result: 'big result' }, 'big result')
    await vi.waitFor(() => expect(live.getSnapshot().map((j) => j.id)).toEqual(['a']))
    // The re-read brings what the store says, and the events heard before it began are dropped.
    await vi.waitFor(() => expect(reads.length).toBeGreaterThan(1))
    reads.at(-1)?.([job('a', 1, 'running')])
    await vi.waitFor(() => expect(live.getSnapshot().map((j) => `${j.id}:${j.status}`)).toEqual(['a:running']))
    off()
  })
})

describe('a second createQueue of an open name in one page (hot reload)', () => {
  it('replaces the first: it closes (its waiters hear QueueClosedError), a warning says so, the new one runs the jobs', async () => {
    const name = `replace-${Date.now()}`
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const first = createQueue({ name, worker: tasksWorker, concurrency: 1, store: idbStore() })
    const slow = await first.add('sleep', 300)
    const second = createQueue({ name, worker: tasksWorker, concurrency: 1, store: idbStore() })
    try {
      await expect(slow.result()).rejects.toBeInstanceOf(QueueClosedError)
      expect(warn.mock.calls.flat().join(' ')).toContain(`a queue named "${name}" is open in this page`)
      await expect(first.add('double', 1)).rejects.toBeInstanceOf(QueueClosedError)
      // The job the first queue held (interrupted, as in a closed tab) runs in the second.
      const moved = await second.getJob(slow.id)
      await expect(moved?.result()).resolves.toBe(300)
      expect(second.role).toBe('runner')
    } finally {
      warn.mockRestore()
      await second.close()
      await new Promise((resolve) => {
        const request = indexedDB.deleteDatabase(`offthread:${name}`)
        request.onsuccess = request.onerror = request.onblocked = resolve
      })
    }
  })

  it('with replace: false both stay open, as two tabs would', async () => {
    const queue = makeQueue()
    const beside = makeQueue({ name: queue.name, worker: undefined })
    const job = await beside.add('double', 4)
    await expect(job.result()).resolves.toBe(8)
    expect(queue.role).toBe('runner')
    await expect(queue.add('double', 1)).resolves.toBeDefined()
  })
})

describe('every status change reaches every live view', () => {
  it('a retry while the pool is busy: watch(), watchCounts() and the inspector show the job waiting, in this tab and another; a second retry is a no-op that says so', async () => {
    const queue = makeQueue({ concurrency: 2 })
    const other = makeQueue({ name: queue.name, worker: undefined })
    // Both workers busy for the whole test.
    const busy = await Promise.all([queue.add('sleep', 20_000), queue.add('sleep', 20_000)])
    const job = await queue.add('sleep', 10)
    await expect.poll(async () => (await queue.counts()).running).toBe(2)
    await job.cancel()
    const views = [queue, other].map((q) => ({ list: q.watch(), counts: q.watchCounts() }))
    const offs = views.flatMap(({ list, counts }) => [list.subscribe(() => undefined), counts.subscribe(() => undefined)])
    const inspectors = [queue, other].map((q) => {
      const el = document.createElement('offthread-inspector') as HTMLElement & { queue: unknown }
      el.queue = q
      document.body.append(el)
      return el
    })
    const statusIn = (el: HTMLElement): string | undefined =>
      [...(el.shadowRoot?.querySelectorAll<HTMLElement>('.row') ?? [])]
        .find((r) => r.querySelector('.id')?.textContent === job.id)
        ?.querySelector('.badge')?.textContent ?? undefined
    const seen = (): unknown[] => [
      ...views.flatMap(({ list, counts }) => [list.getSnapshot().find((j) => j.id === job.id)?.status, counts.getSnapshot().cancelled]),
      ...inspectors.map(statusIn),
    ]
    try {
      await expect.poll(seen, { timeout: 5000 }).toEqual(['cancelled', 1, 'cancelled', 1, 'cancelled', 'cancelled'])
      const requeued: string[] = []
      const offRequeued = other.on('requeued', (snapshot) => requeued.push(snapshot.id))
      await queue.retry(job.id)
      await expect.poll(seen, { timeout: 3000 }).toEqual(['waiting', 0, 'waiting', 0, 'waiting', 'waiting'])
      expect(requeued).toContain(job.id)
      offRequeued()
      // Again, while it waits: nothing to do, and said so (no TypeError).
      const warn = vi.spyOn(console, 'info').mockImplementation(() => undefined)
      const again = await queue.retry(job.id)
      expect(again.id).toBe(job.id)
      expect(warn.mock.calls.flat().join(' ')).toMatch(/already waiting/)
      warn.mockRestore()
      expect((await queue.counts()).waiting).toBe(1)
    } finally {
      for (const off of offs) off()
      for (const el of inspectors) el.remove()
      for (const handle of busy) await handle.cancel()
    }
  })

  it('queue.cancel(id): cancels by id, false when there is nothing to cancel', async () => {
    const queue = makeQueue({ concurrency: 1 })
    const running = await queue.add('sleep', 20_000)
    const waiting = await queue.add('sleep', 10)
    expect(await queue.cancel(waiting.id)).toBe(true)
    expect((await waiting.result().catch((e: Error) => e.name)) as string).toBe('JobCancelledError')
    expect(await queue.cancel(waiting.id)).toBe(false)
    expect(await queue.cancel('no-such-job')).toBe(false)
    await expect.poll(async () => (await queue.counts()).running).toBe(1)
    expect(await queue.cancel(running.id)).toBe(true)
    await expect.poll(() => running.status).toBe('cancelled')
  })
})
