/**
 * Batch tasks (task option `batch`) without a browser: the option's checks, the runner's
 * holding of due jobs (runner/task-batches.ts), and `runTask` of a batch task, which runs
 * the same code a worker does (worker/batch.ts).
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { JobDataError, OffthreadError, RetryError } from '../../src/shared/errors.js'
import { resolveTaskOptions } from '../../src/shared/options.js'
import type { WorkerManifest } from '../../src/shared/protocol.js'
import type { JobRecord } from '../../src/store/store.js'
import { jobRecord } from '../helpers/records.js'
import { TaskBatches } from '../../src/runner/task-batches.js'
import { nextTurn } from '../../src/shared/timers.js'
import { runTask } from '../../src/testing.js'
import { defineTasks, type BatchContext } from '../../src/worker.js'

const thrown = (fn: () => unknown): Error => {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('did not throw')
}

describe('the batch option', () => {
  it('resolves size and wait (wait 0 by default) into the manifest', () => {
    expect(resolveTaskOptions('embed', { handler: () => [], batch: { size: 50, wait: 100 } }).batch).toEqual({ size: 50, wait: 100 })
    expect(resolveTaskOptions('embed', { handler: () => [], batch: { size: 1 } }).batch).toEqual({ size: 1, wait: 0 })
  })

  it('rejects a bad batch with an error that names the task and the field', () => {
    // A number out of range is a RangeError; a value of the wrong kind, or a missing size, a TypeError.
    const cases: Array<[unknown, string, typeof TypeError]> = [
      [{ size: 0 }, 'Invalid option "embed.batch.size": expected an integer ≥ 1, received 0', RangeError],
      [{ size: 2.5 }, 'Invalid option "embed.batch.size": expected an integer ≥ 1, received 2.5', RangeError],
      [{ size: '2' }, 'Invalid option "embed.batch.size": expected an integer ≥ 1, received "2"', TypeError],
      [{ wait: 5 }, 'Invalid option "embed.batch.size": expected an integer ≥ 1, received undefined', TypeError],
      [{ size: 2, wait: -1 }, 'Invalid option "embed.batch.wait": expected a finite number ≥ 0, received -1', RangeError],
      [{ size: 2, wait: Infinity }, 'Invalid option "embed.batch.wait": expected a finite number ≥ 0, received Infinity', RangeError],
      [{ size: 2, every: 1 }, 'Unknown option "embed.batch.every": expected one of size, wait', TypeError],
      [50, 'Invalid option "embed.batch": expected an object { size, wait? }, received 50', TypeError],
    ]
    for (const [batch, message, Kind] of cases) {
      const error = thrown(() => resolveTaskOptions('embed', { handler: () => [], batch }))
      expect([error.constructor, error.message]).toEqual([Kind, message])
    }
  })
})

describe('TaskBatches (the runner holds due jobs of a batch task)', () => {
  afterEach(() => vi.useRealTimers())
  /** A held batch's timer wakes the loop in a task of its own (a message, which fake timers do not hold back). */
  const advance = async (ms: number): Promise<void> => {
    vi.advanceTimersByTime(ms)
    for (let i = 0; i < 3; i++) await nextTurn()
  }

  const manifest: WorkerManifest = { tasks: { embed: { batch: { size: 3, wait: 100 } }, now: { batch: { size: 2, wait: 0 } }, plain: {} } }
  let made = 0
  const job = (name: string): JobRecord => jobRecord(`j${++made}`, { name })
  const make = (suspects: Set<string> = new Set()) => {
    const counted: string[] = []
    const due = vi.fn()
    const batches = new TaskBatches({
      manifest: () => manifest,
      limits: { count: (j) => void counted.push(j.id), uncount: (j) => void counted.splice(counted.indexOf(j.id), 1) },
      due,
      suspect: (id) => suspects.has(id),
    })
    return { batches, counted, due }
  }

  it('knows batch tasks from the manifest', () => {
    const { batches } = make()
    expect([batches.isBatchTask('embed'), batches.isBatchTask('plain'), batches.isBatchTask('nope')]).toEqual([true, false, false])
  })

  it('a full batch goes at once, at most size jobs, in order; the rest wait on', () => {
    vi.useFakeTimers()
    const { batches, counted } = make()
    const jobs = [1, 2, 3, 4].map(() => job('embed'))
    for (const j of jobs) batches.hold(j, Date.now())
    expect(counted).toEqual(jobs.map((j) => j.id))
    expect(batches.size).toBe(4)
    expect(batches.ready()).toBe('embed')
    expect(batches.take('embed', Date.now()).map((j) => j.id)).toEqual(jobs.slice(0, 3).map((j) => j.id))
    expect(batches.ready()).toBeUndefined()
    expect(batches.size).toBe(1)
  })

  it('the first job waits `wait` ms for company, then its batch goes with what there is', async () => {
    vi.useFakeTimers()
    const { batches, due } = make()
    const first = job('embed')
    batches.hold(first, Date.now())
    await advance(60)
    batches.hold(job('embed'), Date.now())
    expect(batches.ready()).toBeUndefined()
    await advance(39)
    expect(due).not.toHaveBeenCalled()
    await advance(1)
    expect(due).toHaveBeenCalledTimes(1)
    expect(batches.ready()).toBe('embed')
    expect(batches.take('embed', Date.now())).toHaveLength(2)
  })

  it('what stays after a batch waits from its own time, not from when the batch went', async () => {
    vi.useFakeTimers()
    const { batches, due } = make()
    for (let i = 0; i < 3; i++) batches.hold(job('embed'), Date.now())
    await advance(50)
    batches.hold(job('embed'), Date.now())
    batches.take('embed', Date.now())
    await advance(99)
    expect(due).not.toHaveBeenCalled()
    await advance(1)
    expect(batches.ready()).toBe('embed')
  })

  it('wait 0: what is due goes at once', () => {
    const { batches } = make()
    batches.hold(job('now'), Date.now())
    expect(batches.ready()).toBe('now')
  })

  it('a job that was in a batch whose worker died goes alone', () => {
    const suspects = new Set<string>()
    const { batches } = make(suspects)
    const [a, b, c] = [job('embed'), job('embed'), job('embed')]
    suspects.add(b.id)
    for (const j of [a, b, c]) batches.hold(j, Date.now())
    expect(batches.take('embed', Date.now()).map((j) => j.id)).toEqual([a.id, c.id])
    expect(batches.ready()).toBe('embed')
    expect(batches.take('embed', Date.now()).map((j) => j.id)).toEqual([b.id])
    expect(batches.size).toBe(0)
  })

  it('a held job taken out (cancelled) leaves its limits and its batch', async () => {
    vi.useFakeTimers()
    const { batches, counted, due } = make()
    const a = job('embed')
    batches.hold(a, Date.now())
    expect(batches.has(a.id)).toBe(true)
    expect(batches.remove(a.id)?.id).toBe(a.id)
    expect([batches.has(a.id), batches.size, counted]).toEqual([false, 0, []])
    expect(batches.remove(a.id)).toBeUndefined()
    await advance(200)
    expect(due).not.toHaveBeenCalled()
  })
})

