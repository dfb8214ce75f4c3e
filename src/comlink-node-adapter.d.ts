// comlink ships no types for the `.mjs` path of its Node adapter (the only
// path Node resolves); these mirror `comlink/dist/esm/node-adapter.d.ts`.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink'
  export interface NodeEndpoint {
    postMessage(message: unknown, transfer?: unknown[]): void
    on(type: string, listener: (value: unknown) => void): void
    off(type: string, listener: (value: unknown) => void): void
    start?: () => void
  }
  export default function nodeEndpoint(nep: NodeEndpoint): Endpoint
}
