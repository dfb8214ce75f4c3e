/**
 * The page's lifecycle as offthread needs it: the moment a page is frozen (Chrome
 * freezes background tabs: the Page Lifecycle `freeze` event) or put in the
 * back/forward cache (`pagehide` with `persisted`), and the moment it runs again
 * (`resume`, `pageshow`). A frozen page runs no code: whatever it holds open (an
 * IndexedDB transaction, the runner's place) blocks every other tab until it
 * resumes, which may be never. Listeners are added on first use, once per page.
 */

type Listener = () => void

const onFreeze = new Set<Listener>()
let frozen = false
const waiting: Array<() => void> = []
let listening = false

function listen(): void {
  if (listening) return
  listening = true
  const target = globalThis as { document?: EventTarget; addEventListener?: EventTarget['addEventListener'] }
  if (typeof target.addEventListener !== 'function') return
  const freeze = (): void => {
    if (frozen) return
    frozen = true
    for (const listener of [...onFreeze]) {
      try {
        listener()
      } catch (error) {
        console.error('[offthread] freeze listener:', error)
      }
    }
  }
  const resume = (): void => {
    if (!frozen) return
    frozen = false
    for (const wake of waiting.splice(0)) wake()
  }
  target.document?.addEventListener('freeze', freeze)
  target.document?.addEventListener('resume', resume)
  target.addEventListener('pagehide', (event) => {
    if ((event as PageTransitionEvent).persisted) freeze()
  })
  target.addEventListener('pageshow', (event) => {
    if ((event as PageTransitionEvent).persisted) resume()
  })
}

/** Whether the page is frozen or in the back/forward cache now (its code runs only in the instant before). */
export function isFrozen(): boolean {
  listen()
  return frozen
}

/**
 * Calls `listener` when the page is about to be frozen or put in the back/forward
 * cache (synchronously: the page stops right after). Returns the unsubscribe function.
 */
export function whenFreezing(listener: Listener): () => void {
  listen()
  onFreeze.add(listener)
  return () => onFreeze.delete(listener)
}

/** Resolves at once on a page that runs, else when it resumes (or is shown again from the back/forward cache). */
export function whenRunning(): Promise<void> {
  listen()
  if (!frozen) return Promise.resolve()
  return new Promise((resolve) => waiting.push(resolve))
}
