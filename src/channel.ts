/**
 * Cross-tab messages of one queue over a BroadcastChannel: committed changes
 * (so handles in every tab stay live), new jobs (so the runner hears of them
 * at once), and requests a follower makes of the runner. Plain data only.
 *
 * Messages of one turn of the event loop travel together, and nothing is sent
 * while no other tab of the queue is open: a single tab pays nothing.
 */
import { nanoid } from 'nanoid'
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
  /** The runner tells the worker module's tasks. */
  | { type: 'manifest'; manifest: WorkerManifest }
  /** Schedules changed: the runner reads them again. */
  | { type: 'schedules' }

/** What travels: a tab's presence, or a batch of messages. */
type Envelope =
  | { kind: 'hello'; from: string }
  | { kind: 'here'; from: string }
  | { kind: 'bye'; from: string }
  | { kind: 'batch'; from: string; messages: ChannelMessage[] }

/** A queue's channel; a no-op where BroadcastChannel is missing. */
export class Channel {
  readonly id = nanoid()
  #channel: BroadcastChannel | undefined
  #peers = new Set<string>()
  #outbox: ChannelMessage[] = []
  #onMessage: (message: ChannelMessage) => void
  #onPeer: () => void
  #onPageHide = (): void => {
    this.#send({ kind: 'bye', from: this.id })
  }

  /**
   * @param onPeer - another tab of the queue appeared (say what it should know)
   */
  constructor(queue: string, onMessage: (message: ChannelMessage) => void, onPeer: () => void) {
    this.#onMessage = onMessage
    this.#onPeer = onPeer
    if (typeof BroadcastChannel === 'undefined') return
    this.#channel = new BroadcastChannel(`offthread:${queue}`)
    this.#channel.onmessage = (event: MessageEvent<Envelope>) => this.#receive(event.data)
    this.#send({ kind: 'hello', from: this.id })
    if (typeof addEventListener === 'function') addEventListener('pagehide', this.#onPageHide)
  }

  /** Whether another tab of this queue is open. */
  get hasPeers(): boolean {
    return this.#peers.size > 0
  }

  /** Sends to every other tab of this queue, with the other messages of this turn. */
  post(message: ChannelMessage): void {
    if (!this.#channel || this.#peers.size === 0) return
    if (this.#outbox.length === 0) queueMicrotask(() => this.#flush())
    this.#outbox.push(message)
  }

  close(): void {
    if (!this.#channel) return
    this.#flush()
    this.#send({ kind: 'bye', from: this.id })
    if (typeof removeEventListener === 'function') removeEventListener('pagehide', this.#onPageHide)
    this.#channel.close()
    this.#channel = undefined
  }

  #flush(): void {
    if (this.#outbox.length === 0) return
    const messages = this.#outbox
    this.#outbox = []
    if (!this.#send({ kind: 'batch', from: this.id, messages })) {
      // One of them cannot be cloned (a result the worker could send was refused here?): send the rest one by one.
      for (const message of messages) {
        if (!this.#send({ kind: 'batch', from: this.id, messages: [message] })) {
          console.warn('[offthread] could not tell other tabs of', message.type)
        }
      }
    }
  }

  #send(envelope: Envelope): boolean {
    try {
      this.#channel?.postMessage(envelope)
      return true
    } catch {
      return false
    }
  }

  #receive(envelope: Envelope): void {
    switch (envelope.kind) {
      case 'hello':
        this.#peers.add(envelope.from)
        this.#send({ kind: 'here', from: this.id })
        this.#onPeer()
        break
      case 'here':
        this.#peers.add(envelope.from)
        break
      case 'bye':
        this.#peers.delete(envelope.from)
        break
      case 'batch':
        this.#peers.add(envelope.from)
        for (const message of envelope.messages) this.#onMessage(message)
        break
    }
  }
}
