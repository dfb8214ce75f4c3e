/**
 * Small DOM helpers of the inspector: elements built with DOM calls (never
 * HTML strings), and the formats its views share.
 */

/** What `h` sets on a new element. */
export interface Props {
  class?: string
  text?: string
  /** Attributes (not `style`: positions are set through the CSSOM, which a strict CSP allows). */
  attrs?: Record<string, string>
}

/** Creates `tag` with `props` and `children`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  children: ReadonlyArray<Node | string> = [],
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  if (props.class !== undefined) element.className = props.class
  if (props.text !== undefined) element.textContent = props.text
  if (props.attrs) for (const [name, value] of Object.entries(props.attrs)) element.setAttribute(name, value)
  if (children.length > 0) element.append(...children)
  return element
}

/** Sets `text` on `node` only when it differs (no needless layout work). */
export function setText(node: Node, text: string): void {
  if (node.textContent !== text) node.textContent = text
}

/** The format of {@link formatTime}, made on first use: `toLocaleTimeString` with options makes one per call (0.3–0.6 ms each in Chromium and WebKit, a row each). */
let timeFormat: Intl.DateTimeFormat | undefined

/** A time of day, with seconds: `14:03:27`. */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return ''
  timeFormat ??= new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })
  return timeFormat.format(ms)
}

/** A date and time: `2024-05-01 14:03:27.120`, in local time. */
export function formatDateTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return ''
  const d = new Date(ms)
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
}

/** The format of {@link formatCount}, made on first use. */
let countFormat: Intl.NumberFormat | undefined

/** A count with the user's digit grouping: `100,000`. */
export function formatCount(n: number): string {
  countFormat ??= new Intl.NumberFormat()
  return countFormat.format(n)
}

/**
 * Makes the formats now, in a task of their own: a page's first number format sets up its
 * locale data (11 ms in Chromium, 27 ms in WebKit), which would otherwise land in the
 * framework render that mounts the inspector, or in a frame.
 */
export function prepareFormats(): void {
  setTimeout(() => {
    formatCount(0)
    formatTime(0)
  }, 0)
}

/** Whether the page is hidden (a tab behind another, a minimised window): views then skip their DOM work. */
export function pageHidden(): boolean {
  return typeof document !== 'undefined' && document.visibilityState === 'hidden'
}

/** Whether `error` is the queue saying it is closed (then a view just stops updating). */
export function isClosedError(error: unknown): boolean {
  return error instanceof Error && error.name === 'QueueClosedError'
}

/** A short message for an error thrown by an action (cancel, retry, remove). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}