interface State {
  scale: number
}

const tasks = defineTasks(
  {
    embed: {
      batch: { size: 10, wait: 50 },
      handler(texts: string[], ctx: BatchContext<State>) {
        ctx.log.info('call')
        ctx.progress(0)
        return texts.map((text, i) => {
          ctx.batch.log(i).info(`item ${ctx.batch.ids[i]}`)
          ctx.batch.progress(i, 100)
          if (text === 'bad') ctx.batch.fail(i, new Error(`bad input at ${i}`))
          if (text === 'later') ctx.batch.fail(i, ctx.retry({ delay: 5, reason: 'later' }))
          return text.length * ctx.state.scale
        })
      },
    },
    odd: {
      batch: { size: 10 },
      handler(inputs: Array<'throw' | 'short' | 'null' | 'range' | 'step'>, ctx: BatchContext<State>) {
        if (inputs.includes('throw')) throw new Error('the model is down')
        if (inputs.includes('null')) return null as unknown as number[]
        if (inputs.includes('range')) ctx.batch.fail(inputs.length, new Error('no such job'))
        if (inputs.includes('step')) return ctx.step('s', () => 1).then(() => [1])
        return inputs.slice(1).map(() => 1)
      },
    },
  },
  { setup: (): State => ({ scale: 2 }) },
)

