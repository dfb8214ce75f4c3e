import type { JobHandle } from 'offthread'
import { queue } from './queue'
import type { Filter, ImageInput } from './tasks.worker'

const FILTERS: Filter[] = ['grayscale', 'sepia', 'blur']
const THUMB_WIDTH = 240

const gallery = document.querySelector<HTMLDivElement>('#gallery')!
const filterSelect = document.querySelector<HTMLSelectElement>('#filter')!
const drop = document.querySelector<HTMLElement>('#drop')!
const picker = document.querySelector<HTMLInputElement>('#files')!

export async function initImages(): Promise<void> {
  document.querySelector('#samples')!.addEventListener('click', () => void addImages(generateSamples()))
  picker.addEventListener('change', () => {
    void addImages(Promise.resolve([...(picker.files ?? [])].map((file) => ({ blob: file, label: file.name }))))
    picker.value = ''
  })
  drop.addEventListener('dragover', (event) => {
    event.preventDefault()
    drop.classList.add('over')
  })
  drop.addEventListener('dragleave', () => drop.classList.remove('over'))
  drop.addEventListener('drop', (event) => {
    event.preventDefault()
    drop.classList.remove('over')
    const files = [...(event.dataTransfer?.files ?? [])].filter((file) => file.type.startsWith('image/'))
    void addImages(Promise.resolve(files.map((file) => ({ blob: file, label: file.name }))))
  })
  // Results survive a reload: show the latest ones again.
  const recent = await queue.list({ name: 'image', limit: 12 })
  for (const snap of recent.reverse()) {
    const handle = await queue.getJob<Blob>(snap.id)
    if (handle) card(handle)
  }
}

async function addImages(pending: Promise<Array<{ blob: Blob; label: string }>>): Promise<void> {
  const images = await pending
  const choice = filterSelect.value
  let handles: JobHandle<Blob>[]
  try {
    handles = await queue.addBulk(
      images.map(({ blob, label }, i) => ({
        name: 'image' as const,
        data: { image: blob, label, filter: choice === 'mixed' ? FILTERS[i % FILTERS.length]! : (choice as Filter), width: THUMB_WIDTH },
      })),
    )
  } catch (error) {
    // Nothing was added (addBulk is all or none): say why, where the images would have been.
    // (One cause: a browser whose IndexedDB refuses Blobs, as WebKitGTK's automation session does.)
    const note = document.createElement('p')
    note.className = 'add-error'
    note.textContent = `Could not add the images: ${error instanceof Error ? error.message : String(error)}`
    gallery.prepend(note)
    return
  }
  for (const handle of handles) card(handle)
}

function card(handle: JobHandle<Blob>): void {
  const figure = document.createElement('figure')
  figure.className = 'card'
  figure.dataset['status'] = handle.status
  figure.innerHTML = '<div class="frame"><div class="tile-bar"><span></span></div></div><figcaption></figcaption>'
  const caption = figure.querySelector('figcaption')!
  const label = (data: Partial<ImageInput> | undefined): void => void (caption.textContent = `${data?.filter ?? '?'} · ${data?.label ?? handle.id}`)
  // The adding tab's handle has the input in hand; after a reload it is read when asked.
  label(handle.toJSON().data as Partial<ImageInput> | undefined)
  if (handle.toJSON().data === undefined) void handle.data().then((data) => label(data as Partial<ImageInput>))
  const bar = figure.querySelector<HTMLSpanElement>('span')!
  handle.on('progress', (p) => {
    if (typeof p === 'number') bar.style.width = `${p}%`
  })
  handle.on('status', (snap) => (figure.dataset['status'] = snap.status))
  handle.result().then(
    (blob) => {
      const img = document.createElement('img')
      img.src = URL.createObjectURL(blob)
      img.alt = caption.textContent ?? ''
      figure.querySelector('.frame')!.replaceChildren(img)
      figure.dataset['status'] = 'completed'
    },
    (error: Error) => {
      figure.querySelector('.frame')!.textContent = error.message
    },
  )
  gallery.prepend(figure)
  // Keep the gallery small: the oldest cards go.
  while (gallery.children.length > 12) gallery.lastElementChild!.remove()
}

// Sample "photos" drawn here, so the demo needs no files.
async function generateSamples(): Promise<Array<{ blob: Blob; label: string }>> {
  const out: Array<{ blob: Blob; label: string }> = []
  for (let i = 0; i < 6; i++) {
    const canvas = document.createElement('canvas')
    canvas.width = 960
    canvas.height = 640
    const c = canvas.getContext('2d')!
    const hue = (i * 57 + 190) % 360
    const sky = c.createLinearGradient(0, 0, 0, 640)
    sky.addColorStop(0, `hsl(${hue} 70% 55%)`)
    sky.addColorStop(1, `hsl(${(hue + 40) % 360} 80% 85%)`)
    c.fillStyle = sky
    c.fillRect(0, 0, 960, 640)
    c.fillStyle = `hsl(${(hue + 180) % 360} 90% 60%)`
    c.beginPath()
    c.arc(200 + i * 110, 170, 80, 0, Math.PI * 2)
    c.fill()
    for (let layer = 0; layer < 3; layer++) {
      c.fillStyle = `hsl(${(hue + 100 + layer * 20) % 360} 35% ${38 - layer * 10}%)`
      c.beginPath()
      c.moveTo(0, 640)
      for (let x = 0; x <= 960; x += 40) {
        c.lineTo(x, 360 + layer * 80 + Math.sin(x / (90 + layer * 30) + i + layer) * (70 - layer * 15))
      }
      c.lineTo(960, 640)
      c.fill()
    }
    c.fillStyle = 'rgba(255,255,255,.9)'
    c.font = 'bold 64px system-ui, sans-serif'
    c.fillText(`sample ${i + 1}`, 40, 600)
    const blob = await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('toBlob failed'))), 'image/jpeg', 0.9),
    )
    out.push({ blob, label: `sample ${i + 1}` })
  }
  return out
}
