/**
 * offthread/inspector: `import 'offthread/inspector'` defines
 * `<offthread-inspector>`, a framework-free view of a queue for developers
 * (counts, a live virtualised job list, a job's detail and actions, the
 * runner tab, the throughput). Nothing of it is in an app that does not
 * import this entry.
 *
 * @packageDocumentation
 */
import { OffthreadInspector } from './ui/inspector/element.js'

export { OffthreadInspector }
export type { InspectedQueue } from './ui/inspector/element.js'
// Its JSX typing (React, Preact) comes with this entry's types.
export type { OffthreadInspectorProps } from './ui/inspector/jsx.js'

// Here, in the entry package.json lists in `sideEffects`: a bundler keeps this call (and so the element) for a bare `import 'offthread/inspector'`.
if (typeof customElements !== 'undefined' && !customElements.get('offthread-inspector')) {
  customElements.define('offthread-inspector', OffthreadInspector)
}
