// @ts-nocheck: the README's runtime example, plain JS, run as written by test/node/runtimes-readme.test.ts.
import { defineTasks } from 'offthread/worker'

export const tasks = defineTasks({
  async double(n, ctx) {
    ctx.progress(50)
    return n * 2
  },
})
