import './style.css'
import { initControls } from './controls'
import { initImages } from './images'
import { initMeter } from './meter'
import { initRender } from './render'
import { initTable } from './table'

initMeter()
initControls()
await initTable()
await Promise.all([initRender(), initImages()])
document.body.dataset['ready'] = 'true'
