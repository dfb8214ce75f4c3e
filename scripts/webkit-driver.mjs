// WebKit for the tests: WebKitGTK's MiniBrowser, driven by WebKitWebDriver (WebDriver
// classic), on a private Xvfb display (MiniBrowser has no headless mode). Each
// `startWebKit()` starts its own display and driver on free ports and stops both.
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'

/** @returns {Promise<number>} a free TCP port of 127.0.0.1 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** @param {import('node:child_process').ChildProcess} child */
function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 3_000)
    child.once('exit', () => {
      clearTimeout(force)
      resolve(undefined)
    })
    child.kill('SIGTERM')
  })
}

/** @param {string} xvfb @returns {Promise<{ display: string, process: import('node:child_process').ChildProcess }>} */
function startXvfb(xvfb) {
  return new Promise((resolve, reject) => {
    const child = spawn(xvfb, ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    let out = ''
    child.stderr?.on('data', (chunk) => (stderr += chunk))
    child.stdio[3]?.on('data', (chunk) => {
      out += chunk
      if (out.includes('\n')) resolve({ display: `:${out.trim()}`, process: child })
    })
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`Xvfb exited (${code}) before it was ready: ${stderr.slice(-500)}`)))
  })
}

/** @param {number} port @param {number} within @returns {Promise<void>} */
async function waitForDriver(port, within) {
  const until = Date.now() + within
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/status`)
      if (response.ok) return
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`WebKitWebDriver did not answer on port ${port} within ${within} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * @param {import('./browsers.mjs').LocatedWebKit} webkit
 * @returns {Promise<{ port: number, display: string, capabilities: Record<string, unknown>, stop: () => Promise<void> }>}
 */
export async function startWebKit(webkit) {
  const xvfb = await startXvfb(webkit.xvfb)
  const port = await freePort()
  const driver = spawn(webkit.driver, [`--port=${port}`, '--host=local'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DISPLAY: xvfb.display },
  })
  // If this process ends without stop() (a crash, Ctrl-C), the display and the driver end with it.
  const orphaned = () => {
    driver.kill('SIGKILL')
    xvfb.process.kill('SIGKILL')
  }
  process.once('exit', orphaned)
  const stop = async () => {
    process.off('exit', orphaned)
    await stopProcess(driver)
    await stopProcess(xvfb.process)
  }
  try {
    await waitForDriver(port, 15_000)
  } catch (error) {
    await stop()
    throw error
  }
  return {
    port,
    display: xvfb.display,
    capabilities: {
      browserName: 'MiniBrowser',
      // WebDriver BiDi is what webdriverio asks for by default; WebKitWebDriver refuses it.
      'wdio:enforceWebDriverClassic': true,
      'webkitgtk:browserOptions': { binary: webkit.miniBrowser, args: ['--automation'] },
    },
    stop,
  }
}
