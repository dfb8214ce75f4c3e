// The dispatch limit: a bare module worker answering each message.
import { burn } from './tasks.js'

self.onmessage = (event: MessageEvent<{ id: number; ms: number }>) => {
  const { id, ms } = event.data
  if (ms > 0) burn(ms)
  self.postMessage({ id, result: null })
}
