/**
 * Which releases of the app have a tab open that can run the queue: each tab with a
 * `worker` holds a Web Lock named for its queue, itself and its release, for as long as
 * it is open. The browser drops a closed tab's locks, so `navigator.locks.query()`
 * tells who is there, without trusting anything a tab said on a channel.
 */
import { hasWebLocks } from './leadership.js'

const PREFIX = 'offthread:release|'

const prefixOf = (queue: string): string => `${PREFIX}${encodeURIComponent(queue)}|`

/** A release mark another tab holds: that tab and its release's key. */
export interface ReleaseMark {
  tab: string
  key: string
}

/**
 * Holds this tab's mark for `queue` (tab `tab`, release `key`) until the returned
 * function is called. Without Web Locks it does nothing.
 */
export function holdReleaseMark(queue: string, tab: string, key: string): () => void {
  if (!hasWebLocks()) return () => undefined
  let release: (() => void) | undefined
  let released = false
  const name = `${prefixOf(queue)}${encodeURIComponent(tab)}|${encodeURIComponent(key)}`
  navigator.locks
    .request(name, { mode: 'shared' }, () => {
      if (released) return undefined
      return new Promise<void>((resolve) => (release = resolve))
    })
    .catch(() => undefined)
  return () => {
    released = true
    release?.()
  }
}

/** The marks held for `queue` by open tabs other than `self` (none without Web Locks). */
export async function releaseMarks(queue: string, self: string): Promise<ReleaseMark[]> {
  if (!hasWebLocks()) return []
  const prefix = prefixOf(queue)
  const state = await navigator.locks.query()
  const marks: ReleaseMark[] = []
  for (const lock of state.held ?? []) {
    if (!lock.name?.startsWith(prefix)) continue
    const [tab, key] = lock.name.slice(prefix.length).split('|').map(decodeURIComponent)
    if (tab !== undefined && key !== undefined && tab !== self) marks.push({ tab, key })
  }
  return marks
}