describe('runTask with a batch task', () => {
  it('calls the handler once with the inputs; each job ends on its own, with its own progress and logs', async () => {
    const run = await runTask(tasks.embed, ['ab', 'bad', 'abc', 'later'], { state: { scale: 2 }, ids: ['a', 'b', 'c', 'd'] })
    expect(run.items.map((item) => [item.id, item.status, item.result])).toEqual([
      ['a', 'completed', 4],
      ['b', 'failed', undefined],
      ['c', 'completed', 6],
      ['d', 'retry', undefined],
    ])
    expect(run.items[1]?.error?.message).toBe('bad input at 1')
    expect(run.items[3]?.retry).toEqual({ delay: 5, reason: 'later' })
    expect(run.items[3]?.error).toBeInstanceOf(RetryError)
    expect(run.items.map((item) => item.logs.map((entry) => entry.message))).toEqual([
      ['call', 'item a'],
      ['call', 'item b'],
      ['call', 'item c'],
      ['call', 'item d'],
    ])
    expect(run.items.map((item) => item.progress)).toEqual([
      [0, 100],
      [0, 100],
      [0, 100],
      [0, 100],
    ])
  })

  it('names the jobs after options.id by default', async () => {
    const run = await runTask(tasks.embed, ['x', 'y'], { state: { scale: 1 }, id: 'job' })
    expect(run.items.map((item) => item.id)).toEqual(['job-0', 'job-1'])
  })

  it('a throw fails every job; a result not one per input fails every job, saying so', async () => {
    const thrownRun = await runTask(tasks.odd, ['throw', 'short'])
    expect(thrownRun.items.map((item) => [item.status, item.error?.message])).toEqual([
      ['failed', 'the model is down'],
      ['failed', 'the model is down'],
    ])
    const short = await runTask(tasks.odd, ['short', 'short'])
    for (const item of short.items) {
      expect(item.error).toBeInstanceOf(JobDataError)
      expect(item.error?.message).toBe('Batch task "task" must return an array of 2 results, one per input in order; it returned an array of 1')
    }
    const none = await runTask(tasks.odd, ['null'], { name: 'odd' })
    expect(none.items[0]?.error?.message).toBe('Batch task "odd" must return an array of 1 results, one per input in order; it returned null')
  })

  it('fail(i) with an index out of range throws a RangeError in the handler (every job fails with it)', async () => {
    const run = await runTask(tasks.odd, ['range', 'range'], { name: 'odd' })
    expect(run.items[0]?.error).toBeInstanceOf(RangeError)
    expect(run.items[0]?.error?.message).toBe(
      'ctx.batch.fail(index, …) in batch task "odd": expected an integer from 0 to 1 (the batch has 2 jobs), received 2',
    )
  })

  it('ctx.step rejects in a batch task', async () => {
    const run = await runTask(tasks.odd, ['step'], { name: 'odd' })
    expect(run.items[0]?.error).toBeInstanceOf(OffthreadError)
    expect(run.items[0]?.error?.message).toMatch(/^ctx\.step\(\) cannot be used in batch task "odd"/)
  })

  it('rejects inputs that are no array, ids that do not match them, and steps', async () => {
    await expect(runTask(tasks.embed, 'a' as unknown as string[], { state: { scale: 1 } })).rejects.toThrow(
      'Invalid option "inputs": expected a non-empty array (batch task "task" takes one input per job), received "a"',
    )
    await expect(runTask(tasks.embed, ['a'], { state: { scale: 1 }, ids: ['x', 'y'] })).rejects.toThrow(RangeError)
    await expect(runTask(tasks.embed, ['a'], { state: { scale: 1 }, steps: {} })).rejects.toThrow('batch task "task" has no durable steps')
  })

  it('an abort aborts the batch: every job records it', async () => {
    const controller = new AbortController()
    controller.abort()
    const run = await runTask(
      { batch: { size: 2 }, handler: (inputs: number[], ctx: BatchContext) => (ctx.signal.throwIfAborted(), inputs) },
      [1, 2],
      { signal: controller.signal },
    )
    expect(run.abortReason?.name).toBe('JobCancelledError')
    expect(run.items.map((item) => [item.status, item.error?.name])).toEqual([
      ['failed', 'JobCancelledError'],
      ['failed', 'JobCancelledError'],
    ])
  })
})
