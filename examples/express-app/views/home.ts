/**
 * The home page: everyone with their avatar, and the form that adds a person.
 */
import type { UserView } from '../presenters.js';
import { MAX_NAME_LENGTH } from '../models.js';
import { avatar } from './avatar.js';
import { html, type SafeHtml } from './html.js';

export interface HomeData {
  users: UserView[];
  /** The name typed in the form and why it was refused, after a failed submit. */
  error?: { message: string; name: string };
}

export function homePage({ users, error }: HomeData): SafeHtml {
  return html`
    <section class="page-head">
      <div>
        <h1>People</h1>
        <p class="lede">
          ${users.length === 1 ? '1 person' : `${users.length} people`}. Open anyone to change their
          picture.
        </p>
      </div>
    </section>
    <section class="people" aria-label="People">
      ${users.map(
        (user) =>
          html` <a class="person" href="/users/${user.id}">
            ${avatar(user)}
            <span class="person-name">${user.name}</span>
            <span class="person-meta"
              >${
                user.picture === null
                  ? 'No picture yet'
                  : `${user.picture.original.width} × ${user.picture.original.height} · ${user.picture.thumbnails.length} sizes`
              }</span
            >
          </a>`,
      )}
      <form class="person person-add" method="post" action="/users">
        <span class="avatar avatar-plus" aria-hidden="true">+</span>
        <label class="visually-hidden" for="new-name">Name</label>
        <input
          id="new-name"
          name="name"
          required
          maxlength="${MAX_NAME_LENGTH}"
          placeholder="Full name"
          autocomplete="off"
          value="${error?.name ?? ''}"
        />
        <button class="button" type="submit">Add person</button>
        ${error && html`<p class="form-error" role="alert">${error.message}</p>`}
      </form>
    </section>
  `;
}
