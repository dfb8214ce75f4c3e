/**
 * The Store contract, what is read back: results, logs, errors, copies; exact counts;
 * durable steps; and what a delete leaves.
 */
import type { JobRecord } from '../store.js'
import { errorRecord, insert, job, log, type ContractKit } from './kit.js'
import { signalStep } from '../../shared/waits.js'

/** Registers the cases of results, logs, errors, counts, durable steps and deletes. */
export function readCases(kit: ContractKit): void {
  const { describe, it, expect, has, fresh, seed, update, complete } = kit

  describe('results, logs, errors and reads', () => {
    it('getFull and list include the result only when the job is completed', async () => {
      const store = await fresh()
      await seed(store, [job('a'), job('b')])
      await update(store, 'a', { status: 'running' })
      const running = await store.getFull('a')
      expect(running?.status).toBe('running')
      expect(running?.data).toEqual({ for: 'a' })
      expect(running).not.toHaveProperty('result')

      const completedRecord = await complete(store, 'a', { answer: 42 })
      const completed = await store.getFull('a')
      expect(completed).toEqual({ ...completedRecord, data: { for: 'a' }, result: { answer: 42 } })
      // Without its data: the metadata and the result.
      expect(await store.getFull('a', { data: false })).toEqual({ ...completedRecord, result: { answer: 42 } })
      expect(await store.getFull('missing')).toBeUndefined()

      // list: data and result only when asked.
      const listed = await store.list({ data: true })
      expect(listed.map((j) => j.id)).toEqual(['b', 'a'])
      expect(listed[0]).not.toHaveProperty('result')
      expect(listed[1]?.result).toEqual({ answer: 42 })
      expect((await store.list({ status: 'completed', data: true }))[0]?.result).toEqual({ answer: 42 })
      const bare = await store.list({})
      expect(bare[1]).toEqual(completedRecord)
      // the metadata reads never carry the result
      expect(await store.get(['a'])).toEqual([completedRecord])
    })

    it('a structured result (a Map) written with the completing put is read back as such', async () => {
      const store = await fresh()
      await seed(store, [job('a')])
      const value = new Map<string, unknown>([
        ['k', 1],
        ['nested', { at: new Date(5), set: new Set([1, 2]) }],
      ])
      await complete(store, 'a', value)
      const result = (await store.getFull('a'))?.result
      expect(result).toBeInstanceOf(Map)
      expect(result).toEqual(value)
      // a copy, not the value given
      expect(result).not.toBe(value)
    })

    it('an undefined result of a completed job reads back as undefined', async () => {
      const store = await fresh()
      await seed(store, [job('a')])
      await complete(store, 'a', undefined)
      const completed = await store.getFull('a')
      expect(completed?.status).toBe('completed')
      expect(completed?.result).toBeUndefined()
    })

    it('a put with a result on a job that is not completed makes no result visible', async () => {
      const store = await fresh()
      const [a] = await seed(store, [job('a')])
      for (const status of ['running', 'failed', 'waiting'] as const) {
        const put: JobRecord = { ...(a as JobRecord), status, rev: (a as JobRecord).rev + 1 }
        expect(await store.write([{ op: 'put', job: put, result: { answer: status } }])).toEqual([{ ok: true }])
        expect(await store.getFull('a')).not.toHaveProperty('result')
        expect((await store.list({}))[0]).not.toHaveProperty('result')
      }
    })

    it('a result put with a job that is not completed is not kept for a later completion', async () => {
      const store = await fresh()
      await seed(store, [job('a')])
      const [a] = await store.get(['a'])
      const running: JobRecord = { ...(a as JobRecord), status: 'running', rev: 2 }
      await store.write([{ op: 'put', job: running, result: 'too early' }])
      // completed by a put without a result
      await store.write([{ op: 'put', job: { ...running, status: 'completed', finishedAt: 5, rev: 3 } }])
      const completed = await store.getFull('a')
      expect(completed?.status).toBe('completed')
      expect(completed?.result).toBeUndefined()
    })

    it('logs are read back in the order they were written, per job', async () => {
      const store = await fresh()
      await seed(store, [job('a'), job('b')])
      await store.write([
        { op: 'log', id: 'a', entries: [log('one', 1), log('two', 2)] },
        { op: 'log', id: 'b', entries: [log('b-one', 1)] },
      ])
      await store.write([{ op: 'log', id: 'a', entries: [{ level: 'warn', message: 'three', meta: { n: 3 }, timestamp: 3 }] }])
      expect(await store.logs('a')).toEqual([log('one', 1), log('two', 2), { level: 'warn', message: 'three', meta: { n: 3 }, timestamp: 3 }])
      expect(await store.logs('b')).toEqual([log('b-one', 1)])
      expect(await store.logs('none')).toEqual([])
    })

    it('errors are read back in the order they were written, per job', async () => {
      const store = await fresh()
      await seed(store, [job('a'), job('b')])
      await store.write([{ op: 'error', id: 'a', record: errorRecord(1) }])
      await store.write([
        { op: 'error', id: 'b', record: errorRecord(1) },
        { op: 'error', id: 'a', record: errorRecord(2) },
      ])
      await store.write([{ op: 'error', id: 'a', record: errorRecord(3) }])
      expect(await store.errors('a')).toEqual([errorRecord(1), errorRecord(2), errorRecord(3)])
      expect(await store.errors('b')).toEqual([errorRecord(1)])
      expect(await store.errors('none')).toEqual([])
    })

    it('reads return copies: changing them does not change the store', async () => {
      const store = await fresh()
      await seed(store, [job('a', { dependencies: [] })])
      const [a] = await store.get(['a'])
      ;(a as JobRecord).dependencies.push('x')
      const full = await store.getFull('a')
      ;(full?.data as { for: string }).for = 'changed'
      expect((await store.get(['a']))[0]?.dependencies).toEqual([])
      expect(await store.getData(['a'])).toEqual([{ for: 'a' }])
    })

    it('a put whose result cannot be stored fails alone (uncloneable); the other ops of its batch are written', async () => {
      const store = await fresh()
      const [a, x] = await seed(store, [job('a'), job('x')])
      const results = await store.write([
        insert(job('before')),
        { op: 'put', job: { ...(x as JobRecord), status: 'running', rev: 2 } },
        { op: 'put', job: { ...(a as JobRecord), status: 'completed', finishedAt: 1, rev: 2 }, result: { fn: () => 1 } },
        { op: 'log', id: 'a', entries: [log('kept')] },
      ])
      expect(results).toMatchObject([{ ok: true }, { ok: true }, { ok: false, reason: 'uncloneable' }, { ok: true }])
      const [storedA, storedX, before] = await store.get(['a', 'x', 'before'])
      expect(storedA).toEqual(a)
      expect(storedX).toMatchObject({ status: 'running', rev: 2 })
      expect(before?.id).toBe('before')
      expect(await store.getFull('a')).not.toHaveProperty('result')
      expect((await store.logs('a')).map((l) => l.message)).toEqual(['kept'])
    })

    it('a log line whose meta cannot be stored keeps its message, and the lines next to it', async () => {
      const store = await fresh()
      await seed(store, [job('a')])
      await store.write([{ op: 'log', id: 'a', entries: [log('one'), { ...log('two'), meta: { fn: () => 1 } }, log('three')] }])
      const logs = await store.logs('a')
      expect(logs.map((l) => l.message)).toEqual(['one', 'two', 'three'])
      expect(String((logs[1]?.meta as { unserializable?: string }).unserializable)).toContain('could not be stored')
    })
  })

  describe('counts', () => {
    it('stay exact through inserts, status changes, lost conditions, rolled-back batches and deletes', async () => {
      const store = await fresh()
      const scanned = async (): Promise<Record<string, number>> => {
        const out: Record<string, number> = { waiting: 0, delayed: 0, blocked: 0, running: 0, completed: 0, failed: 0, cancelled: 0 }
        await store.scan(['waiting', 'delayed', 'blocked', 'running', 'completed', 'failed', 'cancelled'], (j) => void out[j.status]!++)
        return out
      }
      await seed(store, [job('a'), job('b'), job('c', { status: 'delayed' }), job('d')])
      await update(store, 'a', { status: 'running' })
      await complete(store, 'a', 1)
      // A put whose condition fails changes nothing; a put to the same status changes nothing.
      const [b] = await store.get(['b'])
      await store.write([{ op: 'put', job: { ...(b as JobRecord), status: 'failed', rev: 9 }, expect: ['running'] }])
      await update(store, 'b', { priority: 5 })
      // An atomic batch rolled back (a lost condition in it) changes nothing.
      const [c] = await store.get(['c'])
      await store.write(
        [
          { op: 'put', job: { ...(c as JobRecord), status: 'waiting', rev: 2 } },
          { op: 'put', job: { ...(b as JobRecord), status: 'failed', rev: 10 }, expect: ['running'] },
        ],
        { atomic: true },
      )
      // An insert of an id that exists is no new job.
      await store.write([insert(job('d'))])
      await store.write([{ op: 'delete', ids: ['d', 'd', 'missing'] }])
      expect(await store.counts()).toEqual(await scanned())
      expect(await store.counts()).toMatchObject({ waiting: 1, delayed: 1, completed: 1 })
    })
  })

  // Optional (Store.steps): without it, steps run every time.
  if (has.steps)
    describe('durable steps', () => {
      it('stores a step only while its job is running; steps() reads them by id; delete removes them', async () => {
        const store = await fresh()
        await seed(store, [job('a'), job('b')])
        // Waiting: a runner that does not hold the job stores nothing.
        const [refused] = await store.write([{ op: 'step', id: 'a', step: 's1', value: 1 }])
        expect(refused).toMatchObject({ ok: false, reason: 'conflict' })
        await update(store, 'a', { status: 'running' })
        expect(
          await store.write([
            { op: 'step', id: 'a', step: 's1', value: { n: 1 } },
            { op: 'step', id: 'a', step: 's2', value: [2] },
          ]),
        ).toEqual([{ ok: true }, { ok: true }])
        // A value that cannot be stored fails alone.
        const [bad] = await store.write([{ op: 'step', id: 'a', step: 's3', value: () => 3 }])
        expect(bad).toMatchObject({ ok: false, reason: 'uncloneable' })
        expect(await store.steps?.('a')).toEqual({ s1: { n: 1 }, s2: [2] })
        expect(await store.steps?.('b')).toEqual({})
        expect(await store.write([{ op: 'step', id: 'missing', step: 's1', value: 1 }])).toEqual([{ ok: false, reason: 'conflict', job: undefined }])
        await store.write([{ op: 'delete', ids: ['a'] }])
        expect(await store.steps?.('a')).toEqual({})
      })

      it('keeps a signal for an unfinished job (as a step), and wakes a delayed job that waits for it, in the same write', async () => {
        const store = await fresh()
        await seed(store, [job('a'), job('w', { status: 'delayed', runAt: 9e15 }), job('other', { status: 'delayed', runAt: 9e15 }), job('done')])
        await update(store, 'w', { status: 'delayed', waitingFor: 'signal', signal: 'approved', slept: true })
        await update(store, 'other', { status: 'delayed', waitingFor: 'signal', signal: 'paid' })
        await complete(store, 'done', 1)
        const before = (await store.get(['w']))[0] as JobRecord
        // A job that does not wait yet (waiting, here) keeps it for later: no change of state.
        expect(await store.write([{ op: 'signal', id: 'a', name: 'approved', payload: { by: 'ann' }, at: 5 }])).toEqual([{ ok: true }])
        expect((await store.get(['a']))[0]).toMatchObject({ status: 'waiting', rev: 1 })
        // A job waiting for another signal stays delayed.
        expect(await store.write([{ op: 'signal', id: 'other', name: 'approved', payload: 1, at: 5 }])).toEqual([{ ok: true }])
        expect((await store.get(['other']))[0]).toMatchObject({ status: 'delayed', signal: 'paid' })
        // The job waiting for it is woken: waiting, runAt `at`, the next revision, its reason gone.
        const [woke] = await store.write([{ op: 'signal', id: 'w', name: 'approved', payload: [1, 2], at: 7 }])
        const expected = { ...before, status: 'waiting', runAt: 7, rev: before.rev + 1 } as Partial<JobRecord>
        delete expected.waitingFor
        delete expected.signal
        expect(woke).toEqual({ ok: true, job: expected })
        expect((await store.get(['w']))[0]).toEqual(expected)
        expect(await store.counts()).toMatchObject({ waiting: 2, delayed: 1, completed: 1 })
        expect((await store.pending('ready', 10)).map((j) => j.id)).toContain('w')
        // Stored as steps of the job (under reserved ids), read back with them.
        expect(await store.steps?.('a')).toEqual({ [signalStep('approved')]: { payload: { by: 'ann' } } })
        expect(await store.steps?.('w')).toEqual({ [signalStep('approved')]: { payload: [1, 2] } })
        // A second signal of the same name replaces the first.
        await store.write([{ op: 'signal', id: 'a', name: 'approved', payload: 'again', at: 8 }])
        expect(await store.steps?.('a')).toEqual({ [signalStep('approved')]: { payload: 'again' } })
        // A finished or missing job keeps nothing; a payload that cannot be stored fails alone.
        expect(await store.write([{ op: 'signal', id: 'done', name: 'approved', payload: 1, at: 9 }])).toMatchObject([
          { ok: false, reason: 'conflict', job: { id: 'done', status: 'completed' } },
        ])
        expect(await store.write([{ op: 'signal', id: 'missing', name: 'approved', payload: 1, at: 9 }])).toEqual([
          { ok: false, reason: 'conflict', job: undefined },
        ])
        const [bad] = await store.write([{ op: 'signal', id: 'other', name: 'paid', payload: () => 1, at: 9 }])
        expect(bad).toMatchObject({ ok: false, reason: 'uncloneable' })
        expect((await store.get(['other']))[0]).toMatchObject({ status: 'delayed', signal: 'paid' })
        expect(await store.steps?.('done')).toEqual({})
        expect(await store.counts()).toMatchObject({ waiting: 2, delayed: 1, completed: 1 })
      })
    })

  describe('delete', () => {
    it('removes the job with its data, result, logs and errors, and leaves the others', async () => {
      const store = await fresh()
      await seed(store, [job('a'), job('b')])
      for (const id of ['a', 'b']) {
        await store.write([
          { op: 'log', id, entries: [log(`log ${id}`)] },
          { op: 'error', id, record: errorRecord(1) },
        ])
        await complete(store, id, `result ${id}`)
      }
      expect((await store.getFull('a'))?.result).toBe('result a')
      expect(await store.write([{ op: 'delete', ids: ['a', 'missing'] }])).toEqual([{ ok: true }])
      expect(await store.get(['a'])).toEqual([undefined])
      expect(await store.getFull('a')).toBeUndefined()
      expect(await store.getData(['a'])).toEqual([undefined])
      expect(await store.logs('a')).toEqual([])
      expect(await store.errors('a')).toEqual([])
      expect((await store.counts()).completed).toBe(1)

      const b = await store.getFull('b')
      expect(b?.result).toBe('result b')
      expect(await store.logs('b')).toEqual([log('log b')])
      expect(await store.errors('b')).toEqual([errorRecord(1)])
    })

    it('a job re-inserted under a deleted id starts clean', async () => {
      const store = await fresh()
      await seed(store, [job('a')])
      await store.write([{ op: 'log', id: 'a', entries: [log('old')] }])
      await complete(store, 'a', 'old')
      await store.write([{ op: 'delete', ids: ['a'] }])
      await seed(store, [job('a')])
      await update(store, 'a', { status: 'completed', finishedAt: 1 })
      expect((await store.getFull('a'))?.result).toBeUndefined()
      expect(await store.logs('a')).toEqual([])
    })
  })
}
