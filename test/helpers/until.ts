import { sleep } from './sleep.js'

/** Resolves once `test()` holds (checked every 10 ms), or rejects after `ms`, naming `what`. */
export async function until(test: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!(await test())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}
