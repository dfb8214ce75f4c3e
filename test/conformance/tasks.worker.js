// @ts-nocheck: plain JS that Node, Deno, Bun and Chromium run as is (the repo typechecks JS strictly).
// The conformance suite's worker module, plain JS, one file for every runtime.
// `offthread/worker` is the package's own export: dist/worker.js by package
// self-reference on Node (in a nodeWorker thread), Deno and Bun; src/worker.ts
// in Vitest's Chromium run, where vite.config.ts aliases it.
import { defineTasks } from 'offthread/worker'
import { sleep } from '../helpers/sleep.js'

const WORKER_ID = Math.random()
/** How often each step ran in this worker, by `jobId:stepId`. */
const STEP_RUNS = new Map()

class CustomError extends Error {
  name = 'CustomError'
  code = 'E_CUSTOM'
}

export const tasks = defineTasks({
  echo: (input) => input,
  /**
   * A batch task (up to 10 jobs a call, the first waiting 200 ms for company): each job's result
   * names its call (a random id), the call's size and the job's attempt. An input with `fail`
   * fails alone on its attempt 1.
   */
  batched: {
    batch: { size: 10, wait: 200 },
    retry: { attempts: 2, delay: 0 },
    handler(inputs, ctx) {
      const call = Math.random()
      return inputs.map((input, i) => {
        if (input.fail && ctx.batch.attempts[i] === 1) ctx.batch.fail(i, new Error(`item ${input.n} failed`))
        return { doubled: input.n * 2, call, size: inputs.length, attempt: ctx.batch.attempts[i] }
      })
    },
  },
  async double(n) {
    return n * 2
  },
  async report(steps, ctx) {
    for (let i = 1; i <= steps; i++) {
      ctx.log.info(`step ${i}`, { i })
      ctx.progress(Math.round((i / steps) * 100))
      await sleep(5)
    }
    ctx.log.warn('almost done')
    return 'reported'
  },
  async sleep(ms, ctx) {
    await sleep(ms, ctx.signal)
    return ms
  },
  /** Ignores its signal: only terminating the worker stops it. */
  spin(ms) {
    const end = Date.now() + ms
    while (Date.now() < end) {
      // busy
    }
    return 'spun'
  },
  fail(message) {
    throw new CustomError(message, { cause: new RangeError('inner cause') })
  },
  /** Three durable steps; attempt 1 fails after the second. Returns each step's result and how often each ran here. */
  async stepped(_, ctx) {
    const out = []
    for (const id of ['a', 'b', 'c']) {
      out.push(
        await ctx.step(id, () => {
          STEP_RUNS.set(`${ctx.id}:${id}`, (STEP_RUNS.get(`${ctx.id}:${id}`) ?? 0) + 1)
          return `${id}${ctx.attempt}`
        }),
      )
      if (ctx.attempt === 1 && id === 'b') throw new Error('fails after b')
    }
    return { out, runs: ['a', 'b', 'c'].map((id) => STEP_RUNS.get(`${ctx.id}:${id}`) ?? 0) }
  },
  /** This worker's identity: the same value for every job this worker runs. */
  whoami: () => WORKER_ID,
  /** A loop that only awaits microtasks: a cancel gets in only through ctx.yield(). */
  async microtaskLoop(_, ctx) {
    for (let i = 0; ; i++) {
      await Promise.resolve()
      await ctx.yield()
      if (i === 1000) ctx.progress(1)
    }
  },
  /** Fails until attempt `times + 1`. */
  flaky(times, ctx) {
    if (ctx.attempt <= times) throw new Error(`flaky failure ${ctx.attempt}`)
    return `ok on attempt ${ctx.attempt}`
  },
  /** Ends its worker mid-job, the way each runtime can. */
  exit() {
    setTimeout(() => {
      if (typeof self !== 'undefined' && typeof self.close === 'function') self.close()
      else globalThis.process.exit(3)
    }, 10)
    return new Promise(() => {})
  },
})
