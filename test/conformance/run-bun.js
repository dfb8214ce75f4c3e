// @ts-nocheck: plain JS that Node, Deno, Bun and Chromium run as is (the repo typechecks JS strictly).
// Runs the conformance suite on Bun against the built package (dist/):
// module Web Workers as they are, memoryStore (no IndexedDB on Bun).
//   npx bun test/conformance/run-bun.js
import * as lib from '../../dist/index.js'
import { conformanceCases } from './suite.js'
import { assert, runCases } from './assert.js'

let count = 0
const workerUrl = new URL('./tasks.worker.js', import.meta.url)
const makeQueue = (options) =>
  lib.createQueue({
    name: `conformance-bun-${++count}`,
    store: lib.memoryStore(),
    worker: () => new Worker(workerUrl, { type: 'module' }),
    ...options,
  })

console.log(`bun ${Bun.version}, navigator.locks: ${typeof navigator !== 'undefined' && !!navigator.locks}`)
const { failed } = await runCases(conformanceCases({ lib, makeQueue, assert }))
process.exit(failed === 0 ? 0 : 1)
