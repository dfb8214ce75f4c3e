/**
 * Cross-tab messages of one queue over a BroadcastChannel: committed changes
 * (so handles in every tab stay live), new jobs (so the runner hears of them
 * at once), and requests a follower makes of the runner. Plain data only.
 */
import type { JobChange } from './dispatcher.js'
import type { WorkerManifest } from './pool/protocol.js'
import type { JobRecord } from './store/store.js'

/** What tabs of one queue tell each other. */
export type ChannelMessage =
  /** A job changed (committed). `data` is never sent: it may be large, and handles keep their own. */
  | { type: 'change'; change: Omit<JobChange, 'data'> }
  /** Jobs were stored by `add`/`addBulk` in some tab. */
  | { type: 'added'; jobs: JobRecord[] }
  /** A follower asks the runner to cancel a job it runs. */
  | { type: 'cancel'; id: string; reason: string | undefined; request: string }
  | { type: 'cancel-reply'; request: string; ok: boolean }
  /** A new tab asks for the worker module's tasks; the runner answers with `manifest`. */
  | { type: 'hello' }
  | { type: 'manifest'; manifest: WorkerManifest }

/** A queue's channel; a no-op where BroadcastChannel is missing. */
export class Channel {
  #channel: BroadcastChannel | undefined

  constructor(queue: string, onMessage: (message: ChannelMessage) => void) {
    if (typeof BroadcastChannel === 'undefined') return
    this.#channel = new BroadcastChannel(`offthread:${queue}`)
    this.#channel.onmessage = (event: MessageEvent<ChannelMessage>) => onMessage(event.data)
  }

  /** Sends to every other tab of this queue. */
  post(message: ChannelMessage): void {
    try {
      this.#channel?.postMessage(message)
    } catch (error) {
      // A value that cannot be cloned (a result with a function was already refused): other tabs miss one event.
      console.warn('[offthread] could not broadcast', message.type, error)
    }
  }

  close(): void {
    this.#channel?.close()
    this.#channel = undefined
  }
}
