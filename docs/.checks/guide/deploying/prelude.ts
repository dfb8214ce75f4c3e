import { showBanner } from './helpers'
