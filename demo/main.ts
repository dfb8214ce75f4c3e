import './style.css'
import 'offthread/inspector'
import { initControls } from './controls'
import { initImages } from './images'
import { initMeter } from './meter'
import { initRender } from './render'
import { initTable } from './table'
import { queue } from './queue'

initMeter()
initControls()
await initTable()
await Promise.all([initRender(), initImages()])
// The inspector element on the demo's own queue: a live dashboard that is one import and one element.
const inspector = document.createElement('offthread-inspector')
inspector.queue = queue
document.querySelector('#inspector')!.append(inspector)
document.body.dataset['ready'] = 'true'
