import { defineTasks } from 'offthread/worker'

// Each run is announced on a BroadcastChannel, so the page sees every start and end, whichever queue ran it.
const runs = new BroadcastChannel('hot-runs')

export const tasks = defineTasks({
  async work(ms: number, ctx) {
    runs.postMessage({ id: ctx.id, at: 'start', attempt: ctx.attempt })
    const end = Date.now() + ms
    try {
      while (Date.now() < end) {
        ctx.signal.throwIfAborted()
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    } finally {
      runs.postMessage({ id: ctx.id, at: 'end' })
    }
    return ms
  },
})

export type Tasks = typeof tasks
