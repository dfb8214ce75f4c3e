// The module a developer edits: hot reload re-runs it, and with it `createQueue`.
import { createQueue } from 'offthread'
import type { Tasks } from './tasks.worker'

const GENERATION = 1

declare global {
  interface Window {
    queue: ReturnType<typeof createQueue<Tasks>>
    generation: number
    warnings: string[]
    runs: Array<{ id: string; at: 'start' | 'end' }>
  }
}

if (!window.warnings) {
  window.warnings = []
  const warn = console.warn.bind(console)
  console.warn = (...args: unknown[]) => {
    window.warnings.push(args.map(String).join(' '))
    warn(...args)
  }
  window.runs = []
  new BroadcastChannel('hot-runs').onmessage = (event: MessageEvent<{ id: string; at: 'start' | 'end' }>) => window.runs.push(event.data)
}

window.queue = createQueue<Tasks>({
  name: 'hot',
  worker: () => new Worker(new URL('./tasks.worker.ts', import.meta.url), { type: 'module' }),
  concurrency: 2,
})
window.generation = GENERATION
document.querySelector('#state')!.textContent = `generation ${GENERATION}`

// Self-accepting: an edit re-runs this module in place (no page reload), as a component module would be.
import.meta.hot?.accept()
