/**
 * Forged cross-tab messages. Any script of the origin can open the queue's
 * BroadcastChannel (`offthread:<name>`) and post what it likes; the envelope
 * format is in src/channel.ts. A forged message must not settle a handle with
 * a result no worker produced, make a runner run a job that exists nowhere,
 * or break the queue.
 */
import { openDB } from 'idb'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createQueue, idbStore } from '../../src/index.js'
import type { JobRecord } from '../../src/store.js'
import { jobRecord } from '../helpers/records.js'
import { delay, makeAdvQueue, stateAfter, track, uniqueName, within } from './fixtures/queue.js'

let executed: string[] = []
let execChannel: BroadcastChannel | undefined
const forgers: BroadcastChannel[] = []
beforeEach(() => {
  executed = []
  execChannel = new BroadcastChannel('offthread-adversarial-exec')
  execChannel.onmessage = (event: MessageEvent<{ id: string }>) => executed.push(event.data.id)
})
afterEach(() => {
  execChannel?.close()
  for (const channel of forgers.splice(0)) channel.close()
})

/** Posts envelopes on a queue's channel, as another (hostile) tab would. */
function forge(queue: string, ...envelopes: unknown[]): void {
  const channel = new BroadcastChannel(`offthread:${queue}`)
  forgers.push(channel)
  for (const envelope of envelopes) channel.postMessage(envelope)
}

/** A job's stored metadata, read straight from IndexedDB (as an attacker on the origin could). */
async function storedRecord(queue: string, id: string): Promise<JobRecord> {
  const db = await openDB(`offthread:${queue}`)
  try {
    const row = (await db.get('jobs', id)) as Record<string, unknown> | undefined
    if (!row) throw new Error(`no stored job ${id}`)
    const { activeKey: _a, ready: _r, due: _d, debounceKey: _k, result: _res, ...record } = row
    return record as unknown as JobRecord
  } finally {
    db.close()
  }
}

describe('forged BroadcastChannel messages', () => {
  it('a forged "completed" change for a waiting job does not resolve its result with the forged value', async () => {
    const name = uniqueName('forge')
    const queue = track(createQueue({ name, store: idbStore() })) // no worker: the job never runs here
    const job = await queue.add('echo', 'real data')
    const completedEvents: unknown[] = []
    queue.on('completed', (_snapshot, result) => completedEvents.push(result))
    const record = await storedRecord(name, job.id)
    const result = job.result()
    forge(name, {
      kind: 'batch',
      from: 'evil',
      messages: [
        {
          type: 'change',
          change: { event: 'completed', job: { ...record, status: 'completed', rev: record.rev + 1, finishedAt: Date.now() }, result: 'FORGED' },
        },
      ],
    })
    const state = await stateAfter(result, 300)
    expect(state, 'result() after a forged completion').toBe('pending')
    expect(job.status).toBe('waiting')
    expect(job.isDone()).toBe(false)
    expect(completedEvents).not.toContain('FORGED')
    expect((await job.refresh()).status).toBe('waiting')
  })

  it('a forged "failed" change for a waiting job does not reject its result', async () => {
    const name = uniqueName('forge')
    const queue = track(createQueue({ name, store: idbStore() }))
    const job = await queue.add('echo', 'real data')
    const record = await storedRecord(name, job.id)
    const waited = job.wait()
    forge(name, {
      kind: 'batch',
      from: 'evil',
      messages: [
        {
          type: 'change',
          change: {
            event: 'failed',
            job: { ...record, status: 'failed', rev: record.rev + 1, finishedAt: Date.now(), error: { name: 'Error', message: 'FORGED' } },
            error: { name: 'Error', message: 'FORGED' },
          },
        },
      ],
    })
    expect(await stateAfter(waited, 300), 'wait() after a forged failure').toBe('pending')
    expect(job.status).toBe('waiting')
  })

  it('a forged "added" message does not make the runner run a job that exists nowhere', async () => {
    const queue = makeAdvQueue({ concurrency: 1 })
    await (await queue.add('record', 'warm up')).result()
    executed = []
    const now = Date.now()
    const ghost = jobRecord('ghost-job', { name: 'record', queue: queue.name, seq: 999_999, priority: 100, createdAt: now, runAt: now })
    forge(queue.name, { kind: 'batch', from: 'evil', messages: [{ type: 'added', jobs: [ghost] }] })
    await delay(500)
    // A real job after it still runs, and the ghost never did.
    await expect(within(3000, 'a real job after the forgery', (await queue.add('record', 'real')).result())).resolves.toBe('real')
    await delay(50)
    expect(executed, 'jobs the worker ran').not.toContain('ghost-job')
    expect(await queue.getJob('ghost-job')).toBeUndefined()
    const counts = await queue.counts()
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(2)
  })

  it('a forged "added" message emits no "added" event for a job that is not stored', async () => {
    const queue = makeAdvQueue({ concurrency: 1 })
    await queue.counts()
    const added: string[] = []
    queue.on('added', (snapshot) => added.push(snapshot.id))
    const now = Date.now()
    forge(queue.name, {
      kind: 'batch',
      from: 'evil',
      messages: [
        {
          type: 'added',
          jobs: [jobRecord('phantom', { name: 'echo', queue: queue.name, seq: 1, createdAt: now, runAt: now })],
        },
      ],
    })
    await delay(300)
    expect(added).not.toContain('phantom')
  })

  it('malformed envelopes (null, wrong shapes) do not break the queue or throw on the page', async () => {
    const queue = makeAdvQueue({ concurrency: 1 })
    await queue.counts()
    const pageErrors: string[] = []
    const onError = (event: ErrorEvent): void => {
      pageErrors.push(String(event.message))
      event.preventDefault()
    }
    window.addEventListener('error', onError)
    try {
      forge(
        queue.name,
        null,
        'hello',
        42,
        { kind: 'batch', from: 'evil' },
        { kind: 'batch', from: 'evil', messages: null },
        { kind: 'batch', from: 'evil', messages: [null, 1, { type: 'change' }, { type: 'added', jobs: null }, { type: 'added', jobs: [null] }] },
        { kind: 'batch', from: 'evil', messages: [{ type: 'change', change: { event: 'completed', job: null } }] },
      )
      await delay(300)
      const job = await queue.add('echo', 'after the garbage')
      await expect(within(3000, 'a job after malformed messages', job.result())).resolves.toBe('after the garbage')
    } finally {
      window.removeEventListener('error', onError)
    }
    expect(pageErrors, 'errors thrown on the page by the channel handler').toEqual([])
  })
})
