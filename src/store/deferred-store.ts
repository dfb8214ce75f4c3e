/**
 * A store made on first use: `load` runs (a dynamic import) when the queue first
 * calls it, so a bundle that never needs that store does not carry its code. The
 * queue's fallback where IndexedDB is missing (Deno, Bun, Node) is `memoryStore`
 * this way: a browser page, which always has IndexedDB, never loads it.
 */
import { STORE_READS, type Store } from './store.js'

type Method = Exclude<keyof Store, 'kind' | 'fencing' | 'lease' | 'version' | 'blocked' | 'storesBlobs'>

const METHODS = ['open', 'close', 'write', ...STORE_READS] as const satisfies readonly Method[]

// Every method of Store: one added to the interface and not listed above is a type error here.
type Missing = Exclude<Method, (typeof METHODS)[number]>
export const ALL_METHODS_FORWARDED: [Missing] extends [never] ? true : Missing = true

export function deferredStore(kind: string, load: () => Promise<Store>, fencing: boolean): Store {
  let store: Promise<Store> | undefined
  const forward =
    (method: (typeof METHODS)[number]) =>
    async (...args: unknown[]): Promise<unknown> => {
      store ??= load()
      const target = await store
      return (target[method] as (...a: unknown[]) => Promise<unknown>).apply(target, args)
    }
  return { kind, fencing, ...Object.fromEntries(METHODS.map((method) => [method, forward(method)])) } as unknown as Store
}
