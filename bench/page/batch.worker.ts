// S13's worker module: the same work as one call per job and as one call per batch of 50.
// (A module of its own: the --compare build of an older src/, which has no `batch` option,
// loads only bench/page/offthread.worker.ts.)
import { defineTasks } from 'offthread/worker'
import { burn } from './tasks.js'

/** One input: a text, the fixed cost of one call (a model's, an upload's) and the cost of each item, in ms of CPU. */
export interface Item {
  text: string
  callMs: number
  itemMs: number
}

export const tasks = defineTasks({
  /** One call per job: its fixed cost every time. */
  one(item: Item) {
    burn(item.callMs)
    burn(item.itemMs)
    return item.text.length
  },
  /** One call per batch of up to 50 jobs: its fixed cost once. */
  many: {
    batch: { size: 50, wait: 20 },
    handler(items: Item[]) {
      burn(items[0]?.callMs ?? 0)
      return items.map((item) => {
        burn(item.itemMs)
        return item.text.length
      })
    },
  },
})
export type BatchTasks = typeof tasks
