// @ts-nocheck: plain JS that Deno and Bun run as is (the repo typechecks JS strictly).
// Tasks of the sqliteStore process tests: `hold` appends its start and end (with the
// process id) to a log file, so a test can check no attempt ran in two processes at once.
import { appendFileSync } from 'node:fs'
import { defineTasks } from 'offthread/worker'
import { sleep } from '../helpers/sleep.js'

const pid = globalThis.Deno?.pid ?? globalThis.process?.pid

export const tasks = defineTasks({
  double: (n) => n * 2,
  noop: () => undefined,
  /** Waits for signal `name` (ctx.waitFor) and returns its payload. */
  waiter: (name, ctx) => ctx.waitFor(name),
  async hold({ ms, log, id }, ctx) {
    if (log) appendFileSync(log, `${JSON.stringify({ pid, id, ev: 'start', t: Date.now() })}\n`)
    await sleep(ms, ctx.signal)
    if (log) appendFileSync(log, `${JSON.stringify({ pid, id, ev: 'end', t: Date.now() })}\n`)
    return { pid }
  },
})
