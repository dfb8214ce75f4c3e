/**
 * Two engine pieces on their own: the BroadcastChannel transport (Node has
 * BroadcastChannel; two channels of one name in one process reach each other)
 * and the dependency tracker over memoryStore.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Dependencies } from '../../src/runner/dependencies.js'
import type { JobChange } from '../../src/runner/transition.js'
import { JOIN_TASK } from '../../src/shared/types.js'
import { Committer } from '../../src/store/committer.js'
import { job } from '../../src/store/contract/kit.js'
import { memoryStore } from '../../src/store/memory-store.js'
import type { JobRecord, Store } from '../../src/store/store.js'
import { Channel, type ChannelMessage } from '../../src/tabs/channel.js'

const open: Channel[] = []
afterEach(() => {
  for (const channel of open.splice(0)) channel.close()
})
const channel = (name: string): { channel: Channel; got: ChannelMessage[] } => {
  const c = new Channel(name)
  const got: ChannelMessage[] = []
  c.listen(
    (messages) => got.push(...messages),
    () => undefined,
  )
  open.push(c)
  return { channel: c, got }
}
const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10))
}

describe('Channel', () => {
  it('a reliable message posted before any peer is known is held, and delivered once one answers', async () => {
    const name = `ch-${Math.random()}`
    const a = channel(name)
    a.channel.post({ type: 'schedules' }) // mustDeliver is on by default (a follower)
    a.channel.mustDeliver = false
    a.channel.post({ type: 'removed', ids: ['dropped'] }) // best effort, no peer: dropped
    const b = channel(name)
    await until(() => b.got.length > 0)
    expect(b.got).toEqual([{ type: 'schedules' }])
  })

  it('messages of one turn travel together, once peers are known', async () => {
    const name = `ch-${Math.random()}`
    const a = channel(name)
    const b = channel(name)
    await until(() => a.channel.hasPeers && b.channel.hasPeers)
    a.channel.post({ type: 'removed', ids: ['1'] })
    a.channel.post({ type: 'removed', ids: ['2'] })
    await until(() => b.got.length === 2)
    expect(b.got).toEqual([
      { type: 'removed', ids: ['1'] },
      { type: 'removed', ids: ['2'] },
    ])
  })

  it('malformed envelopes from other scripts are ignored', async () => {
    const name = `ch-${Math.random()}`
    const a = channel(name)
    const raw = new BroadcastChannel(`offthread:${name}`)
    for (const junk of [null, 42, 'x', { kind: 'batch' }, { kind: 'batch', from: 'evil', messages: 'nope' }]) raw.postMessage(junk)
    raw.postMessage({ kind: 'batch', from: 'evil', messages: [{ type: 'schedules' }] })
    await until(() => a.got.length > 0)
    raw.close()
    expect(a.got).toEqual([{ type: 'schedules' }])
  })
})

describe('Dependencies', () => {
  async function setup(): Promise<{ store: Store; deps: Dependencies; changes: JobChange[]; due: JobRecord[] }> {
    const store = memoryStore()
    await store.open('q')
    const changes: JobChange[] = []
    const due: JobRecord[] = []
    const deps = new Dependencies({
      store,
      committer: new Committer(store),
      changes: { publish: (change) => changes.push(change), removed: () => undefined },
      due: (job) => due.push(job),
      closing: () => false,
      error: (error) => {
        throw error
      },
    })
    return { store, deps, changes, due }
  }
  const finish = async (store: Store, id: string, status: 'completed' | 'failed' | 'cancelled', result?: unknown): Promise<JobRecord> => {
    const [job] = await store.get([id])
    const next = { ...(job as JobRecord), status, rev: (job as JobRecord).rev + 1, finishedAt: 1 }
    await store.write([{ op: 'put', job: next, result }])
    return next
  }

  it('a blocked job becomes due when all its dependencies complete', async () => {
    const { store, deps, changes, due } = await setup()
    await store.write([
      { op: 'insert', job: job('a'), data: null },
      { op: 'insert', job: job('b'), data: null },
      { op: 'insert', job: job('c', { status: 'blocked', dependencies: ['a', 'b'] }), data: null },
    ])
    const [c] = await store.get(['c'])
    deps.add(c as JobRecord)
    deps.ended(await finish(store, 'a', 'completed'))
    await new Promise((resolve) => setTimeout(resolve, 20))
    // One of two done: still blocked.
    expect(changes).toEqual([])
    expect(due).toEqual([])
    deps.ended(await finish(store, 'b', 'completed'))
    await vi.waitFor(() => expect(due.map((j) => j.id)).toEqual(['c']))
    expect((await store.get(['c']))[0]?.status).toBe('waiting')
  })

  it('a failed dependency fails its dependents, down the line', async () => {
    const { store, deps, changes } = await setup()
    await store.write([
      { op: 'insert', job: job('a'), data: null },
      { op: 'insert', job: job('b', { status: 'blocked', dependencies: ['a'] }), data: null },
      { op: 'insert', job: job('c', { status: 'blocked', dependencies: ['b'] }), data: null },
    ])
    for (const job of await store.get(['b', 'c'])) deps.add(job as JobRecord)
    deps.ended(await finish(store, 'a', 'failed'))
    await vi.waitFor(() =>
      expect(changes.map((c) => [c.event, c.job.id])).toEqual([
        ['failed', 'b'],
        ['failed', 'c'],
      ]),
    )
  })

  it('a join job completes with its members’ results, in order', async () => {
    const { store, deps, changes } = await setup()
    await store.write([
      { op: 'insert', job: job('m1'), data: null },
      { op: 'insert', job: job('m2'), data: null },
      { op: 'insert', job: job('join', { name: JOIN_TASK, status: 'blocked', dependencies: ['m1', 'm2'] }), data: null },
    ])
    deps.add((await store.get(['join']))[0] as JobRecord)
    await finish(store, 'm2', 'completed', 'two')
    deps.ended(await finish(store, 'm1', 'completed', 'one'))
    await vi.waitFor(() => expect(changes).toHaveLength(1))
    expect(changes[0]).toMatchObject({ event: 'completed', result: ['one', 'two'] })
    expect((await store.getFull('join'))?.result).toEqual(['one', 'two'])
  })
})
