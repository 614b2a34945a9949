/**
 * The albums: a list with covers and the form that adds one, and one album's photo grid with
 * its upload form and a delete button per photo.
 */
import { MAX_NAME_LENGTH } from '../models.js';
import { pick, type AlbumView } from '../presenters.js';
import { GRID_WIDTH } from '../sizes.js';
import { html, SafeHtml } from './html.js';
import { uploadPanel } from './upload-panel.js';

export function albumsPage(albums: AlbumView[], error?: { message: string; title: string }) {
  return html`
    <section class="page-head">
      <div>
        <h1>Albums</h1>
        <p class="lede">
          Each album is a multiple image set: one original and its thumbnails per photo.
        </p>
      </div>
    </section>
    <section class="albums" aria-label="Albums">
      ${albums.map((album) => {
        const cover = album.photos[0];
        return html`<a class="album-tile" href="/albums/${album.id}">
          ${
            cover === undefined
              ? html`<span class="album-cover album-cover-empty"></span>`
              : html`<img
                  class="album-cover"
                  src="${pick(cover, GRID_WIDTH).url}"
                  srcset="${pick(cover, GRID_WIDTH).url} 1x, ${pick(cover, GRID_WIDTH * 2).url} 2x"
                  alt=""
                />`
          }
          <span class="album-title">${album.title}</span>
          <span class="person-meta"
            >${album.photos.length === 1 ? '1 photo' : `${album.photos.length} photos`}</span
          >
        </a>`;
      })}
      <form class="album-tile album-add" method="post" action="/albums">
        <label class="visually-hidden" for="new-title">Title</label>
        <input
          id="new-title"
          name="title"
          required
          maxlength="${MAX_NAME_LENGTH}"
          placeholder="Album title"
          autocomplete="off"
          value="${error?.title ?? ''}"
        />
        <button class="button" type="submit">Create album</button>
        ${error && html`<p class="form-error" role="alert">${error.message}</p>`}
      </form>
    </section>
  `;
}

/** `photoHtml`: each photo's `<picture>` by position (see `loadPhotoHtml`). */
export function albumPage(
  album: AlbumView,
  uploadError?: string,
  photoHtml: ReadonlyMap<number, string> = new Map(),
): SafeHtml {
  return html`
    <nav class="crumbs">
      <a href="/albums">Albums</a> <span aria-hidden="true">/</span> ${album.title}
    </nav>
    <section id="head" class="page-head">
      <div>
        <h1>${album.title}</h1>
        <p class="lede">
          ${album.photos.length === 1 ? '1 photo' : `${album.photos.length} photos`}
        </p>
      </div>
    </section>
    <section class="card">
      ${uploadPanel({
        action: `/albums/${album.id}/photos`,
        api: `/api/albums/${album.id}/photos`,
        field: 'photos',
        multiple: true,
        accept: 'image/*,application/pdf',
        title: 'Drop photos here',
        hint: 'Up to 12 images or PDFs at once, 20 MB each',
        refresh: ['photos', 'head'],
        error: uploadError,
      })}
    </section>
    <section id="photos" class="grid" aria-label="Photos">
      ${album.photos.length === 0 ? html`<p class="muted grid-empty">No photos yet.</p>` : ''}
      ${album.photos.map((photo) => {
        return html`<figure class="photo">
          <a href="${photo.original.url}">${new SafeHtml(photoHtml.get(photo.position) ?? '')}</a>
          <figcaption>
            <span>${photo.original.width} × ${photo.original.height}</span>
            <a class="button button-small" href="${photo.large}">Large</a>
            <form method="post" action="/albums/${album.id}/photos/${photo.position}/delete">
              <button
                class="button button-small button-danger"
                type="submit"
                aria-label="Delete photo ${photo.position + 1}"
              >
                Delete
              </button>
            </form>
          </figcaption>
        </figure>`;
      })}
    </section>
  `;
}
