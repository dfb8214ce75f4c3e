import { defineTasks, type TaskContext } from 'offthread/worker'
import { tileRow, type TileInput, type TileOutput } from './fractal'

export type Filter = 'grayscale' | 'sepia' | 'blur'

export interface ImageInput {
  image: Blob
  filter: Filter
  width: number
  label?: string
}

const yieldNow = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0))

async function tile(input: TileInput, ctx: TaskContext): Promise<TileOutput> {
  const started = performance.now()
  ctx.log.info(`tile ${input.index} of ${input.label}`, { x: input.x, y: input.y, maxIter: input.maxIter })
  const pixels = new Uint8ClampedArray(input.size * input.size * 4)
  let lastYield = performance.now()
  for (let row = 0; row < input.size; row++) {
    tileRow(input, pixels, row)
    // Yield every ~25 ms, not every few rows: a worker's nested timers are clamped to 4 ms each.
    if (performance.now() - lastYield > 25) {
      ctx.progress(Math.round(((row + 1) / input.size) * 100))
      // Let progress out and a cancel in.
      await yieldNow()
      ctx.signal.throwIfAborted()
      lastYield = performance.now()
    }
  }
  ctx.log.info('tile done', { ms: Math.round(performance.now() - started) })
  const buffer = pixels.buffer
  return ctx.transfer({ index: input.index, x: input.x, y: input.y, size: input.size, pixels: buffer }, [buffer])
}

async function image(input: ImageInput, ctx: TaskContext): Promise<Blob> {
  ctx.log.info('decoding', { bytes: input.image.size, type: input.image.type })
  const bitmap = await createImageBitmap(input.image)
  const width = Math.min(input.width, bitmap.width)
  const height = Math.max(1, Math.round((bitmap.height * width) / bitmap.width))
  ctx.progress(20)
  const canvas = new OffscreenCanvas(width, height)
  const g = canvas.getContext('2d')
  if (!g) throw new Error('no 2d context on OffscreenCanvas')
  g.drawImage(bitmap, 0, 0, width, height)
  bitmap.close()
  ctx.log.info('thumbnail', { width, height })
  ctx.progress(40)
  ctx.signal.throwIfAborted()
  const frame = g.getImageData(0, 0, width, height)
  // Pixel loops by hand rather than ctx.filter: the point is work done in the worker, in every browser.
  if (input.filter === 'blur') boxBlur(frame, 4, 3)
  else tint(frame, input.filter)
  g.putImageData(frame, 0, 0)
  ctx.log.info(`applied ${input.filter}`)
  ctx.progress(80)
  const out = await canvas.convertToBlob({ type: 'image/png' })
  ctx.log.info('encoded', { bytes: out.size })
  return out
}

function tint(frame: ImageData, filter: 'grayscale' | 'sepia'): void {
  const d = frame.data
  for (let i = 0; i < d.length; i += 4) {
    const r = d[i]!
    const g = d[i + 1]!
    const b = d[i + 2]!
    if (filter === 'grayscale') {
      const l = 0.2126 * r + 0.7152 * g + 0.0722 * b
      d[i] = d[i + 1] = d[i + 2] = l
    } else {
      d[i] = 0.393 * r + 0.769 * g + 0.189 * b
      d[i + 1] = 0.349 * r + 0.686 * g + 0.168 * b
      d[i + 2] = 0.272 * r + 0.534 * g + 0.131 * b
    }
  }
}

// Repeated box blurs approximate a Gaussian.
function boxBlur(frame: ImageData, radius: number, passes: number): void {
  const { width: w, height: h, data } = frame
  const tmp = new Uint8ClampedArray(data.length)
  const n = radius * 2 + 1
  for (let p = 0; p < passes; p++) {
    blurLine(data, tmp, w, h, 4, w * 4, radius, n)
    blurLine(tmp, data, h, w, w * 4, 4, radius, n)
  }
}

function blurLine(
  src: Uint8ClampedArray,
  dst: Uint8ClampedArray,
  len: number,
  lines: number,
  step: number,
  lineStep: number,
  radius: number,
  n: number,
): void {
  for (let line = 0; line < lines; line++) {
    const base = line * lineStep
    for (let c = 0; c < 4; c++) {
      let sum = 0
      for (let k = -radius; k <= radius; k++) sum += src[base + Math.min(len - 1, Math.max(0, k)) * step + c]!
      for (let i = 0; i < len; i++) {
        dst[base + i * step + c] = sum / n
        const add = Math.min(len - 1, i + radius + 1)
        const drop = Math.max(0, i - radius)
        sum += src[base + add * step + c]! - src[base + drop * step + c]!
      }
    }
  }
}

export const tasks = defineTasks({
  tile,
  image,

  // Tiny jobs for the "add 1,000" button: what matters is the queue's overhead, not the work.
  async small(n: number, ctx) {
    let h = n
    for (let i = 0; i < 20_000; i++) h = (h * 31 + i) | 0
    ctx.progress(100)
    return h
  },

  // Never looks at its signal and never yields: only terminating the worker stops it.
  stuck(seconds: number, ctx) {
    ctx.log.warn('spinning in a busy loop; this handler ignores cancel')
    const end = Date.now() + seconds * 1000
    let spins = 0
    while (Date.now() < end) spins++
    return spins
  },

  async flaky(_: null, ctx) {
    ctx.log.info(`attempt ${ctx.attempt}`)
    ctx.progress(ctx.attempt * 33)
    await new Promise((resolve) => setTimeout(resolve, 300))
    if (ctx.attempt < 3) throw new Error(`flaky failure on attempt ${ctx.attempt}`)
    ctx.log.info('third time lucky')
    return 'ok'
  },
})
export type Tasks = typeof tasks
