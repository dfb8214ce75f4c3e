/**
 * The job state machine (src/runner/transition.ts), every status × every move,
 * and each builder the queue uses to change a job's status.
 */
import { describe, expect, it } from 'vitest'
import {
  MAX_INTERRUPTIONS,
  MOVES,
  NEXT,
  afterAttempt,
  cancelled,
  due,
  initialStatus,
  interrupted,
  moved,
  requeued,
  started,
  step,
  unblocked,
  type Move,
} from '../../src/runner/transition.js'
import { JOB_STATUSES, JOIN_TASK, type JobStatus } from '../../src/shared/types.js'
import type { JobRecord } from '../../src/store/store.js'
import { jobRecord } from '../helpers/records.js'

/** Job "j" in `status` at rev 5, with `fields` over it. */
const job = (status: JobStatus, fields: Partial<JobRecord> = {}): JobRecord => jobRecord('j', { status, seq: 1, rev: 5, ...fields })

/** The table as the contract's state diagram draws it (API.md, "States"). */
const EXPECTED: Record<JobStatus, Partial<Record<Move, JobStatus>>> = {
  waiting: { start: 'running', cancel: 'cancelled' },
  delayed: { start: 'running', due: 'waiting', move: 'delayed', cancel: 'cancelled' },
  blocked: { unblock: 'waiting', 'unblock-later': 'delayed', 'dependency-failed': 'failed', cancel: 'cancelled', join: 'completed' },
  running: {
    complete: 'completed',
    fail: 'failed',
    retry: 'waiting',
    'retry-later': 'delayed',
    interrupt: 'waiting',
    'give-up': 'failed',
    resume: 'waiting',
    cancel: 'cancelled',
    sleep: 'delayed',
  },
  completed: {},
  failed: { requeue: 'waiting' },
  cancelled: { requeue: 'waiting' },
}

