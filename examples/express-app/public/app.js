// Framehouse's only script: uploads with drag and drop and a progress bar, errors shown
// inline, and the admin's live migration progress. Pages work without it, through plain forms.
// With an S3 store, pictures go straight to the bucket through sequelize-imageattach/browser.
import { uploadDirect } from './imageattach-browser.js';

document.documentElement.classList.add('js');

for (const form of document.querySelectorAll('form[data-upload]')) setUpUpload(form);
const migrateForm = document.querySelector('form#migrate');
if (migrateForm) setUpMigration(migrateForm);

function setUpUpload(form) {
  const input = form.querySelector('input[type=file]');
  const zone = form.querySelector('[data-dropzone]');
  const progressBox = form.querySelector('[data-progress]');
  const bar = progressBox.querySelector('progress');
  const status = form.querySelector('[data-status]');
  const errorBox = form.querySelector('[data-error]');
  let busy = false;

  input.addEventListener('change', () => {
    if (input.files.length > 0) send(input.files);
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (input.files.length > 0) send(input.files);
  });
  for (const type of ['dragenter', 'dragover']) {
    zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add('is-over');
    });
  }
  for (const type of ['dragleave', 'drop']) {
    zone.addEventListener(type, () => zone.classList.remove('is-over'));
  }
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    if (event.dataTransfer.files.length > 0) send(event.dataTransfer.files);
  });

  function send(files) {
    if (busy) return;
    busy = true;
    // One request per photo, all at once: the server stores them side by side.
    const chosen = input.multiple ? [...files] : [files[0]];
    const loaded = chosen.map(() => 0);
    const total = chosen.reduce((sum, file) => sum + file.size, 0) || 1;
    let sent = 0;
    showError(null);
    progressBox.hidden = false;
    setProgress(0, 'Uploading… 0 %');
    const send = form.dataset.direct ? uploadToBucket : upload;
    const uploads = chosen.map((file, index) =>
      send(
        file,
        (bytes) => {
          loaded[index] = bytes;
          const sum = loaded.reduce((a, b) => a + b, 0);
          const percent = Math.min(100, Math.round((sum / total) * 100));
          setProgress(percent, `Uploading… ${percent} %`);
        },
        // Sent; the server now checks the image and makes its thumbnails.
        () => {
          sent += 1;
          if (sent === chosen.length) setProgress(100, 'Processing…');
        },
      ),
    );
    Promise.all(uploads).then(async (errors) => {
      const failed = errors.filter((error) => error !== null);
      if (failed.length < chosen.length) await refresh(form.dataset.refresh.split(' '));
      if (failed.length === 0) {
        setProgress(100, 'Done');
      } else {
        setProgress(0, '');
        progressBox.hidden = true;
        showError(failed[0]);
      }
      input.value = '';
      busy = false;
    });
  }

  /** Posts one file; resolves to `null`, or to the message to show. */
  function upload(file, onProgress, onSent) {
    return new Promise((resolve) => {
      const data = new FormData();
      data.append(input.name, file);
      const xhr = new XMLHttpRequest();
      xhr.open('POST', form.dataset.upload);
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.upload.addEventListener('progress', (event) => {
        if (event.lengthComputable) onProgress((event.loaded / event.total) * file.size);
      });
      xhr.upload.addEventListener('load', onSent);
      xhr.addEventListener('load', () =>
        resolve(xhr.status >= 200 && xhr.status < 300 ? null : messageOf(xhr)),
      );
      xhr.addEventListener('error', () =>
        resolve('The upload did not reach the server. Check your connection and try again.'),
      );
      xhr.send(data);
    });
  }

  /**
   * Asks the server for a presigned POST, posts the file to S3 with it, then has the server
   * check and attach it; resolves like `upload`.
   */
  async function uploadToBucket(file, onProgress, onSent) {
    let ticket;
    try {
      ticket = await postJson(form.dataset.direct, {});
      await uploadDirect(file, {
        url: ticket.url,
        fields: ticket.fields,
        onProgress: ({ fraction }) => onProgress(fraction * file.size),
      });
      onSent();
      await postJson(`${form.dataset.direct}/complete`, { token: ticket.token });
      return null;
    } catch (error) {
      if (error.name === 'DirectUploadError') {
        if (error.s3Code === 'EntityTooLarge') {
          const mib = Math.floor(ticket.maxBytes / (1024 * 1024));
          return `The file is too large; send one of at most ${mib} MiB.`;
        }
        return error.status === 0
          ? 'The upload did not reach the storage. Check your connection and try again.'
          : `The storage refused the upload (HTTP ${error.status}${error.s3Code ? ` ${error.s3Code}` : ''}).`;
      }
      return error.message;
    }
  }

  function setProgress(percent, text) {
    bar.value = percent;
    status.textContent = text;
  }

  function showError(message) {
    errorBox.hidden = message === null;
    errorBox.textContent = message ?? '';
  }
}

