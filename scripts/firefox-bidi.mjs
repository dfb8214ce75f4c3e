// Playwright drives Firefox over WebDriver BiDi (`channel: 'moz-firefox'`). Playwright
// 1.65 sends `emulation.setMediaFeaturesOverride` when it opens a page, a command
// Firefox ESR 153 does not know yet: it answers `unknown command` and every new page
// fails. This answers exactly those errors, of `emulation.*` commands only, with an
// empty success, so the one thing lost is Playwright's color-scheme emulation (which
// no test here uses). Nothing under node_modules is changed: it wraps the WebSocket
// class Playwright's transport uses, in this process only, and only once.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const PATCHED = Symbol.for('offthread.firefoxBidiPatched')

/** Install the patch (idempotent). */
export function tolerateUnknownEmulationCommands() {
  /** @type {{ prototype: any }} */
  const WebSocket = require('playwright-core/lib/utilsBundle').ws
  const proto = WebSocket.prototype
  if (proto[PATCHED]) return
  proto[PATCHED] = true
  const send = proto.send
  const emit = proto.emit
  /** @param {unknown} data @param {unknown[]} rest */
  proto.send = function (data, ...rest) {
    if (typeof data === 'string' && data.includes('"emulation.')) {
      try {
        const message = JSON.parse(data)
        if (typeof message.method === 'string' && message.method.startsWith('emulation.')) {
          ;(this.__emulationIds ??= new Set()).add(message.id)
        }
      } catch {
        // not JSON: not a BiDi command
      }
    }
    return send.call(this, data, ...rest)
  }
  /** @param {string} event @param {unknown} data @param {unknown[]} rest */
  proto.emit = function (event, data, ...rest) {
    if (event === 'message' && this.__emulationIds?.size) {
      try {
        const message = JSON.parse(String(data))
        if (this.__emulationIds.delete(message.id) && message.type === 'error' && message.error === 'unknown command') {
          const success = JSON.stringify({ type: 'success', id: message.id, result: {} })
          return emit.call(this, event, Buffer.from(success), ...rest)
        }
      } catch {
        // not JSON: pass it on as it is
      }
    }
    return emit.call(this, event, data, ...rest)
  }
}
