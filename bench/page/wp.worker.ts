// workerpool's worker, with the same task bodies.
import workerpool from 'workerpool'
import { burn, noop } from './tasks.js'

workerpool.worker({ noop, cpu: (ms: number) => burn(ms) })
