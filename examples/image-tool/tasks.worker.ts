// The worker: a PNG codec compiled to WebAssembly (@jsquash/png, Squoosh's Rust codec)
// decodes each image, the handler halves it (a 2×2 box filter, in plain JS), and the
// codec encodes the result. All of it off the page's thread, with progress and cancel.
import { decode, encode } from '@jsquash/png'
import { defineTasks } from 'offthread/worker'

/** One image to shrink: its name and its PNG bytes. */
export interface ShrinkInput {
  name: string
  png: Uint8Array
}

/** The shrunk image: a PNG, its size, and how long the WASM codec took. */
export interface ShrinkOutput {
  name: string
  png: Uint8Array
  width: number
  height: number
  codecMs: number
}

const tasks = defineTasks({
  shrink: {
    timeout: 60_000,
    retry: { attempts: 2 },
    async handler(input: ShrinkInput, ctx): Promise<ShrinkOutput> {
      let t = performance.now()
      const image = await decode(input.png.buffer.slice(input.png.byteOffset, input.png.byteOffset + input.png.byteLength) as ArrayBuffer)
      let codecMs = performance.now() - t
      ctx.progress(20)
      const width = Math.max(1, image.width >> 1)
      const height = Math.max(1, image.height >> 1)
      const out = new Uint8ClampedArray(width * height * 4)
      const src = image.data
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          for (let c = 0; c < 4; c++) {
            const at = (dy: number, dx: number): number => src[((2 * y + dy) * image.width + (2 * x + dx)) * 4 + c] ?? 0
            out[(y * width + x) * 4 + c] = (at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) >> 2
          }
        }
        // Every 64 rows: report, and let a cancel in (a loop of plain code never lets a message through).
        if (y % 64 === 63) {
          ctx.progress(20 + Math.round((60 * y) / height))
          await ctx.yield()
        }
      }
      t = performance.now()
      const png = new Uint8Array(await encode(new ImageData(out, width, height)))
      codecMs += performance.now() - t
      ctx.progress(100)
      // Handed back zero-copy.
      return ctx.transfer({ name: input.name, png, width, height, codecMs }, [png.buffer])
    },
  },
})

export type Tasks = typeof tasks
