/**
 * The upload form: a drop zone with a file input, a progress bar and the place for the error
 * message. Without JavaScript it is a plain form posting to `action`; with it, app.js sends
 * the files to `api` and shows the progress and the server's error inline.
 */
import { html, type SafeHtml } from './html.js';

export interface UploadPanel {
  /** The page route the form posts to without JavaScript. */
  action: string;
  /** The JSON API route app.js sends the files to. */
  api: string;
  /** With an S3 store: the `directUploads` route; app.js then posts the file to the bucket. */
  direct?: string;
  field: string;
  multiple: boolean;
  /** The file input's `accept`. @default 'image/*' */
  accept?: string;
  title: string;
  hint: string;
  /** Ids of the page parts app.js reloads after an upload. */
  refresh: string[];
  /** An error of the last (form) upload. */
  error?: string;
}

export function uploadPanel(panel: UploadPanel): SafeHtml {
  const inputId = `upload-${panel.field}`;
  return html`<form
    class="upload"
    method="post"
    action="${panel.action}"
    enctype="multipart/form-data"
    data-upload="${panel.api}"
    ${panel.direct === undefined ? '' : html`data-direct="${panel.direct}"`}
    data-refresh="${panel.refresh.join(' ')}"
  >
    <div class="dropzone" data-dropzone>
      <svg class="dropzone-icon" viewBox="0 0 24 24" aria-hidden="true">
        <path
          d="M12 16V4m0 0-4 4m4-4 4 4M4 16v3a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-3"
          fill="none"
          stroke="currentColor"
          stroke-width="1.8"
          stroke-linecap="round"
          stroke-linejoin="round"
        />
      </svg>
      <p class="dropzone-title">${panel.title}</p>
      <p class="dropzone-hint">${panel.hint}</p>
      <label class="button button-secondary" for="${inputId}"
        >Choose ${panel.multiple ? 'files' : 'a file'}</label
      >
      <input
        class="visually-hidden"
        id="${inputId}"
        type="file"
        name="${panel.field}"
        accept="${panel.accept ?? 'image/*'}"
        ${panel.multiple ? html` multiple` : ''}
      />
      <button class="button no-js-only" type="submit">Upload</button>
    </div>
    <div class="upload-progress" data-progress hidden>
      <progress max="100" value="0"></progress>
      <span class="upload-status" data-status aria-live="polite"></span>
    </div>
    <p class="form-error" data-error role="alert" ${panel.error === undefined ? html` hidden` : ''}>
      ${panel.error ?? ''}
    </p>
  </form>`;
}
