// Shared by the worker and the page's "same work on the main thread" comparison.

export interface View {
  label: string
  cx: number
  cy: number
  /** Half the width of the view, in the complex plane. */
  scale: number
  maxIter: number
}

export const VIEWS: View[] = [
  { label: 'Seahorse valley', cx: -0.743643887, cy: 0.131825904, scale: 0.0032, maxIter: 2500 },
  { label: 'Elephant valley', cx: 0.2925, cy: 0.0149, scale: 0.012, maxIter: 1800 },
  { label: 'Spiral', cx: -0.761574, cy: -0.0847596, scale: 0.0019, maxIter: 3000 },
  { label: 'Mini-brot', cx: -1.7687788, cy: -0.0017389, scale: 0.00085, maxIter: 2400 },
]

export interface TileInput extends View {
  render: string
  index: number
  x: number
  y: number
  size: number
  /** The whole image's width in pixels (it is square). */
  width: number
}

export interface TileOutput {
  index: number
  x: number
  y: number
  size: number
  pixels: ArrayBuffer
}

// 5×5 samples per pixel: smooth edges, and enough work per tile (~0.4 s on a fast core) to watch it progress.
const SS = 5

/** Fills one row of a tile's RGBA pixels. */
export function tileRow(input: TileInput, pixels: Uint8ClampedArray, row: number): void {
  const { size, maxIter } = input
  const half = input.width / 2
  for (let col = 0; col < size; col++) {
    let r = 0
    let g = 0
    let b = 0
    for (let sy = 0; sy < SS; sy++) {
      for (let sx = 0; sx < SS; sx++) {
        const px = input.x + col + (sx + 0.5) / SS
        const py = input.y + row + (sy + 0.5) / SS
        colour(input.cx + ((px - half) / half) * input.scale, input.cy + ((py - half) / half) * input.scale, maxIter)
        r += rgb[0]
        g += rgb[1]
        b += rgb[2]
      }
    }
    const o = (row * size + col) * 4
    pixels[o] = r / (SS * SS)
    pixels[o + 1] = g / (SS * SS)
    pixels[o + 2] = b / (SS * SS)
    pixels[o + 3] = 255
  }
}

// Reused so the inner loop allocates nothing.
const rgb: [number, number, number] = [0, 0, 0]

function colour(x0: number, y0: number, maxIter: number): void {
  let x = 0
  let y = 0
  let x2 = 0
  let y2 = 0
  let i = 0
  while (x2 + y2 <= 256 && i < maxIter) {
    y = 2 * x * y + y0
    x = x2 - y2 + x0
    x2 = x * x
    y2 = y * y
    i++
  }
  if (i >= maxIter) {
    rgb[0] = 10
    rgb[1] = 12
    rgb[2] = 32
    return
  }
  // Smooth iteration count, so the colour bands do not step.
  const t = Math.sqrt(i + 1 - Math.log2(Math.log2(x2 + y2) / 2)) / 7
  rgb[0] = 128 + 127 * Math.cos(6.283 * (t + 0.55))
  rgb[1] = 128 + 127 * Math.cos(6.283 * (t + 0.65))
  rgb[2] = 128 + 127 * Math.cos(6.283 * (t + 0.8))
}

/** Splits a square image into grid × grid tile inputs. */
export function tilesFor(render: string, view: View, width: number, grid: number): TileInput[] {
  const size = width / grid
  return Array.from({ length: grid * grid }, (_, index) => ({
    ...view,
    render,
    index,
    x: (index % grid) * size,
    y: Math.floor(index / grid) * size,
    size,
    width,
  }))
}
