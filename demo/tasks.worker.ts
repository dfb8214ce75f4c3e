import { defineTasks } from 'offthread/worker'

export const tasks = defineTasks({
  async countPrimes(limit: number, ctx) {
    let count = 0
    for (let n = 2; n <= limit; n++) {
      if (ctx.signal.aborted) throw ctx.signal.reason
      let prime = true
      for (let d = 2; d * d <= n; d++) {
        if (n % d === 0) {
          prime = false
          break
        }
      }
      if (prime) count++
      if (n % 20_000 === 0) {
        ctx.progress(Math.round((n / limit) * 100))
        // Yield now and then so a cancel arrives.
        await new Promise((resolve) => setTimeout(resolve, 0))
      }
    }
    ctx.log.info('counted', { limit, count })
    return count
  },
})
export type Tasks = typeof tasks
