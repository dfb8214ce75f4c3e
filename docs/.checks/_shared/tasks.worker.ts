// The example app behind the guides' fragments (not shown on any page): the tasks they add, with the
// input and output types the examples use. scripts/check-docs-code.mjs copies it beside every block.
import { defineTasks, type TaskContext } from 'offthread/worker'
import { countPrimes, geocode, scale, zipFiles } from './helpers'

type Progress = { done: number; total: number }

export const tasks = defineTasks({
  async thumbnail(input: { image?: Uint8Array | Blob; url?: string; width?: number }, ctx) {
    ctx.progress(50)
    return scale(await createImageBitmap(new Blob([])), input.width ?? 256)
  },
  primes: (limit: number, ctx) => countPrimes(limit, ctx),
  countPrimes: (limit: number, ctx) => countPrimes(limit, ctx),
  decode: async (file: Blob) => createImageBitmap(file),
  async resize(input: ImageBitmap | { width: number } | number, ctx: TaskContext<undefined, Progress>) {
    ctx.progress({ done: 1, total: 1 })
    return new Blob([String(typeof input === 'number' ? input : 'width' in input ? input.width : 0)])
  },
  encode: async (image: Blob) => new Blob([image]),
  histogram: (image: ImageBitmap) => [image.width],
  report: (parts: [Blob, number[]]) => `${parts[0].size} ${parts[1].length}`,
  cleanup: (input: { days: number }) => input.days,
  poll: (_input: null) => Date.now(),
  search: (input: { q: string }) => [input.q],
  sync: (item: { id: string }) => item.id,
  upload: (file: File) => file.name,
  zip: { concurrency: 1, handler: zipFiles },
  geocode: { rateLimit: { max: 10, per: 1000 }, handler: geocode },
  async export(input: { month: string }, ctx) {
    return ctx.step('csv', () => `month,${input.month}`)
  },
  double: (n: number) => n * 2,
})
export type Tasks = typeof tasks
