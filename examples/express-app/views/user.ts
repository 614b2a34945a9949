/**
 * A user's page: their picture, every stored size of it, the upload form and the delete button.
 */
import { pendingWidths, type UserView } from '../presenters.js';
import { USER_THUMBNAILS } from '../sizes.js';
import { avatar } from './avatar.js';
import { html, SafeHtml } from './html.js';
import { uploadPanel } from './upload-panel.js';

const USER_WIDTHS = USER_THUMBNAILS.flatMap((size) => size.width ?? []);

/**
 * `pictureHtml` is the picture's `<img srcset sizes>` with its placeholder, from the set's
 * toHTML() (which escapes every attribute); `direct` sends uploads straight to the bucket.
 */
export function userPage(
  user: UserView,
  uploadError?: string,
  pictureHtml = '',
  direct = false,
): SafeHtml {
  const { picture } = user;
  // On PostgreSQL a worker makes the thumbnails after the upload; until then the original shows.
  const pending = picture === null ? [] : pendingWidths(picture, USER_WIDTHS);
  return html`
    <nav class="crumbs"><a href="/">People</a> <span aria-hidden="true">/</span> ${user.name}</nav>
    <section id="head" class="page-head">
      ${avatar(user, 64)}
      <div>
        <h1>${user.name}</h1>
        <p class="lede">
          ${picture === null ? 'No picture yet.' : `Picture ${picture.original.width} × ${picture.original.height}, ${picture.original.mimetype}`}
        </p>
      </div>
    </section>
    <div class="split">
      <section id="picture" class="card picture-card" aria-label="Picture">
        ${
          picture === null
            ? html`<div class="picture-empty">
                <p>Upload a picture to see it here, with its thumbnails.</p>
              </div>`
            : html`<a href="${picture.original.url}">${new SafeHtml(pictureHtml)}</a>
                <form
                  method="post"
                  action="/users/${user.id}/picture/delete"
                  class="picture-actions"
                >
                  <button class="button button-danger" type="submit">Delete picture</button>
                </form>`
        }
      </section>
      <div class="stack">
        <section class="card">
          <h2>${picture === null ? 'Add a picture' : 'Replace the picture'}</h2>
          ${uploadPanel({
            action: `/users/${user.id}/picture`,
            api: `/api/users/${user.id}/picture`,
            ...(direct ? { direct: `/api/users/${user.id}/picture/direct` } : {}),
            field: 'picture',
            multiple: false,
            title: 'Drop an image here',
            hint: 'JPEG, PNG, WebP, AVIF or GIF, up to 20 MB',
            refresh: ['picture', 'sizes', 'head'],
            error: uploadError,
          })}
        </section>
        <section id="sizes" class="card" aria-label="Stored sizes">
          <h2>Stored sizes</h2>
          ${
            picture === null
              ? html`<p class="muted">
                  Nothing stored yet. Each upload keeps the original and makes the thumbnails the
                  pages use.
                </p>`
              : html`<table class="sizes">
                    <thead>
                      <tr>
                        <th></th>
                        <th>Size</th>
                        <th>Type</th>
                        <th>Kind</th>
                        <th></th>
                      </tr>
                    </thead>
                    <tbody>
                      ${[picture.original, ...picture.thumbnails].map(
                        (image, index) =>
                          html`<tr>
                            <td>
                              <img
                                class="size-preview"
                                src="${image.url}"
                                width="${Math.round((40 * image.width) / image.height)}"
                                height="40"
                                alt=""
                                loading="lazy"
                              />
                            </td>
                            <td>${image.width} × ${image.height}</td>
                            <td><code>${image.mimetype}</code></td>
                            <td>
                              ${index === 0 ? html`<span class="badge">original</span>` : 'thumbnail'}
                            </td>
                            <td><a href="${image.url}">Open</a></td>
                          </tr>`,
                      )}
                    </tbody>
                  </table>
                  ${
                    pending.length === 0
                      ? ''
                      : html`<p class="muted pending" data-pending="${pending.join(' ')}">
                          Thumbnails pending (${pending.map((width) => `${width} px`).join(', ')}):
                          a worker is making them; reload to see them.
                        </p>`
                  }`
          }
        </section>
      </div>
    </div>
  `;
}
