/**
 * `<offthread-inspector>` in JSX: its properties and attributes, declared for React (19's
 * `React.JSX`, and the global `JSX` of React 18 and others) and Preact (`preact.JSX`).
 * Global declarations only: nothing here needs React or Preact installed, and an app with
 * neither is not affected. (React 19 sets `queue` as a property: the element has it.)
 */
import type { InspectedQueue } from './types.js'

/** What `<offthread-inspector>` takes in JSX. */
export interface OffthreadInspectorProps {
  /** The queue to show (a property: set it from script, as JSX does for a custom element's property). */
  queue?: InspectedQueue
  /** Or the name of a queue to observe (an attribute): it runs nothing. */
  name?: string
  id?: string
  class?: string
  className?: string
  style?: string | Readonly<Record<string, string | number>>
  hidden?: boolean
  title?: string
  slot?: string
  key?: string | number
  /** A ref to the element (`OffthreadInspector`); typed loosely, for every framework's kind of ref. */
  ref?: unknown
  children?: never
  [attribute: `data-${string}`]: string | number | boolean | undefined
  [attribute: `aria-${string}`]: string | number | boolean | undefined
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace JSX {
    interface IntrinsicElements {
      'offthread-inspector': OffthreadInspectorProps
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace React.JSX {
    interface IntrinsicElements {
      'offthread-inspector': OffthreadInspectorProps
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace preact.JSX {
    interface IntrinsicElements {
      'offthread-inspector': OffthreadInspectorProps
    }
  }
}
