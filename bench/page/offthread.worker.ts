import { defineTasks } from 'offthread/worker'
import { burn, mix, noop } from './tasks.js'

export const tasks = defineTasks({
  noop,
  cpu: (ms: number) => burn(ms),
  mix,
  /** S8: the size of a big input, a small result. */
  bytes: (data: { buf: ArrayBuffer }) => data.buf.byteLength,
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
