import { openDB } from 'idb'
import { afterEach, describe, expect, it } from 'vitest'
import type { QueueOptions } from '../../src/index.js'
import { SCHEMA_VERSION } from '../../src/store/idb-store.js'
import { delay, makeQueue } from './fixtures/queue.js'
import { EXEC_CHANNEL, type Execution } from './fixtures/release-common.js'

// Two queues of one name in one page stand for two tabs (as in tabs.test.ts): here, tabs
// of two releases of one app, each with its own worker module and `version`.
const release1 = (): Worker => new Worker(new URL('./fixtures/release-1.worker.ts', import.meta.url), { type: 'module' })
const releasePlus = (): Worker => new Worker(new URL('./fixtures/release-1-plus.worker.ts', import.meta.url), { type: 'module' })
const release2 = (): Worker => new Worker(new URL('./fixtures/release-2.worker.ts', import.meta.url), { type: 'module' })

type Tab = ReturnType<typeof makeQueue>
const tab1 = (name: string | undefined, options: QueueOptions = {}): Tab =>
  makeQueue({ name, worker: release1, version: 1, abortGrace: 300, ...options })
const tab2 = (name: string | undefined, options: QueueOptions = {}): Tab =>
  makeQueue({ name, worker: release2, version: 2, abortGrace: 300, ...options })
/** `add` by name: the tabs are typed by the shared fixture's tasks, not by either release's. */
const add = (queue: ReturnType<typeof makeQueue>, name: string, data: unknown) =>
  (queue.add as (name: string, data: unknown, options?: object) => ReturnType<typeof queue.add>)(name, data)

/** Every execution the release workers report (see release-common.ts), from the test's start. */
let executions: Execution[] = []
const listener = new BroadcastChannel(EXEC_CHANNEL)
listener.onmessage = (event: MessageEvent<Execution>) => executions.push(event.data)
afterEach(() => {
  executions = []
})

/** A tab of release 2 running the queue, and a tab of release 1 following it. */
async function newerRunning(): Promise<{ newer: Tab; older: Tab }> {
  const newer = tab2(undefined)
  await opened(newer)
  const older = tab1(newer.name)
  await opened(older)
  return { newer, older }
}

/** Opened, and (for a tab with a worker) its release stored and announced. */
async function opened(queue: ReturnType<typeof makeQueue>): Promise<void> {
  await queue.counts()
  await expect.poll(() => queue.runner !== undefined || queue.role === 'runner').toBe(true)
}

