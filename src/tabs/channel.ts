/**
 * Cross-tab messages of one queue over a BroadcastChannel: committed changes
 * (so handles in every tab stay live), new jobs (so the runner hears of them
 * at once), and requests a follower makes of the runner. Plain data only.
 *
 * Messages of one turn of the event loop travel together, and nothing is sent
 * while no other tab of the queue is open: a single tab pays nothing. A
 * message that must arrive (`reliable`: a follower's new jobs, requests to the
 * runner) is kept while no other tab is known yet, and sent as soon as one
 * answers: a tab opened a moment ago has not heard from the others yet.
 *
 * What arrives is a claim, not a fact: any script of the origin can post on
 * the channel. Receivers check it against the store (see queue/remote.ts).
 */
import { nanoid } from 'nanoid'
import type { JobChange } from '../runner/transition.js'
import type { JobRecord } from '../store/store.js'

/** What tabs of one queue tell each other. */
export type ChannelMessage =
  /**
   * A job changed (committed). Neither `data` nor a `result` is sent: they may
   * be large, and a receiver reads what it needs from the store.
   */
  | { type: 'change'; change: Omit<JobChange, 'data'> }
  /** Jobs were stored by `add`/`addBulk` in some tab (receivers read them from the store). */
  | { type: 'added'; jobs: JobRecord[] }
  /** A follower asks the runner to cancel a job it runs. */
  | { type: 'cancel'; id: string; reason: string | undefined; request: string }
  | { type: 'cancel-reply'; request: string; ok: boolean }
  /** A release was stored, or a runner took the queue: read the releases again (the store says what). */
  | { type: 'release' }
  /** A tab in line asks the runner for the queue, for its release (checked against the store and the locks). */
  | { type: 'handover'; tab: string; key: string }
  /** Jobs were deleted (clean, retention): their live handles go. */
  | { type: 'removed'; ids: string[] }
  /** Schedules changed: the runner reads them again. */
  | { type: 'schedules' }
  /** Job groups' own settings changed (`queue.groups`): the runner reads them again. */
  | { type: 'groups' }
  /**
   * A runner gave its place up as its page was frozen or hidden (no fault of its jobs'):
   * the next runner puts these `running` jobs back without counting an interruption.
   */
  | { type: 'given-up'; ids: string[] }

/** Reliable messages kept at most while no other tab is known. */
const MAX_HELD = 10_000
/** How often a tab holding reliable messages asks who is there. */
const HELLO_INTERVAL = 250

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
  /** Reliable messages waiting for a peer to be known. */
  #held: ChannelMessage[] = []
  #helloTimer: ReturnType<typeof setInterval> | undefined
  #onMessage: (messages: ChannelMessage[]) => void = () => undefined
  #onPeer: () => void = () => undefined
  /** Whether what this tab posts must arrive (a follower's news is for the runner); see {@link post}. */
  mustDeliver = true
  #onPageHide = (): void => {
    this.#send({ kind: 'bye', from: this.id })
  }

  constructor(queue: string) {
    if (typeof BroadcastChannel === 'undefined') return
    this.#channel = new BroadcastChannel(`offthread:${queue}`)
    // Node's channel would keep the process alive by itself: what runs (a worker, a timer) does that.
    ;(this.#channel as { unref?: () => void }).unref?.()
    this.#channel.onmessage = (event: MessageEvent<Envelope>) => this.#receive(event.data)
    this.#send({ kind: 'hello', from: this.id })
    if (typeof addEventListener === 'function') addEventListener('pagehide', this.#onPageHide)
  }

  /**
   * Where what arrives goes.
   *
   * @param onPeer - another tab of the queue appeared (say what it should know)
   */
  listen(onMessage: (messages: ChannelMessage[]) => void, onPeer: () => void): void {
    this.#onMessage = onMessage
    this.#onPeer = onPeer
  }

  /** Whether another tab of this queue is open. */
  get hasPeers(): boolean {
    return this.#peers.size > 0
  }

  /**
   * Sends to every other tab of this queue, with the other messages of this turn.
   *
   * @param reliable - keep it until another tab is known (else it is dropped while none is); default {@link mustDeliver}
   */
  post(message: ChannelMessage, reliable = this.mustDeliver): void {
    if (!this.#channel) return
    if (this.#peers.size === 0) {
      if (reliable) this.#hold(message)
      return
    }
    if (this.#outbox.length === 0) queueMicrotask(() => this.#flush())
    this.#outbox.push(message)
  }

  close(): void {
    if (!this.#channel) return
    clearInterval(this.#helloTimer)
    this.#held = []
    this.#flush()
    this.#send({ kind: 'bye', from: this.id })
    if (typeof removeEventListener === 'function') removeEventListener('pagehide', this.#onPageHide)
    this.#channel.close()
    this.#channel = undefined
  }

  #hold(message: ChannelMessage): void {
    this.#held.push(message)
    // Bounded: a tab alone for long keeps the newest (a new runner reads the store anyway).
    if (this.#held.length > MAX_HELD) this.#held.splice(0, this.#held.length - MAX_HELD)
    // Ask again who is there until someone answers (a busy tab answers late, but answers).
    this.#helloTimer ??= setInterval(() => this.#send({ kind: 'hello', from: this.id }), HELLO_INTERVAL)
  }

  /** A peer is known: what was held goes out now. */
  #met(peer: string): void {
    this.#peers.add(peer)
    if (this.#helloTimer === undefined) return
    clearInterval(this.#helloTimer)
    this.#helloTimer = undefined
    const held = this.#held
    this.#held = []
    for (const message of held) this.post(message)
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
    if (typeof envelope !== 'object' || envelope === null || typeof envelope.from !== 'string') return
    switch (envelope.kind) {
      case 'hello':
        this.#met(envelope.from)
        this.#send({ kind: 'here', from: this.id })
        this.#onPeer()
        break
      case 'here':
        this.#met(envelope.from)
        break
      case 'bye':
        this.#peers.delete(envelope.from)
        break
      case 'batch':
        if (!Array.isArray(envelope.messages)) return
        this.#met(envelope.from)
        this.#onMessage(envelope.messages)
        break
    }
  }
}
