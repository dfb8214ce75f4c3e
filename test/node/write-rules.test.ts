/**
 * The write rules (src/store/write-rules.ts) on their own, case by case: a store of
 * plain maps supplies the reads and records every put, so each rule is seen deciding
 * what an op writes and answers, without any storage.
 */
import { describe, expect, it } from 'vitest'
import { firedOnto, groupOnto, holdsKey, rolledBack, WriteRules, zeroCounts, type Reads, type Sink } from '../../src/store/write-rules.js'
import type { GroupRecord, JobRecord, ScheduleRecord, WriteOp, WriteResult } from '../../src/store/store.js'
import type { JobStatus, LogEntry } from '../../src/shared/types.js'
import { jobRecord as job } from '../helpers/records.js'

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

const insert = (j: JobRecord, data: unknown = null): WriteOp => ({ op: 'insert', job: j, data })
const put = (j: JobRecord, more: Partial<Extract<WriteOp, { op: 'put' }>> = {}): WriteOp => ({ op: 'put', job: j, ...more })

/** A value the fake store refuses, as a real one refuses a function. */
const BAD = Symbol('uncloneable')
const refuse = (value: unknown): void => {
  if (value === BAD || (typeof value === 'object' && value !== null && Object.values(value).includes(BAD))) {
    throw new DOMException('cannot store it', 'DataCloneError')
  }
}

/** What the fake store throws when it writes a job of id `broken`: its storage failed. */
const STORAGE = new Error('disk I/O error')

/** A store of maps: reads see what the sink wrote; `calls` lists every write. */
function fakeStore(
  stored: { jobs?: JobRecord[]; schedules?: ScheduleRecord[]; seq?: number; runner?: string } = {},
  fatal?: (error: unknown) => boolean,
): {
  rules: WriteRules<JobRecord>
  calls: string[]
  jobs: Map<string, JobRecord | undefined>
  schedules: Map<string, ScheduleRecord | undefined>
  groups: Map<string, GroupRecord | undefined>
} {
  const jobs = new Map<string, JobRecord | undefined>((stored.jobs ?? []).map((j) => [j.id, j]))
  const schedules = new Map<string, ScheduleRecord | undefined>((stored.schedules ?? []).map((s) => [s.id, s]))
  const groups = new Map<string, GroupRecord | undefined>()
  const calls: string[] = []
  const reads: Reads<JobRecord> = {
    job: (id) => jobs.get(id),
    holder: (key) => [...jobs.values()].find((j) => j && holdsKey(j) && j.key === key)?.id,
    schedule: (id) => schedules.get(id),
    group: (id) => groups.get(id),
  }
  const sink: Sink<JobRecord> = {
    record: (row) => ({ ...row }),
    insert(j, seq, data) {
      if (j.id === 'broken') throw STORAGE
      refuse(data)
      jobs.set(j.id, { ...j, seq })
      calls.push(`insert ${j.id} ${seq}`)
    },
    put(op, old) {
      if ('data' in op) refuse(op.data)
      if ('result' in op) refuse(op.result)
      jobs.set(op.job.id, op.job)
      calls.push(`put ${op.job.id} ${old?.status ?? 'none'}→${op.job.status}`)
    },
    remove(id, old) {
      jobs.set(id, undefined)
      calls.push(`remove ${id}${old ? '' : ' (none)'}`)
    },
    log(id, entry) {
      refuse(entry.meta)
      calls.push(`log ${id} ${entry.message}${entry.meta && 'unserializable' in entry.meta ? ' (meta noted)' : ''}`)
    },
    error(id, record) {
      refuse(record.message)
      calls.push(`error ${id}`)
    },
    step(id, step, value) {
      refuse(value)
      calls.push(`step ${id} ${step}`)
    },
    schedule(record) {
      refuse(record.data)
      schedules.set(record.id, record)
      calls.push(`schedule ${record.id} ${record.nextRunAt}`)
    },
    unschedule(id) {
      schedules.set(id, undefined)
      calls.push(`unschedule ${id}`)
    },
    release(op) {
      refuse(op.release.tasks)
      calls.push(`release ${String(op.release.version)}`)
    },
    group(id, record) {
      groups.set(id, record)
      calls.push(`group ${id} ${record ? JSON.stringify(record) : 'deleted'}`)
    },
    ...(fatal ? { fatal } : {}),
  }
  return { rules: new WriteRules(reads, sink, stored.seq ?? 0, stored.runner), calls, jobs, schedules, groups }
}