/** The server's `{ error: { message } }`, or a generic line for anything else. */
function messageOf(xhr) {
  try {
    const body = JSON.parse(xhr.responseText);
    if (body && body.error && body.error.message) return body.error.message;
  } catch {
    // Not JSON: a proxy's page, say.
  }
  return `The upload failed (HTTP ${xhr.status}).`;
}

/** Reloads parts of the page (by id) from the server's rendering of it. */
async function refresh(ids) {
  const response = await fetch(location.href, { headers: { Accept: 'text/html' } });
  if (!response.ok) return;
  const page = new DOMParser().parseFromString(await response.text(), 'text/html');
  for (const id of ids) {
    const fresh = page.getElementById(id);
    const stale = document.getElementById(id);
    if (fresh && stale) stale.replaceWith(document.importNode(fresh, true));
  }
}

function setUpMigration(form) {
  const panel = document.querySelector('[data-migration]');
  const bar = panel.querySelector('progress');
  const status = panel.querySelector('[data-status]');
  const failures = panel.querySelector('[data-failures]');
  const errorBox = form.querySelector('[data-error]');
  const button = form.querySelector('button[type=submit]');
  let events = null;
  // The run this page started, and the runs seen ending (the stream may tell before the POST).
  let started = null;
  const ended = new Map();

  // A migration started earlier (or in another tab) shows at once.
  fetch('/admin/migrations', { headers: { Accept: 'application/json' } })
    .then((response) => (response.ok ? response.json() : null))
    .then((body) => {
      if (body && body.migration && !started) {
        show(body.migration);
        if (body.migration.state === 'running') follow();
      }
    })
    .catch(() => undefined);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    errorBox.hidden = true;
    button.disabled = true;
    try {
      const added = await postJson('/admin/stores', { url: form.elements.url.value });
      follow();
      const answer = await postJson('/admin/migrations', {
        from: form.dataset.from,
        to: added.store.name,
        skipExisting: true,
        verify: 'size',
      });
      started = { id: answer.migration.id, switchTo: form.elements.switch.checked };
      show(ended.get(started.id) ?? answer.migration);
      if (ended.has(started.id)) await finish(ended.get(started.id));
    } catch (error) {
      errorBox.textContent = error.message;
      errorBox.hidden = false;
      button.disabled = false;
    }
  });

  function follow() {
    if (events) return;
    events = new EventSource('/admin/migrations/events');
    for (const type of ['status', 'start', 'progress', 'end']) {
      events.addEventListener(type, async (event) => {
        const migration = JSON.parse(event.data);
        if (!migration) return;
        if (migration.state === 'running') {
          if (!started || migration.id === started.id) show(migration);
          return;
        }
        ended.set(migration.id, migration);
        if (started && migration.id === started.id) await finish(migration);
        else if (!started) show(migration);
      });
    }
  }

  function show(migration) {
    panel.hidden = false;
    const { total, done } = migration;
    const percent =
      migration.state === 'succeeded' ? 100 : total ? Math.floor((done / total) * 100) : 0;
    bar.value = percent;
    bar.dataset.state = migration.state;
    for (const name of ['migrated', 'skipped', 'failed']) {
      panel.querySelector(`[data-count=${name}]`).textContent = String(migration[name]);
    }
    const of = total === null ? '' : ` of ${total}`;
    status.textContent = {
      running: `Copying ${done}${of} files… ${percent} %`,
      succeeded: `Finished: ${done}${of} files, ${formatBytes(migration.bytes)} copied.`,
      failed: `Stopped: ${migration.error ? migration.error.message : 'some files failed'}.`,
      cancelled: 'Cancelled.',
    }[migration.state];
    failures.replaceChildren(
      ...migration.failures.slice(0, 20).map((failure) => {
        const item = document.createElement('li');
        item.textContent = `${failure.objectType} ${failure.objectId} ${failure.width}×${failure.height}: ${failure.message}`;
        return item;
      }),
    );
  }

  /** After the run this page started: switch to the new store if asked and all went well. */
  async function finish(migration) {
    const { switchTo } = started;
    started = null;
    events.close();
    events = null;
    show(migration);
    if (migration.state === 'succeeded' && migration.failed === 0 && switchTo) {
      try {
        const switched = await postJson('/admin/switch', { store: migration.to });
        status.textContent += ` Images are now served from ${switched.store.label}.`;
        for (const label of document.querySelectorAll('[data-active-store], .store-label')) {
          label.textContent = switched.store.label;
        }
        form.dataset.from = switched.store.name;
      } catch (error) {
        errorBox.textContent = error.message;
        errorBox.hidden = false;
      }
    }
    await refresh(['stores']);
    panel.dataset.finished = String(migration.id);
    button.disabled = false;
  }
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => null);
  if (!response.ok) {
    throw new Error(answer && answer.error ? answer.error.message : `HTTP ${response.status}`);
  }
  return answer;
}

function formatBytes(bytes) {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = -1;
  do {
    value /= 1000;
    unit += 1;
  } while (value >= 1000 && unit < units.length - 1);
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