describe('tabs of two releases on one queue (a deploy while tabs stay open)', () => {
  it('a newer tab opened while an older one runs: its new task completes there, and the older tab never fails it', async () => {
    const older = tab1(undefined)
    await opened(older)
    expect(older.role).toBe('runner')
    await expect.poll(() => older.runner?.version).toBe(1)
    const failedInOlder: string[] = []
    older.on('failed', (job) => failedInOlder.push(job.name))
    const newer = tab2(older.name)
    const started = performance.now()
    // Checked against the newer tab's own worker module, not the runner's task list.
    const job = await add(newer, 'fresh', 1)
    expect(job.toJSON().version).toBe(2)
    await expect(job.result()).resolves.toBe('fresh 1')
    expect(performance.now() - started).toBeLessThan(8000)
    expect(newer.role).toBe('runner')
    expect(older.role).toBe('follower')
    expect(failedInOlder).toEqual([])
    // Every tab reads the runner's release from the store.
    await expect.poll(() => older.runner?.version).toBe(2)
    expect(Object.keys(older.runner?.tasks ?? {}).sort()).toEqual(['fresh', 'shape', 'shared'])
  })

  it('an older runner leaves a job of a task it lacks waiting (with its reason) and runs the jobs behind it; a newer tab then runs it', async () => {
    const older = tab1(undefined)
    await opened(older)
    // A newer tab adds a job of its new task, and goes away before it could take the queue.
    const gone = tab2(older.name, { autostart: false })
    const fresh = await add(gone, 'fresh', 7)
    await gone.close()
    await expect.poll(async () => (await older.list({ status: 'waiting' })).find((j) => j.id === fresh.id)?.waitingFor).toBe('release')
    // No head-of-line blocking: a job added after it runs.
    const behind = await add(older, 'shared', 10)
    await expect(behind.result()).resolves.toBe('1')
    const [snapshot] = await older.list({ status: 'waiting' })
    expect(snapshot).toMatchObject({ id: fresh.id, status: 'waiting', waitingFor: 'release', version: 2 })
    expect(await (await older.getJob(fresh.id))?.errors()).toEqual([])
    // The release that knows the task opens: it takes the queue and runs the job.
    const newer = tab2(older.name)
    const handle = await newer.getJob(fresh.id)
    await expect(handle!.result()).resolves.toBe('fresh 7')
    expect(newer.role).toBe('runner')
  })

  it('50 jobs added from both tabs during the handover each complete, and no job runs twice at the same time; a running job is not lost', async () => {
    const older = tab1(undefined, { concurrency: 2 })
    await opened(older)
    const long = await add(older, 'shared', 400)
    await expect.poll(() => long.status).toBe('running')
    const newer = tab2(older.name, { concurrency: 2 })
    const jobs = []
    for (let i = 0; i < 25; i++) {
      jobs.push(await add(older, 'shared', 20))
      jobs.push(await add(newer, 'shared', 20))
      if (i % 5 === 0) await delay(30)
    }
    const results = await Promise.all([long, ...jobs].map((job) => job.result()))
    expect(results.every((r) => r === '1' || r === '2')).toBe(true)
    expect(newer.role).toBe('runner')
    // Some ran on each side of the handover, and the job running at it completed (in the older tab, or again in the newer).
    expect(results).toContain('2')
    expect(long.status).toBe('completed')
    // From the execution records (outside the queue): no two runs of one job overlap in time.
    for (const job of [long, ...jobs]) {
      const runs = executions.filter((e) => e.id === job.id)
      expect(runs.filter((e) => e.phase === 'start').length).toBeGreaterThanOrEqual(1)
      let open = 0
      for (const e of runs.sort((a, b) => a.at - b.at)) {
        open += e.phase === 'start' ? 1 : -1
        expect(open).toBeLessThanOrEqual(1)
      }
    }
  })

  it('tabs of one release never hand over; an older tab opened after a newer one does not take the queue', async () => {
    const first = tab2(undefined)
    await opened(first)
    // In line: the older tab first, then a second tab of the newer release.
    const older = tab1(first.name)
    await opened(older)
    const second = tab2(first.name)
    await opened(second)
    await delay(1500)
    expect([first.role, second.role, older.role]).toEqual(['runner', 'follower', 'follower'])
    // The older tab's job of a shared task runs in the newer runner.
    const job = await add(older, 'shared', 5)
    await expect(job.result()).resolves.toBe('2')
    // The runner goes: the older tab, first in line, gets the lock and lets it go at once to the newer one behind it.
    const olderRoles: string[] = []
    older.on('role', (role) => olderRoles.push(role))
    await first.close()
    await expect.poll(() => second.role).toBe('runner')
    await delay(500)
    expect(older.role).toBe('follower')
    expect(olderRoles).toEqual([])
  })

  it('ctx.version: the newer handler reads the input shape of a job the older release added', async () => {
    const { newer, older } = await newerRunning()
    const fromOlder = await add(older, 'shape', { n: 21 })
    const fromNewer = await add(newer, 'shape', { value: 5 })
    await expect(fromOlder.result()).resolves.toBe('42 (read as release 1)')
    await expect(fromNewer.result()).resolves.toBe('10 (read as release 2)')
    expect((await newer.list({ status: 'completed' })).map((j) => j.version).sort()).toEqual([1, 2])
  })

  it('a job of a task the newest release dropped fails UnknownTaskError, once', async () => {
    const { newer, older } = await newerRunning()
    const job = await add(older, 'old', undefined)
    const error = (await job.result().catch((e: unknown) => e)) as Error
    expect(error.name).toBe('JobFailedError')
    expect((error.cause as Error).name).toBe('UnknownTaskError')
    expect((await job.errors()).map((e) => e.name)).toEqual(['UnknownTaskError'])
    expect(newer.role).toBe('runner')
  })

  it('a tab without a worker checks add against every release the store knows', async () => {
    const older = tab1(undefined)
    await opened(older)
    const newer = tab2(older.name)
    // The newer release is stored once it announced itself (it runs the queue then, too).
    await expect.poll(() => newer.role).toBe('runner')
    const observer = makeQueue({ name: older.name, worker: undefined })
    await observer.counts()
    await expect(add(observer, 'fresh', 3).then((job) => job.result())).resolves.toBe('fresh 3')
    await expect(add(observer, 'old', undefined)).resolves.toBeDefined()
    await expect(add(observer, 'typo', 1)).rejects.toThrow(/Unknown task "typo"/)
  })

  it('releases without a version (fingerprints): a tab whose tasks are a strict superset takes the queue only once a waiting job needs one of them', async () => {
    const older = makeQueue({ worker: release1, abortGrace: 300 })
    await opened(older)
    const plus = makeQueue({ name: older.name, worker: releasePlus, abortGrace: 300 })
    await opened(plus)
    await expect.poll(() => String(older.runner?.version)).toMatch(/^tasks:/)
    // Nothing needs its extra task: the runner stays.
    await delay(1200)
    expect([older.role, plus.role]).toEqual(['runner', 'follower'])
    const job = await add(plus, 'fresh', 2)
    await expect(job.result()).resolves.toBe('fresh 2 (1+)')
    expect([older.role, plus.role]).toEqual(['follower', 'runner'])
    // The older build never takes the queue back while the superset waits in line.
    await delay(1200)
    expect(plus.role).toBe('runner')
  })

  it('a follower whose worker module will not load still adds (unchecked), and tries it again ever less often', async () => {
    const runner = makeQueue()
    await runner.counts()
    const broken = (): Worker => new Worker(new URL('./fixtures/broken.worker.ts', import.meta.url), { type: 'module' })
    const follower = makeQueue({ name: runner.name, worker: broken })
    const errors: string[] = []
    follower.on('error', (error) => errors.push(error.name))
    await follower.counts()
    const job = await follower.add('double', 4)
    await expect(job.result()).resolves.toBe(8)
    await delay(2500)
    // Its first load failed (an error event), and it is not tried again on every look (each 2 s).
    expect(errors.length).toBeGreaterThanOrEqual(1)
    expect(errors.length).toBeLessThanOrEqual(2)
    expect(errors.every((name) => name === 'WorkerError')).toBe(true)
    expect(follower.role).toBe('follower')
  })

  it('a follower whose worker module is slow to load checks add against it once it has loaded (its load is not cut short)', async () => {
    const runner = makeQueue()
    await runner.counts()
    const slow = (): Worker => new Worker(new URL('./fixtures/slow.worker.ts', import.meta.url), { type: 'module' })
    const follower = makeQueue({ name: runner.name, worker: slow })
    await follower.counts()
    // Within add's 1 s wait the module has not loaded: the job is stored unchecked (the runner's tasks have it).
    await expect(add(follower, 'echo', 'early').then((job) => job.result())).resolves.toBe('early')
    await delay(1500)
    // Loaded by now: names are checked against it (it defines only `double`).
    await expect(add(follower, 'echo', 'late')).rejects.toThrow(/Unknown task "echo"; the worker module defines: double/)
  })

  it('what arrives on the channel is no fact: a forged task list, release or ask changes nothing', async () => {
    const runner = tab1(undefined)
    await opened(runner)
    const follower = tab1(runner.name)
    await opened(follower)
    const forged = new BroadcastChannel(`offthread:${runner.name}`)
    const messages = [
      { type: 'manifest', manifest: { tasks: {} } },
      { type: 'release', release: { version: 999, tasks: { evil: {} } } },
      { type: 'handover', tab: 'nobody', key: '999' },
      { type: 'handover', tab: 'nobody', key: '1' },
    ]
    forged.postMessage({ kind: 'here', from: 'forger' })
    forged.postMessage({ kind: 'batch', from: 'forger', messages })
    await delay(500)
    forged.close()
    expect([runner.role, follower.role]).toEqual(['runner', 'follower'])
    expect(runner.runner?.version).toBe(1)
    const job = await add(follower, 'shared', 5)
    await expect(job.result()).resolves.toBe('1')
    await expect(add(follower, 'evil', 1)).rejects.toThrow(/Unknown task "evil"/)
  })

  it('a newer offthread (store schema) in another tab: `outdated` fires, then the queue closes', async () => {
    const queue = makeQueue({ autostart: false })
    await queue.add('double', 1)
    const seen: string[] = []
    queue.on('outdated', (error) => seen.push(`outdated: ${(error as { code?: string }).code}`))
    queue.on('error', () => seen.push('error'))
    const upgraded = await openDB(`offthread:${queue.name}`, SCHEMA_VERSION + 1)
    upgraded.close()
    const error = (await queue.counts().catch((e: unknown) => e)) as Error
    expect(error.message).toMatch(/upgraded by a newer version/)
    await expect.poll(() => seen).toContain('outdated: ERR_STORE_VERSION')
    const closed = (await queue.add('double', 2).catch((e: unknown) => e)) as Error
    expect(closed.name).toBe('QueueClosedError')
    expect(seen.indexOf('outdated: ERR_STORE_VERSION')).toBeGreaterThanOrEqual(0)
  })
})

describe('storage the browser may evict', () => {
  it('persist asks the browser once; storage() says what the engine tells', async () => {
    const queue = makeQueue({ persist: true, autostart: false })
    await queue.counts()
    const info = await queue.storage()
    const manager = navigator.storage
    if (typeof manager?.persisted === 'function') expect(info.persisted).toBe(await manager.persisted())
    else expect(info).not.toHaveProperty('persisted')
    const estimate = typeof manager?.estimate === 'function' ? await manager.estimate() : undefined
    expect(info.usage === undefined).toBe(typeof estimate?.usage !== 'number')
    expect(info.quota === undefined).toBe(typeof estimate?.quota !== 'number')
    expect(info.usage ?? 0).toBeGreaterThanOrEqual(0)
  })

  it('bad values of version and persist are refused, naming the option', () => {
    expect(() => makeQueue({ version: '' })).toThrow(/"version"/)
    expect(() => makeQueue({ version: Number.NaN })).toThrow(/"version"/)
    expect(() => makeQueue({ version: {} as unknown as string })).toThrow(/"version"/)
    expect(() => makeQueue({ persist: 'yes' as unknown as boolean })).toThrow(/"persist"/)
  })
})
