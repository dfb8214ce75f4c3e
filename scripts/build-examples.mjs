// Builds the browser examples (examples/image-tool, examples/upload-queue) with Vite, as an
// app of their own would: `offthread` resolves to this package's build (dist/, `npm run
// build` first), the rest from node_modules. `npm run examples:build`; the e2e smoke test
// (test/e2e/examples.test.ts) builds them the same way and runs them in every engine.
import { fileURLToPath } from 'node:url'
import { build } from 'vite'

/** The browser examples, by folder name. */
export const BROWSER_EXAMPLES = ['image-tool', 'upload-queue']

const root = fileURLToPath(new URL('..', import.meta.url))

/**
 * Builds example `name` into `outDir` (by default test-results/examples/<name>).
 * @param {string} name
 * @param {string} [outDir]
 * @returns {Promise<string>} the output folder
 */
export async function buildExample(name, outDir = `${root}test-results/examples/${name}`) {
  await build({
    root: `${root}examples/${name}`,
    configFile: false,
    logLevel: 'warn',
    base: './',
    build: { outDir, emptyOutDir: true, target: 'es2022' },
    worker: { format: 'es' },
  })
  return outDir
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const name of BROWSER_EXAMPLES) console.log(`built examples/${name} into ${await buildExample(name)}`)
}
