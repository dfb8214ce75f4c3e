// The worker side of the size budget: one task.
import { defineTasks } from 'offthread/worker'

export const tasks = defineTasks({
  double: (n: number) => n * 2,
})
