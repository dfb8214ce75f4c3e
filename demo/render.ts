import type { JobHandle } from 'offthread'
import { tileRow, tilesFor, VIEWS, type TileInput, type TileOutput } from './fractal'
import { queue, queueName } from './queue'

const WIDTH = 768
const GRID = 4
const TOTAL = GRID * GRID
const STATE_KEY = `offthread-demo:${queueName}:render`

interface RenderState {
  id: string
  view: number
}

const canvas = document.querySelector<HTMLCanvasElement>('#render-canvas')!
const g = canvas.getContext('2d')!
const grid = document.querySelector<HTMLDivElement>('#render-grid')!
const doneLabel = document.querySelector<HTMLElement>('#tiles-done')!
const info = document.querySelector<HTMLElement>('#render-info')!

let current: { state: RenderState; handles: JobHandle<TileOutput>[]; done: number; startedAt: number } | undefined

canvas.width = canvas.height = WIDTH
const cells = Array.from({ length: TOTAL }, () => {
  const cell = document.createElement('div')
  cell.className = 'tile'
  cell.innerHTML = '<div class="tile-bar"><span></span></div>'
  grid.append(cell)
  return cell
})

export async function initRender(): Promise<void> {
  document.querySelector('#render-btn')!.addEventListener('click', () => void startRender())
  document.querySelector('#render-cancel')!.addEventListener('click', () => void cancelRender())
  document.querySelector('#render-main')!.addEventListener('click', () => renderOnMainThread())
  const saved = readState()
  // First visit: start at once, so the page shows what it is for without a click.
  if (!saved) return startRender()
  const handles = await Promise.all(tileIds(saved.id).map((id) => queue.getJob<TileOutput>(id)))
  if (handles.some((h) => !h)) return startRender()
  attach(saved, handles as JobHandle<TileOutput>[])
}

async function startRender(): Promise<void> {
  await cancelRender()
  const state: RenderState = { id: `r${Date.now().toString(36)}`, view: ((readState()?.view ?? -1) + 1) % VIEWS.length }
  localStorage.setItem(STATE_KEY, JSON.stringify(state))
  const ids = tileIds(state.id)
  const handles = await queue.addBulk(
    tilesFor(state.id, VIEWS[state.view]!, WIDTH, GRID).map((data, i) => ({
      name: 'tile' as const,
      data,
      // Fixed ids: after a reload the page finds this render's tiles again. Priority: ahead of bulk jobs.
      options: { id: ids[i]!, priority: 1 },
    })),
  )
  attach(state, handles)
}

async function cancelRender(): Promise<void> {
  if (!current) return
  await Promise.all(current.handles.filter((h) => !h.isDone()).map((h) => h.cancel('a new render started')))
}

function attach(state: RenderState, handles: JobHandle<TileOutput>[]): void {
  const run = { state, handles, done: 0, startedAt: Math.min(...handles.map((h) => h.createdAt)) }
  current = run
  g.clearRect(0, 0, WIDTH, WIDTH)
  info.textContent = VIEWS[state.view]!.label
  updateCount(run)
  handles.forEach((handle, i) => {
    const cell = cells[i]!
    const bar = cell.querySelector<HTMLSpanElement>('span')!
    const show = (p: unknown): void => {
      if (typeof p !== 'number') return
      bar.style.width = `${p}%`
      cell.dataset['pct'] = `${Math.round(p)}%`
    }
    cell.dataset['pct'] = ''
    cell.dataset['status'] = handle.status
    bar.style.width = '0%'
    show(handle.progress)
    handle.on('progress', (p) => current === run && show(p))
    let drawn = false
    const draw = (): void => {
      void handle.result().then(
        (tile) => {
          if (current !== run || drawn) return
          drawn = true
          g.putImageData(new ImageData(new Uint8ClampedArray(tile.pixels), tile.size, tile.size), tile.x, tile.y)
          cell.dataset['status'] = 'completed'
          bar.style.width = '100%'
          run.done++
          updateCount(run)
        },
        () => {
          if (current === run) cell.dataset['status'] = handle.status
        },
      )
    }
    handle.on('status', (snap) => {
      if (current !== run) return
      cell.dataset['status'] = snap.status
      // Also after a retry from the jobs table: a tile cancelled once can still be drawn.
      if (snap.status === 'completed') draw()
    })
    draw()
  })
}

function updateCount(run: NonNullable<typeof current>): void {
  doneLabel.dataset['done'] = String(run.done)
  doneLabel.dataset['total'] = String(TOTAL)
  const tail = run.done === TOTAL ? ` in ${((lastFinish(run) - run.startedAt) / 1000).toFixed(1)} s` : ''
  doneLabel.textContent = `${run.done} / ${TOTAL} tiles${tail}`
}

function lastFinish(run: NonNullable<typeof current>): number {
  return Math.max(...run.handles.map((h) => h.toJSON().finishedAt ?? Date.now()))
}

// The comparison: the same code run here blocks the page until it is done. Four tiles are
// enough to feel it; the whole image would freeze the tab for seconds.
function renderOnMainThread(): void {
  const state = current?.state ?? { id: 'main', view: 0 }
  const tiles: TileInput[] = tilesFor('main', VIEWS[state.view]!, WIDTH, GRID).slice(GRID, 2 * GRID)
  const t0 = performance.now()
  for (const tile of tiles) {
    const pixels = new Uint8ClampedArray(tile.size * tile.size * 4)
    for (let row = 0; row < tile.size; row++) tileRow(tile, pixels, row)
    g.putImageData(new ImageData(pixels, tile.size, tile.size), tile.x, tile.y)
  }
  const label = document.querySelector<HTMLElement>('#main-blocked')!
  label.textContent = `the page froze for ${Math.round(performance.now() - t0)} ms: see the frame time at the top`
}

function tileIds(id: string): string[] {
  return Array.from({ length: TOTAL }, (_, i) => `${id}-t${i}`)
}

function readState(): RenderState | undefined {
  try {
    const raw = localStorage.getItem(STATE_KEY)
    return raw ? (JSON.parse(raw) as RenderState) : undefined
  } catch {
    return undefined
  }
}
