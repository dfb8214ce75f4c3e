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

/** A time of day, with seconds: `14:03:27`. */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return ''
  return new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })
}

/** A date and time: `2024-05-01 14:03:27.120`, in local time. */
export function formatDateTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return ''
  const d = new Date(ms)
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
}

/** A count with the user's digit grouping: `100,000`. */
export function formatCount(n: number): string {
  return n.toLocaleString()
}

/** Whether `error` is the queue saying it is closed (then a view just stops updating). */
export function isClosedError(error: unknown): boolean {
  return error instanceof Error && error.name === 'QueueClosedError'
}

/** A short message for an error thrown by an action (cancel, retry, remove). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}