describe('the job state machine', () => {
  for (const status of JOB_STATUSES) {
    for (const move of MOVES) {
      const to = EXPECTED[status][move]
      it(`${status} × ${move} → ${to ?? 'not allowed'}`, () => {
        expect(NEXT[status][move]).toBe(to)
        const before = job(status)
        if (to === undefined) {
          expect(() => step(before, move)).toThrow(TypeError)
          expect(() => step(before, move)).toThrow(`a ${status} job cannot ${move}`)
        } else {
          const after = step(before, move, { priority: 7 })
          expect(after.status).toBe(to)
          expect(after.rev).toBe(before.rev + 1)
          expect(after.priority).toBe(7)
          expect(before.status).toBe(status) // pure: the input is untouched
        }
      })
    }
  }

  it('final states have no way out but retry() of failed and cancelled jobs', () => {
    expect(Object.keys(NEXT.completed)).toEqual([])
    expect(Object.keys(NEXT.failed)).toEqual(['requeue'])
    expect(Object.keys(NEXT.cancelled)).toEqual(['requeue'])
  })

  it('a new job starts blocked, delayed or waiting', () => {
    expect(initialStatus(true, 0, 10)).toBe('blocked')
    expect(initialStatus(false, 11, 10)).toBe('delayed')
    expect(initialStatus(false, 10, 10)).toBe('waiting')
  })

  it('started, due, moved, requeued', () => {
    expect(started(job('waiting'), 42)).toMatchObject({ status: 'running', startedAt: 42, rev: 6 })
    expect(() => started(job('running'), 42)).toThrow(TypeError)
    expect(due(job('delayed'))).toMatchObject({ status: 'waiting', rev: 5 })
    expect(moved(job('delayed'), 99)).toMatchObject({ status: 'delayed', runAt: 99, rev: 6 })
    const back = requeued(job('failed', { attempt: 3, interruptions: 2, finishedAt: 9, startedAt: 8, progress: 50 }), 77)
    expect(back).toMatchObject({ status: 'waiting', attempt: 1, interruptions: 0, runAt: 77, rev: 6 })
    expect(back).not.toHaveProperty('finishedAt')
    expect(back).not.toHaveProperty('startedAt')
    expect(back).not.toHaveProperty('progress')
    expect(() => requeued(job('completed'), 1)).toThrow(TypeError)
  })

  it('cancelled() ends a not-yet-final job with a JobCancelledError', () => {
    for (const status of ['waiting', 'delayed', 'blocked', 'running'] as const) {
      expect(cancelled(job(status), 'why', 5)).toMatchObject({
        status: 'cancelled',
        finishedAt: 5,
        error: { name: 'JobCancelledError', message: 'why' },
      })
    }
    expect(() => cancelled(job('completed'), undefined, 5)).toThrow(TypeError)
  })

  it(`interrupted() sends a running job back, recorded, and fails it on the ${MAX_INTERRUPTIONS}rd interruption`, () => {
    const once = interrupted(job('running', { startedAt: 3 }), 10)
    expect(once.job).toMatchObject({ status: 'waiting', interruptions: 1 })
    expect(once.job).not.toHaveProperty('startedAt')
    expect(once.ops).toMatchObject([
      { op: 'put', expect: ['running'] },
      { op: 'error', record: { name: 'InterruptedError' } },
    ])
    const last = interrupted(job('running', { interruptions: MAX_INTERRUPTIONS - 1 }), 10)
    expect(last.job).toMatchObject({ status: 'failed', interruptions: MAX_INTERRUPTIONS, finishedAt: 10, error: { name: 'InterruptedError' } })
  })

  describe('afterAttempt', () => {
    const running = job('running', { startedAt: 1 })
    const policy = { attempts: 3, backoff: 'fixed' as const, delay: 100, jitter: false }
    const failure = { type: 'failed' as const, error: { name: 'Error', message: 'boom' } }

    it('completed', () => {
      const { next, change, ops } = afterAttempt(running, { type: 'completed', result: 1 }, undefined, policy, 9)
      expect(next).toMatchObject({ status: 'completed', finishedAt: 9 })
      expect(change).toMatchObject({ event: 'completed', result: 1 })
      expect(ops).toEqual([])
    })
    it('failed with attempts left: delayed by the backoff, attempt + 1, one error record', () => {
      const { next, change, ops } = afterAttempt(running, failure, undefined, policy, 9)
      expect(next).toMatchObject({ status: 'delayed', attempt: 2, runAt: 109, interruptions: 0 })
      expect(next).not.toHaveProperty('startedAt')
      expect(change).toMatchObject({ event: 'retrying', delay: 100 })
      expect(ops).toMatchObject([{ op: 'error', record: { attempt: 1, message: 'boom' } }])
    })
    it('failed with no delay: waiting at once', () => {
      expect(afterAttempt(running, failure, undefined, { ...policy, delay: 0 }, 9).next.status).toBe('waiting')
    })
    it('failed while offline, for a job that needs the network: waiting for it, the attempt unused, no error recorded', () => {
      const offline = [
        { type: 'failed' as const, error: { name: 'TypeError', message: 'Failed to fetch' } },
        { type: 'failed' as const, error: { name: 'RetryError', message: 'offline' }, retry: {} },
      ]
      for (const outcome of offline) {
        const { next, change, ops } = afterAttempt(job('running', { attempt: 3 }), outcome, undefined, policy, 9, true)
        expect(next).toMatchObject({ status: 'waiting', attempt: 3, waitingFor: 'network' })
        expect(next).not.toHaveProperty('startedAt')
        expect(change.event).toBe('requeued')
        expect(ops).toEqual([])
      }
      // Online (or a job that does not need the network), the same failures are ordinary ones.
      expect(afterAttempt(running, offline[0] as (typeof offline)[0], undefined, policy, 9, false).change.event).toBe('retrying')
      // Offline, other failures are ordinary ones.
      expect(afterAttempt(running, failure, undefined, policy, 9, true).change.event).toBe('retrying')
    })
    it('slept (ctx.sleep): delayed until its time, the attempt unused, marked to read its steps', () => {
      const { next, change, ops } = afterAttempt(job('running', { attempt: 2, startedAt: 3 }), { type: 'sleep', until: 5000 }, undefined, policy, 9)
      expect(next).toMatchObject({ status: 'delayed', attempt: 2, runAt: 5000, slept: true })
      expect(next).not.toHaveProperty('startedAt')
      expect(change.event).toBe('requeued')
      expect(ops).toEqual([])
    })
    it('waiting for a signal (ctx.waitFor): delayed until its timeout, with why and which signal; a start clears them', () => {
      const { next } = afterAttempt(
        job('running', { attempt: 2, startedAt: 3 }),
        { type: 'sleep', until: 7000, signal: 'approved' },
        undefined,
        policy,
        9,
      )
      expect(next).toMatchObject({ status: 'delayed', attempt: 2, runAt: 7000, slept: true, waitingFor: 'signal', signal: 'approved' })
      const slept = afterAttempt(job('running'), { type: 'sleep', until: 5000 }, undefined, policy, 9).next
      expect([slept.waitingFor, slept.signal]).toEqual(['sleep', undefined])
      const again = started(due(next), 10)
      expect(again).not.toHaveProperty('waitingFor')
      expect(again).not.toHaveProperty('signal')
    })
    it('failed on the last attempt: failed', () => {
      const { next, change } = afterAttempt(job('running', { attempt: 3 }), failure, undefined, policy, 9)
      expect(next).toMatchObject({ status: 'failed', finishedAt: 9, error: { message: 'boom' } })
      expect(change.event).toBe('failed')
    })
    it('UnknownTaskError and JobDataError are never retried', () => {
      for (const name of ['UnknownTaskError', 'JobDataError']) {
        expect(afterAttempt(running, { type: 'failed', error: { name, message: 'x' } }, undefined, policy, 9).next.status).toBe('failed')
      }
    })
    it('cancelled while running: cancelled whatever the handler did', () => {
      const stop = { kind: 'cancel' as const, error: new Error('stop'), reason: 'user' }
      for (const outcome of [{ type: 'completed' as const, result: 1 }, failure, undefined]) {
        const { next, change } = afterAttempt(running, outcome, stop, policy, 9)
        expect(next.status).toBe('cancelled')
        expect(change).toMatchObject({ event: 'cancelled', reason: 'user' })
      }
    })
    it('a timeout fails the attempt (and retries under the policy)', () => {
      const stop = { kind: 'timeout' as const, error: Object.assign(new Error('late'), { name: 'JobTimeoutError' }) }
      const { next, ops } = afterAttempt(running, { type: 'completed', result: 1 }, stop, policy, 9)
      expect(next.status).toBe('delayed')
      expect(ops).toMatchObject([{ op: 'error', record: { name: 'JobTimeoutError' } }])
    })
    it('closed mid-run: back to waiting, recorded as interrupted; a completed one still completes', () => {
      const stop = { kind: 'close' as const, error: new Error('closed') }
      const { next, ops } = afterAttempt(running, failure, stop, policy, 9)
      expect(next).toMatchObject({ status: 'waiting', attempt: 1 })
      expect(ops).toMatchObject([{ op: 'error', record: { name: 'InterruptedError' } }])
      expect(afterAttempt(running, { type: 'completed', result: 2 }, stop, policy, 9).next.status).toBe('completed')
    })
    it('no outcome (its worker died running another job of its batch): back to waiting, unharmed', () => {
      const { next, change, ops } = afterAttempt(running, undefined, undefined, policy, 9)
      expect(next).toMatchObject({ status: 'waiting', attempt: 1 })
      expect(change.event).toBe('requeued')
      expect(ops).toEqual([])
    })
  })

  describe('unblocked', () => {
    const blocked = job('blocked', { dependencies: ['a', 'b'], runAt: 50 })
    const dep = (id: string, status: JobStatus): JobRecord =>
      job(status, { id, error: status === 'failed' || status === 'cancelled' ? { name: 'Error', message: `${id} ${status}` } : undefined })

    it('still waiting while any dependency is unfinished', () => {
      expect(unblocked(blocked, [dep('a', 'completed'), dep('b', 'running')], 10)).toBeUndefined()
    })
    it('all completed: waiting, or delayed when its own runAt is later', () => {
      expect(unblocked(blocked, [dep('a', 'completed'), dep('b', 'completed')], 60)?.next.status).toBe('waiting')
      expect(unblocked(blocked, [dep('a', 'completed'), dep('b', 'completed')], 10)?.next.status).toBe('delayed')
    })
    it('a failed or deleted dependency fails it, with the cause', () => {
      const failed = unblocked(blocked, [dep('a', 'failed'), dep('b', 'running')], 10)
      expect(failed?.next).toMatchObject({ status: 'failed', error: { name: 'JobFailedError', message: 'Dependency a (task) failed' } })
      expect(unblocked(blocked, [dep('a', 'completed'), undefined], 10)?.next.error?.message).toBe('Dependency b no longer exists')
    })
    it('a cancelled dependency cancels it', () => {
      expect(unblocked(blocked, [dep('a', 'cancelled'), dep('b', 'completed')], 10)?.change).toMatchObject({ event: 'cancelled' })
    })
    it('a join job completes (its result is set by the caller)', () => {
      const join = job('blocked', { name: JOIN_TASK, dependencies: ['a'] })
      expect(unblocked(join, [dep('a', 'completed')], 10)).toMatchObject({
        next: { status: 'completed', startedAt: 10, finishedAt: 10 },
        change: { event: 'completed' },
      })
    })
  })
})
