// The worker of the server's queue: each job makes a report of a text, in durable steps
// (a restart of the server mid-job does not count the words again).
import { defineTasks } from 'offthread/worker'

const tasks = defineTasks({
  report: {
    timeout: 30_000,
    async handler(text: string, ctx): Promise<{ words: number; top: Array<[string, number]> }> {
      const words = await ctx.step('split', () => text.toLowerCase().match(/[\p{L}']+/gu) ?? [])
      ctx.progress(50)
      const counts = await ctx.step('count', () => {
        const seen = new Map<string, number>()
        for (const word of words) seen.set(word, (seen.get(word) ?? 0) + 1)
        return [...seen].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 3)
      })
      ctx.progress(100)
      return { words: words.length, top: counts }
    },
  },
})

export type Tasks = typeof tasks
