// Type tests of <offthread-inspector> in a React 19 TSX app (react-jsx): its JSX typing comes
// with offthread/inspector's types, so `queue={queue}` is no TS2339.
import { describe, expectTypeOf, it } from 'vitest'
import { createQueue, memoryStore } from '../../src/index.js'
import type { OffthreadInspectorProps } from '../../src/inspector.js'
import type { Tasks } from '../browser/fixtures/tasks.worker.js'

describe('<offthread-inspector> in JSX', () => {
  it('takes a typed queue, a name, and the usual attributes', () => {
    const queue = createQueue<Tasks>({ store: memoryStore(), autostart: false })
    const element = <offthread-inspector queue={queue} id="inspector" className="wide" data-testid="x" aria-label="jobs" />
    expectTypeOf(element).toExtend<React.JSX.Element>()
    const byName = <offthread-inspector name="media" style={{ height: 400 }} />
    expectTypeOf(byName).toExtend<React.JSX.Element>()
    expectTypeOf<OffthreadInspectorProps['name']>().toEqualTypeOf<string | undefined>()
  })

  it('refuses what is not a queue, and children', () => {
    // @ts-expect-error -- not a queue
    void (<offthread-inspector queue={42} />)
    // @ts-expect-error -- no children
    void (<offthread-inspector>text</offthread-inspector>)
  })
})