const applyAll = (rules: WriteRules<JobRecord>, ops: WriteOp[]): WriteResult[] => ops.map((op) => rules.apply(op))

describe('write rules', () => {
  describe('insert', () => {
    it('gives each new job the next seq, and counts it in its status', () => {
      const { rules, calls } = fakeStore({ seq: 7 })
      expect(applyAll(rules, [insert(job('a')), insert(job('b', { status: 'delayed' }))])).toEqual([
        { ok: true, seq: 8 },
        { ok: true, seq: 9 },
      ])
      expect(rules.seq).toBe(9)
      expect(calls).toEqual(['insert a 8', 'insert b 9'])
      expect(rules.counted).toMatchObject({ waiting: 1, delayed: 1, running: 0 })
    })

    it('an existing id gives "exists" with the stored job and writes nothing', () => {
      const stored = job('a', { name: 'first', seq: 1 })
      const { rules, calls } = fakeStore({ jobs: [stored], seq: 1 })
      expect(rules.apply(insert(job('a', { name: 'second' })))).toEqual({ ok: false, reason: 'exists', job: stored })
      expect(calls).toEqual([])
      expect(rules.seq).toBe(1)
    })

    it('a key held by an unfinished job gives "key" with the holder; a finished job holds no key', () => {
      const holder = job('a', { key: 'k', status: 'running', seq: 1 })
      const { rules } = fakeStore({ jobs: [holder, job('old', { key: 'free', status: 'completed' })] })
      expect(rules.apply(insert(job('b', { key: 'k' })))).toEqual({ ok: false, reason: 'key', job: holder })
      expect(rules.apply(insert(job('c', { key: 'free' })))).toMatchObject({ ok: true })
    })

    it('a key taken earlier in the batch is held; one inserted in a final status is not', () => {
      const { rules } = fakeStore()
      expect(applyAll(rules, [insert(job('a', { key: 'k' })), insert(job('b', { key: 'k' }))])).toMatchObject([
        { ok: true },
        { ok: false, reason: 'key', job: { id: 'a' } },
      ])
      expect(applyAll(rules, [insert(job('c', { key: 'f', status: 'cancelled' })), insert(job('d', { key: 'f' }))])).toMatchObject([
        { ok: true },
        { ok: true },
      ])
    })

    it('a value the store refuses gives "uncloneable", uses no seq and counts nothing', () => {
      const { rules, calls } = fakeStore({ seq: 3 })
      const [refused, next] = applyAll(rules, [insert(job('a', { key: 'k' }), BAD), insert(job('b', { key: 'k' }))])
      expect(refused).toMatchObject({ ok: false, reason: 'uncloneable', error: { name: 'DataCloneError' } })
      // the refused job took neither a seq nor its key
      expect(next).toEqual({ ok: true, seq: 4 })
      expect(calls).toEqual(['insert b 4'])
      expect(rules.counted.waiting).toBe(1)
    })
  })

  describe('put', () => {
    it('moves the counts from the stored status to the new one (a put of a job not stored only adds)', () => {
      const { rules } = fakeStore({ jobs: [job('a', { status: 'running' })] })
      applyAll(rules, [put(job('a', { status: 'completed' })), put(job('ghost', { status: 'failed' }))])
      expect(rules.counted).toMatchObject({ running: -1, completed: 1, failed: 1 })
    })

    it('with expect: "conflict" with the stored job when its status is another, or with none when it is missing', () => {
      const stored = job('a')
      const { rules, calls } = fakeStore({ jobs: [stored] })
      expect(rules.apply(put(job('a', { status: 'completed' }), { expect: ['running'] }))).toEqual({ ok: false, reason: 'conflict', job: stored })
      expect(rules.apply(put(job('ghost'), { expect: ['waiting'] }))).toEqual({ ok: false, reason: 'conflict', job: undefined })
      expect(rules.apply(put(job('a', { status: 'running' }), { expect: ['delayed', 'waiting'] }))).toEqual({ ok: true })
      expect(calls).toEqual(['put a waiting→running'])
    })

    it('expect sees the batch: a second move from the same status conflicts with the first', () => {
      const { rules } = fakeStore({ jobs: [job('a')] })
      const running = job('a', { status: 'running', rev: 2 })
      expect(applyAll(rules, [put(running, { expect: ['waiting'] }), put(job('a', { status: 'cancelled' }), { expect: ['waiting'] })])).toEqual([
        { ok: true },
        { ok: false, reason: 'conflict', job: running },
      ])
    })

    it('a refused result or data fails the put alone, and moves no count', () => {
      const { rules, calls } = fakeStore({ jobs: [job('a', { status: 'running' })] })
      expect(rules.apply(put(job('a', { status: 'completed' }), { result: BAD }))).toMatchObject({ ok: false, reason: 'uncloneable' })
      expect(rules.apply(put(job('a'), { data: { x: BAD } }))).toMatchObject({ ok: false, reason: 'uncloneable' })
      expect(calls).toEqual([])
      expect(Object.values(rules.counted).every((n) => n === 0)).toBe(true)
    })

    it('a holder put in a final status frees its key for the rest of the batch', () => {
      const { rules } = fakeStore({ jobs: [job('a', { key: 'k', status: 'running' })] })
      expect(applyAll(rules, [put(job('a', { key: 'k', status: 'failed' })), insert(job('b', { key: 'k' }))])).toMatchObject([
        { ok: true },
        { ok: true },
      ])
    })

    it('an unfinished job put back takes its key when free, and never from another unfinished holder', () => {
      const retried = job('r', { key: 'k', status: 'waiting' })
      const { rules } = fakeStore({ jobs: [job('r', { key: 'k', status: 'failed' })] })
      expect(applyAll(rules, [put(retried), insert(job('b', { key: 'k' }))])).toMatchObject([
        { ok: true },
        { ok: false, reason: 'key', job: { id: 'r' } },
      ])
      const other = fakeStore({ jobs: [job('h', { key: 'k', status: 'running' }), job('r', { key: 'k', status: 'failed' })] })
      // r is put back while h holds the key: h keeps it, and frees it when it finishes.
      expect(applyAll(other.rules, [put(retried), insert(job('b', { key: 'k' })), put(job('h', { key: 'k', status: 'completed' }))])).toMatchObject([
        { ok: true },
        { ok: false, reason: 'key', job: { id: 'h' } },
        { ok: true },
      ])
    })
  })

  describe('delete', () => {
    it('removes each id once, counts the jobs that were stored, and frees their keys', () => {
      const { rules, calls } = fakeStore({ jobs: [job('a', { key: 'k' }), job('b', { status: 'completed' })] })
      expect(applyAll(rules, [{ op: 'delete', ids: ['a', 'b', 'a', 'missing'] }, insert(job('c', { key: 'k' }))])).toMatchObject([
        { ok: true },
        { ok: true },
      ])
      expect(calls).toEqual(['remove a', 'remove b', 'remove missing (none)', 'insert c 1'])
      expect(rules.counted).toMatchObject({ waiting: 0, completed: -1 })
    })
  })

  describe('step', () => {
    it('is stored only while its job runs; else "conflict" with the job', () => {
      const waiting = job('w')
      const { rules, calls } = fakeStore({ jobs: [job('r', { status: 'running' }), waiting] })
      expect(
        applyAll(rules, [
          { op: 'step', id: 'r', step: 's1', value: 1 },
          { op: 'step', id: 'w', step: 's1', value: 1 },
          { op: 'step', id: 'gone', step: 's1', value: 1 },
          { op: 'step', id: 'r', step: 's2', value: BAD },
        ]),
      ).toMatchObject([
        { ok: true },
        { ok: false, reason: 'conflict', job: waiting },
        { ok: false, reason: 'conflict', job: undefined },
        { ok: false, reason: 'uncloneable' },
      ])
      expect(calls).toEqual(['step r s1'])
    })
  })

  describe('schedules', () => {
    it('a fired schedule writes only its run onto the stored one', () => {
      const stored = schedule({ every: 100 })
      const fired = schedule({ every: 999, nextRunAt: 200, lastRunAt: 150, lastJobId: 'j1' })
      const { rules, schedules } = fakeStore({ schedules: [stored] })
      expect(rules.apply({ op: 'schedule', schedule: fired, fired: 'due' })).toEqual({ ok: true })
      expect(schedules.get('s')).toEqual(firedOnto(stored, fired))
      expect(schedules.get('s')).toMatchObject({ every: 100, nextRunAt: 200, lastRunAt: 150, lastJobId: 'j1' })
    })

    it('"due" conflicts with a paused or missing schedule; "trigger" only with a missing one', () => {
      const { rules } = fakeStore({ schedules: [schedule({ paused: true })] })
      expect(
        applyAll(rules, [
          { op: 'schedule', schedule: schedule(), fired: 'due' },
          { op: 'schedule', schedule: schedule(), fired: 'trigger' },
          { op: 'schedule', schedule: schedule({ id: 'none' }), fired: 'trigger' },
        ]),
      ).toEqual([{ ok: false, reason: 'conflict', job: undefined }, { ok: true }, { ok: false, reason: 'conflict', job: undefined }])
    })

    it('a schedule removed earlier in the batch is not run past', () => {
      const { rules } = fakeStore({ schedules: [schedule()] })
      expect(
        applyAll(rules, [
          { op: 'unschedule', id: 's' },
          { op: 'schedule', schedule: schedule(), fired: 'trigger' },
        ]),
      ).toEqual([{ ok: true }, { ok: false, reason: 'conflict', job: undefined }])
    })

    it('a schedule the store refuses is "uncloneable"', () => {
      const { rules } = fakeStore()
      expect(rules.apply({ op: 'schedule', schedule: schedule({ data: BAD }) })).toMatchObject({ ok: false, reason: 'uncloneable' })
    })
  })

  describe('logs, errors, releases', () => {
    it('a log line whose meta cannot be stored keeps its message, with a note for its meta', () => {
      const { rules, calls } = fakeStore()
      const lines: LogEntry[] = [
        { level: 'info', message: 'one', timestamp: 1 },
        { level: 'info', message: 'two', timestamp: 2, meta: { fn: BAD } },
      ]
      expect(rules.apply({ op: 'log', id: 'a', entries: lines })).toEqual({ ok: true })
      expect(calls).toEqual(['log a one', 'log a two (meta noted)'])
    })

    it('an error record or a release the store refuses is "uncloneable"', () => {
      const { rules } = fakeStore()
      expect(
        rules.apply({ op: 'error', id: 'a', record: { attempt: 1, name: 'Error', message: BAD as unknown as string, failedAt: 1 } }),
      ).toMatchObject({
        ok: false,
        reason: 'uncloneable',
      })
      expect(rules.apply({ op: 'release', release: { version: 1, tasks: BAD as never, seenAt: 1 } })).toMatchObject({
        ok: false,
        reason: 'uncloneable',
      })
      expect(rules.apply({ op: 'release', release: { version: 2, tasks: {}, seenAt: 1 } })).toEqual({ ok: true })
    })
  })

  describe('fences', () => {
    it('an op fenced with another token writes nothing and gives "fenced"; a claim changes the token from then on', () => {
      const { rules, calls } = fakeStore({ runner: 'old' })
      expect(
        applyAll(rules, [
          { ...insert(job('a')), fence: 'new' },
          { ...insert(job('b')), fence: 'old' },
          { op: 'claim', token: 'new' },
          { ...insert(job('c')), fence: 'old' },
          { ...insert(job('d')), fence: 'new' },
          insert(job('e')),
        ]),
      ).toMatchObject([{ ok: false, reason: 'fenced' }, { ok: true }, { ok: true }, { ok: false, reason: 'fenced' }, { ok: true }, { ok: true }])
      expect(calls).toEqual(['insert b 1', 'insert d 2', 'insert e 3'])
      expect(rules.runner).toBe('new')
      expect(rules.claimed).toBe(true)
      expect(rules.fenced({ op: 'claim', token: 'x', fence: 'old' })).toBe(true)
    })
  })

  describe('errors of the storage', () => {
    it("an error the sink calls the storage's fails the whole write; a value's fails its op alone", () => {
      const { rules } = fakeStore({}, (error) => error === STORAGE)
      expect(rules.apply(insert(job('a'), BAD))).toMatchObject({ ok: false, reason: 'uncloneable' })
      expect(() => rules.apply(insert(job('broken')))).toThrow(STORAGE)
      // A sink that tells no errors apart: every one is its value's.
      expect(fakeStore().rules.apply(insert(job('broken')))).toMatchObject({ ok: false, reason: 'uncloneable', error: STORAGE })
    })
  })

  describe('counts and roll-back', () => {
    it('counts() adds the write to the counts a store keeps', () => {
      const { rules } = fakeStore({ jobs: [job('a', { status: 'running' })] })
      applyAll(rules, [put(job('a', { status: 'completed' })), insert(job('b'))])
      const stored: Record<JobStatus, number> = { ...zeroCounts(), running: 4, completed: 10 }
      expect(rules.counts(stored)).toEqual({ ...zeroCounts(), running: 3, completed: 11, waiting: 1 })
      expect(rules.counts(undefined)).toEqual({ ...zeroCounts(), running: -1, completed: 1, waiting: 1 })
    })

    it('an atomic batch rolls back on "uncloneable", "conflict" or "fenced"; the others then say "aborted", their own failure kept', () => {
      const exists: WriteResult = { ok: false, reason: 'exists', job: job('x') }
      for (const failure of [
        { ok: false, reason: 'uncloneable', error: new Error('x') },
        { ok: false, reason: 'conflict', job: undefined },
        { ok: false, reason: 'fenced' },
      ] as WriteResult[]) {
        expect(rolledBack([{ ok: true, seq: 1 }, exists, failure], true)).toEqual([
          { ok: false, reason: 'aborted' },
          { ok: false, reason: 'aborted' },
          failure,
        ])
        expect(rolledBack([{ ok: true }, failure], false)).toBeUndefined()
      }
    })

    it('an id or key taken is no failure: such a batch commits', () => {
      expect(
        rolledBack([{ ok: true }, { ok: false, reason: 'exists', job: job('x') }, { ok: false, reason: 'key', job: job('y') }], true),
      ).toBeUndefined()
    })
  })

  describe('group settings', () => {
    it('a group op changes only the fields it gives, onto the stored settings', () => {
      const { rules, groups } = fakeStore()
      expect(rules.apply({ op: 'group', id: 'g', limits: { concurrency: 2 } })).toEqual({ ok: true })
      expect(groups.get('g')).toEqual({ id: 'g', limits: { concurrency: 2 } })
      rules.apply({ op: 'group', id: 'g', paused: true })
      expect(groups.get('g')).toEqual({ id: 'g', limits: { concurrency: 2 }, paused: true })
      rules.apply({ op: 'group', id: 'g', limits: { rateLimit: { max: 1, per: 10 } } })
      expect(groups.get('g')).toEqual({ id: 'g', limits: { rateLimit: { max: 1, per: 10 } }, paused: true })
      rules.apply({ op: 'group', id: 'g', paused: false })
      expect(groups.get('g')).toEqual({ id: 'g', limits: { rateLimit: { max: 1, per: 10 } } })
    })

    it('a group left with no limits and not paused is deleted', () => {
      const { rules, groups, calls } = fakeStore()
      rules.apply({ op: 'group', id: 'g', paused: true })
      rules.apply({ op: 'group', id: 'g', paused: false })
      expect(groups.get('g')).toBeUndefined()
      rules.apply({ op: 'group', id: 'h', limits: { concurrency: 1 } })
      rules.apply({ op: 'group', id: 'h', limits: null })
      expect(groups.get('h')).toBeUndefined()
      expect(calls.at(-1)).toBe('group h deleted')
    })

    it('groupOnto keeps what the op does not give', () => {
      const stored: GroupRecord = { id: 'g', limits: { concurrency: 3 }, paused: true }
      expect(groupOnto(stored, { op: 'group', id: 'g' })).toEqual(stored)
      expect(groupOnto(undefined, { op: 'group', id: 'g' })).toBeUndefined()
      expect(groupOnto(stored, { op: 'group', id: 'g', limits: null, paused: false })).toBeUndefined()
    })
  })
})
