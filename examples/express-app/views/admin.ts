/**
 * The admin page: what each store holds, and the form that migrates every image to another
 * store, with a progress bar app.js feeds from the migration router's Server-Sent Events.
 */
import { formatBytes, html, type SafeHtml } from './html.js';

export interface StoreRow {
  name: string;
  label: string;
  active: boolean;
  total: number;
  present: number | null;
  bytes: number | null;
}

export function adminDisabledPage(): SafeHtml {
  return html`
    <section class="page-head">
      <div>
        <h1>Admin</h1>
        <p class="lede">Admin is disabled.</p>
      </div>
    </section>
    <section class="card notice">
      <h2>Turn it on with a password</h2>
      <p>
        The admin pages move every image from one store to another, so they are off until you give
        them a password. Restart the app with <code>ADMIN_PASSWORD</code> set:
      </p>
      <pre><code>ADMIN_PASSWORD=choose-a-password npm start</code></pre>
      <p>Then open this page again and sign in with any user name and that password.</p>
    </section>
  `;
}

export function adminPage(stores: StoreRow[]): SafeHtml {
  const active = stores.find((store) => store.active);
  return html`
    <section class="page-head">
      <div>
        <h1>Admin</h1>
        <p class="lede">
          Images are served from <strong data-active-store>${active?.label ?? ''}</strong>.
        </p>
      </div>
    </section>
    <section id="stores" class="card" aria-label="Stores">
      <h2>Stores</h2>
      <table class="stores">
        <thead>
          <tr>
            <th>Store</th>
            <th>Files</th>
            <th>Size</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          ${stores.map(
            (store) =>
              html`<tr data-store="${store.name}">
                <td><code>${store.label}</code></td>
                <td>
                  ${store.present === null ? `? of ${store.total}` : `${store.present} of ${store.total}`}
                </td>
                <td>${store.bytes === null ? 'unknown' : formatBytes(store.bytes)}</td>
                <td>${store.active ? html`<span class="badge badge-ok">active</span>` : ''}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </section>
    <section class="card" aria-label="Migrate">
      <h2>Migrate to another store</h2>
      <p class="muted">
        Copies every original and thumbnail from the active store; files already there with the same
        size are skipped, and nothing is deleted from the active store.
      </p>
      <form id="migrate" class="migrate" data-from="${active?.name ?? ''}">
        <label for="target">Store URL</label>
        <input
          id="target"
          name="url"
          required
          placeholder="file:///srv/images-copy?prefix=copy/ or s3://bucket/prefix?region=…"
          autocomplete="off"
          spellcheck="false"
        />
        <label class="check"
          ><input type="checkbox" name="switch" checked /> Serve images from it once every file is
          copied</label
        >
        <button class="button" type="submit">Start migration</button>
        <p class="form-error" data-error role="alert" hidden></p>
      </form>
      <div class="migration" data-migration hidden>
        <progress max="100" value="0"></progress>
        <p class="migration-status" data-status aria-live="polite"></p>
        <dl class="migration-result">
          <div>
            <dt>Migrated</dt>
            <dd data-count="migrated">0</dd>
          </div>
          <div>
            <dt>Skipped</dt>
            <dd data-count="skipped">0</dd>
          </div>
          <div>
            <dt>Failed</dt>
            <dd data-count="failed">0</dd>
          </div>
        </dl>
        <ul class="failures" data-failures></ul>
      </div>
    </section>
  `;
}
