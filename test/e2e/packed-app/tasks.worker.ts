// tasks.worker.ts: the jobs, registered by name
import { defineTasks } from 'offthread/worker'

export const tasks = defineTasks({
  async countPrimes(limit: number, ctx) {
    let count = 0
    for (let n = 2; n <= limit; n++) {
      let prime = true
      for (let d = 2; d * d <= n; d++)
        if (n % d === 0) {
          prime = false
          break
        }
      if (prime) count++
      if (n % 10_000 === 0) ctx.progress(Math.round((n / limit) * 100))
    }
    return count
  },
})
export type Tasks = typeof tasks
