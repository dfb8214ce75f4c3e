import { defineTasks } from 'offthread/worker'
import { burn, noop } from './tasks.js'

export const tasks = defineTasks({
  noop,
  cpu: (ms: number) => burn(ms),
  /** Cooperative: ends as soon as its signal aborts. */
  wait: (_: null, ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
  /** Ignores its signal for good. */
  spin: () => {
    for (;;) {
      // stuck
    }
  },
})
export type Tasks = typeof tasks
