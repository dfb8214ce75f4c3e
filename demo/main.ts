// Placeholder: the real demo (importing from ../src) comes later.
const status = document.querySelector<HTMLParagraphElement>('#status')
if (status) status.textContent = 'Placeholder page: nothing to show yet.'
