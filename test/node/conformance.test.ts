/**
 * The conformance suite on Node: the built package (dist/), jobs in
 * worker_threads through `nodeWorker` from offthread/node, memoryStore.
 */
import { describe, it } from 'vitest'
import { conformanceCases } from '../conformance/suite.js'
import { expectAssert } from '../conformance/expect-assert.js'
import { ensureDist } from './helpers/ensure-dist.js'

await ensureDist()
// Types from the sources, code from dist/ (built above): the same API.
const lib = (await import(new URL('../../dist/index.js', import.meta.url).href)) as typeof import('../../src/index.js')
const { nodeWorker } = (await import(new URL('../../dist/node.js', import.meta.url).href)) as typeof import('../../src/node.js')

const workerUrl = new URL('../conformance/tasks.worker.js', import.meta.url)
let count = 0
const makeQueue = (options: object = {}) =>
  lib.createQueue({
    name: `conformance-node-${++count}`,
    store: lib.memoryStore(),
    worker: () => nodeWorker(workerUrl),
    ...options,
  })

describe('conformance (Node, worker_threads via nodeWorker)', () => {
  for (const { name, run } of conformanceCases({ lib, makeQueue, assert: expectAssert })) it(name, run)
})
