/**
 * The Store contract, what the runner needs besides dispatch: schedules, dependents,
 * `scan`, `expired` (retention), fencing (a runner that lost its place writes nothing) and releases.
 */
import type { ReleaseRecord } from '../../shared/release.js'
import type { JobStatus } from '../../shared/types.js'
import type { JobRecord, ScheduleRecord, Store, StoredReleases, WriteOp } from '../store.js'
import { errorRecord, insert, job, log, type ContractKit } from './kit.js'

/** Registers the cases of schedules, dependents, scan, expired, fencing and releases. */
export function runnerCases(kit: ContractKit): void {
  const { describe, it, expect, has, fresh, seed, update } = kit

  describe('schedules', () => {
    const schedule = (fields: Partial<ScheduleRecord> = {}): ScheduleRecord => ({
      id: 's',
      name: 'task',
      every: 100,
      data: null,
      options: {},
      onMissed: 'once',
      overlap: false,
      paused: false,
      nextRunAt: 100,
      createdAt: 0,
      ...fields,
    })

    it('a fired schedule writes only its run onto the stored one: a pause made meanwhile stands, and stops the fire', async () => {
      const store = await fresh()
      await store.write([{ op: 'schedule', schedule: schedule() }])
      // Fired from an older copy: only the run fields land.
      expect(
        await store.write([{ op: 'schedule', schedule: schedule({ nextRunAt: 200, lastRunAt: 150, lastJobId: 'j1', every: 999 }), fired: 'due' }]),
      ).toEqual([{ ok: true }])
      expect(await store.schedules()).toMatchObject([{ id: 's', every: 100, nextRunAt: 200, lastRunAt: 150, lastJobId: 'j1' }])
      await store.write([{ op: 'schedule', schedule: { ...((await store.schedules())[0] as ScheduleRecord), paused: true } }])
      const [result] = await store.write([{ op: 'schedule', schedule: schedule({ nextRunAt: 300 }), fired: 'due' }])
      expect(result).toMatchObject({ ok: false, reason: 'conflict' })
      expect(await store.schedules()).toMatchObject([{ paused: true, nextRunAt: 200 }])
      // A manual trigger runs a paused schedule.
      expect(await store.write([{ op: 'schedule', schedule: schedule({ lastJobId: 'manual' }), fired: 'trigger' }])).toEqual([{ ok: true }])
      expect(await store.schedules()).toMatchObject([{ paused: true, lastJobId: 'manual' }])
    })

    it('a fired schedule that was removed is not written back; its job is rolled back with it', async () => {
      const store = await fresh()
      await store.write([{ op: 'schedule', schedule: schedule() }])
      await store.write([{ op: 'unschedule', id: 's' }])
      const results = await store.write([insert(job('run')), { op: 'schedule', schedule: schedule({ lastJobId: 'run' }), fired: 'due' }], {
        atomic: true,
      })
      expect(results).toMatchObject([
        { ok: false, reason: 'aborted' },
        { ok: false, reason: 'conflict' },
      ])
      expect(await store.schedules()).toEqual([])
      expect(await store.get(['run'])).toEqual([undefined])
    })
  })

  describe('dependents', () => {
    it('finds the jobs that list an id in their dependencies, and follows deletes', async () => {
      const store = await fresh()
      await seed(store, [
        job('a'),
        job('b'),
        job('c', { status: 'blocked', dependencies: ['a', 'b'] }),
        job('d', { status: 'blocked', dependencies: ['a'] }),
        job('e', { dependencies: ['b'] }),
      ])
      expect((await store.dependents('a')).map((j) => j.id).sort()).toEqual(['c', 'd'])
      expect((await store.dependents('b')).map((j) => j.id).sort()).toEqual(['c', 'e'])
      expect(await store.dependents('c')).toEqual([])
      await store.write([{ op: 'delete', ids: ['c'] }])
      expect((await store.dependents('a')).map((j) => j.id)).toEqual(['d'])
    })
  })

  describe('scan', () => {
    it('visits only jobs of the given statuses, each status in seq order, across more than 500 jobs', async () => {
      const store = await fresh()
      const statuses: JobStatus[] = ['waiting', 'delayed', 'completed', 'running']
      const jobs = Array.from({ length: 1300 }, (_, i) => {
        // waiting gets well over one 500-job page
        const status = i % 10 < 6 ? 'waiting' : (statuses[i % 4] as JobStatus)
        return job(`job-${i}`, status === 'completed' ? { status, finishedAt: i } : { status })
      })
      await seed(store, jobs)
      const stored = (await store.get(jobs.map((j) => j.id))) as JobRecord[]

      const visited: JobRecord[] = []
      await store.scan(['waiting', 'running'], (j) => visited.push(j))

      const expected = stored.filter((j) => j.status === 'waiting' || j.status === 'running')
      expect(expected.filter((j) => j.status === 'waiting').length).toBeGreaterThan(500)
      expect(visited).toHaveLength(expected.length)
      expect(new Set(visited.map((j) => j.id))).toEqual(new Set(expected.map((j) => j.id)))
      for (const status of ['waiting', 'running'] as const) {
        const seqs = visited.filter((j) => j.status === status).map((j) => j.seq)
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
      }
      // records as stored, without store-internal fields
      const byId = new Map(stored.map((j) => [j.id, j]))
      for (const j of visited) expect(j).toEqual(byId.get(j.id))
    })

    it('visits nothing for statuses no job is in', async () => {
      const store = await fresh()
      await seed(store, [job('a')])
      const visited: string[] = []
      await store.scan(['blocked', 'cancelled'], (j) => visited.push(j.id))
      await store.scan([], (j) => visited.push(j.id))
      expect(visited).toEqual([])
    })
  })

  describe('expired', () => {
    async function seedFinished(store: Store): Promise<void> {
      await seed(store, [
        job('c300', { status: 'completed', finishedAt: 300 }),
        job('c100', { status: 'completed', finishedAt: 100 }),
        job('c500', { status: 'completed', finishedAt: 500 }),
        job('c200', { status: 'completed', finishedAt: 200 }),
        job('c400', { status: 'completed', finishedAt: 400 }),
        job('f050', { status: 'failed', finishedAt: 50 }),
        job('w', { status: 'waiting' }),
      ])
    }

    it('with finishedBefore, gives the jobs of that status that finished earlier, oldest first', async () => {
      const store = await fresh()
      await seedFinished(store)
      expect(await store.expired('completed', { finishedBefore: 300 }, 100)).toEqual(['c100', 'c200'])
      expect(await store.expired('completed', { finishedBefore: 50 }, 100)).toEqual([])
      expect(await store.expired('failed', { finishedBefore: 1000 }, 100)).toEqual(['f050'])
    })

    it('with keep, gives the jobs beyond the newest `keep`, oldest first', async () => {
      const store = await fresh()
      await seedFinished(store)
      expect(await store.expired('completed', { keep: 2 }, 100)).toEqual(['c100', 'c200', 'c300'])
      expect(await store.expired('completed', { keep: 0 }, 100)).toEqual(['c100', 'c200', 'c300', 'c400', 'c500'])
      expect(await store.expired('completed', { keep: 5 }, 100)).toEqual([])
      expect(await store.expired('completed', { keep: 10 }, 100)).toEqual([])
    })

    it('with both, gives the union: too old or beyond keep', async () => {
      const store = await fresh()
      await seedFinished(store)
      expect(await store.expired('completed', { finishedBefore: 350, keep: 4 }, 100)).toEqual(['c100', 'c200', 'c300'])
      expect(await store.expired('completed', { finishedBefore: 150, keep: 2 }, 100)).toEqual(['c100', 'c200', 'c300'])
    })

    it('gives at most `limit` ids, and nothing without a rule', async () => {
      const store = await fresh()
      await seedFinished(store)
      expect(await store.expired('completed', { keep: 0 }, 2)).toEqual(['c100', 'c200'])
      expect(await store.expired('completed', {}, 100)).toEqual([])
    })

    it('follows deletes: expired jobs once deleted are gone', async () => {
      const store = await fresh()
      await seedFinished(store)
      const ids = await store.expired('completed', { keep: 3 }, 100)
      await store.write([{ op: 'delete', ids }])
      expect(await store.expired('completed', { keep: 3 }, 100)).toEqual([])
      expect((await store.counts()).completed).toBe(3)
    })
  })

  // Optional (Store.fencing): without it, a frozen runner is never replaced.
  if (has.fencing)
    describe('fencing', () => {
      it('claims a runner token; ops fenced with another token write nothing and give "fenced"', async () => {
        const store = await fresh()
        expect(store.fencing).toBe(true)
        await seed(store, [job('a'), job('b')])
        // No token claimed yet: any fenced op is refused.
        expect(await store.write([{ op: 'put', job: { ...((await store.get(['a']))[0] as JobRecord), priority: 9 }, fence: 't1' }])).toEqual([
          { ok: false, reason: 'fenced' },
        ])
        expect(await store.write([{ op: 'claim', token: 't1' }])).toEqual([{ ok: true }])
        const a = (await store.get(['a']))[0] as JobRecord
        expect(await store.write([{ op: 'put', job: { ...a, status: 'running' }, expect: ['waiting'], fence: 't1' }])).toEqual([{ ok: true }])
        // Another runner takes over: the first one's writes, of every kind, are refused.
        await store.write([{ op: 'claim', token: 't2' }])
        const before = await store.counts()
        const refused = await store.write([
          { op: 'put', job: { ...a, status: 'completed', finishedAt: 5 }, expect: ['running'], result: 1, fence: 't1' },
          ...(has.steps ? [{ op: 'step', id: 'a', step: 's', value: 1, fence: 't1' } satisfies WriteOp] : []),
          { op: 'log', id: 'a', entries: [log('late')], fence: 't1' },
          { op: 'error', id: 'a', record: errorRecord(1), fence: 't1' },
          { op: 'insert', job: job('c'), data: 1, fence: 't1' },
          { op: 'delete', ids: ['b'], fence: 't1' },
          { op: 'claim', token: 't1', fence: 't1' },
        ])
        expect(refused.every((r) => !r.ok && r.reason === 'fenced')).toBe(true)
        expect((await store.get(['a', 'b', 'c'])).map((j) => j?.status)).toEqual(['running', 'waiting', undefined])
        expect(await store.logs('a')).toEqual([])
        expect(await store.errors('a')).toEqual([])
        if (has.steps) expect(await store.steps?.('a')).toEqual({})
        expect(await store.counts()).toEqual(before)
        // Unfenced ops (another tab's add, cancel) and the holder's own still land, in the same batch.
        const mixed = await store.write([
          { op: 'insert', job: job('d'), data: 1 },
          has.steps ? { op: 'step', id: 'a', step: 's', value: 2, fence: 't2' } : { op: 'log', id: 'a', entries: [log('holder')], fence: 't2' },
          { op: 'put', job: { ...a, status: 'completed' }, expect: ['running'], fence: 't1' },
        ])
        expect(mixed.map((r) => r.ok)).toEqual([true, true, false])
        if (has.steps) expect(await store.steps?.('a')).toEqual({ s: 2 })
      })

      it('a claim is seen by the ops after it in its batch; a fenced op rolls an atomic batch back', async () => {
        const store = await fresh()
        await seed(store, [job('a')])
        expect(
          await store.write([
            { op: 'claim', token: 'x' },
            { op: 'insert', job: job('b'), data: 1, fence: 'x' },
          ]),
        ).toEqual([{ ok: true }, { ok: true, seq: 2 }])
        const atomic = await store.write(
          [
            { op: 'insert', job: job('c'), data: 1 },
            { op: 'insert', job: job('e'), data: 1, fence: 'y' },
          ],
          { atomic: true },
        )
        expect(atomic).toEqual([
          { ok: false, reason: 'aborted' },
          { ok: false, reason: 'fenced' },
        ])
        expect((await store.get(['c', 'e'])).every((j) => j === undefined)).toBe(true)
        expect((await store.counts()).waiting).toBe(2)
      })
    })

  describe('releases', () => {
    const release = (version: string | number, tasks: string[], seenAt = 1): ReleaseRecord => ({
      version,
      tasks: Object.fromEntries(tasks.map((name) => [name, name === 'slow' ? { timeout: 5, concurrency: 2, rateLimit: { max: 1, per: 10 } } : {}])),
      seenAt,
    })

    // Optional (Store.releases): without it, tabs check task names against their own worker only.
    if (has.releases)
      it("keeps one record per release, replaced by a later one of the same version, and the runner's", async () => {
        const store = await fresh()
        expect(await store.releases?.()).toEqual({ known: [], runner: undefined })
        expect(await store.write([{ op: 'release', release: release(1, ['a', 'slow']) }])).toEqual([{ ok: true }])
        await store.write([{ op: 'release', release: release('1.10', ['a', 'b'], 2) }])
        await store.write([{ op: 'release', release: release(1, ['a', 'slow'], 3) }])
        const read = (await store.releases?.()) as StoredReleases
        expect(read.runner).toBeUndefined()
        expect(read.known.sort((x, y) => x.seenAt - y.seenAt)).toEqual([release('1.10', ['a', 'b'], 2), release(1, ['a', 'slow'], 3)])
        await store.write([{ op: 'release', release: release('1.10', ['a', 'b'], 4), runner: true }])
        expect((await store.releases?.())?.runner).toEqual(release('1.10', ['a', 'b'], 4))
        // Another tab announces the runner's release again: it stays the runner's.
        await store.write([{ op: 'release', release: release('1.10', ['a', 'b'], 5) }])
        expect((await store.releases?.())?.runner).toEqual(release('1.10', ['a', 'b'], 5))
      })

    if (has.releases && has.fencing)
      it('drops the releases named in `drop`; a fenced release op of a runner that lost its place writes nothing', async () => {
        const store = await fresh()
        await store.write([{ op: 'release', release: release('old', ['a']) }])
        await store.write([{ op: 'claim', token: 't1' }])
        expect(
          await store.write([{ op: 'release', release: release('new', ['a', 'b'], 2), runner: true, drop: ['old', 'never-stored'], fence: 't1' }]),
        ).toEqual([{ ok: true }])
        expect(await store.releases?.()).toEqual({ known: [release('new', ['a', 'b'], 2)], runner: release('new', ['a', 'b'], 2) })
        await store.write([{ op: 'claim', token: 't2' }])
        expect(await store.write([{ op: 'release', release: release('late', ['a']), runner: true, fence: 't1' }])).toEqual([
          { ok: false, reason: 'fenced' },
        ])
        expect((await store.releases?.())?.runner?.version).toBe('new')
      })

    it("a job's release and why it waits are kept with it", async () => {
      const store = await fresh()
      await seed(store, [job('a', { version: '2.1' })])
      await update(store, 'a', { waitingFor: 'release' })
      expect((await store.get(['a']))[0]).toMatchObject({ version: '2.1', waitingFor: 'release', status: 'waiting' })
      expect((await store.list({ limit: 10 }))[0]).toMatchObject({ version: '2.1', waitingFor: 'release' })
    })
  })
}
