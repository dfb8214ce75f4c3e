/**
 * The conformance suite in each browser engine: the sources through Vite, module Web
 * Workers, memoryStore (the same cases Node, Deno and Bun run on dist/).
 */
import { describe, it } from 'vitest'
import * as lib from '../../src/index.js'
import { conformanceCases } from '../conformance/suite.js'
import { expectAssert } from '../conformance/expect-assert.js'

let count = 0
const makeQueue = (options: object = {}) =>
  lib.createQueue({
    name: `conformance-browser-${Date.now()}-${++count}`,
    store: lib.memoryStore(),
    worker: () => new Worker(new URL('../conformance/tasks.worker.js', import.meta.url), { type: 'module' }),
    ...options,
  })

describe('conformance (module Web Workers)', () => {
  for (const { name, run } of conformanceCases({ lib, makeQueue, assert: expectAssert })) it(name, run)
})
