// workerpool's worker, with the same task bodies.
import workerpool from 'workerpool'
import { burn, mix, noop } from './tasks.js'

workerpool.worker({ noop, cpu: (ms: number) => burn(ms), mix })
