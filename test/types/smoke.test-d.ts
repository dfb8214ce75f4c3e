import type { IDBPDatabase } from 'idb'
import { nanoid } from 'nanoid'
import type { Remote } from 'comlink'
import { describe, expectTypeOf, it } from 'vitest'

describe('type smoke', () => {
  it('nanoid returns a string', () => {
    expectTypeOf(nanoid).returns.toEqualTypeOf<string>()
  })

  it('comlink Remote makes methods async', () => {
    type Api = { add(a: number, b: number): number }
    expectTypeOf<Remote<Api>['add']>().returns.toEqualTypeOf<Promise<number>>()
  })

  it('idb put resolves to the key type', () => {
    expectTypeOf<IDBPDatabase['close']>().returns.toBeVoid()
  })
})
