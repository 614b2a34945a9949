/**
 * A user's avatar: the 128 px thumbnail with the 256 px one for 2x screens, or their initials
 * on a colour of their own when they have no picture.
 */
import type { UserView } from '../presenters.js';
import { pick } from '../presenters.js';
import { AVATAR_WIDTH } from '../sizes.js';
import { html, type SafeHtml } from './html.js';
import { initials } from './layout.js';

const HUES = [12, 38, 152, 190, 222, 262, 292, 332];

export function avatar(user: UserView, size = AVATAR_WIDTH): SafeHtml {
  if (user.picture === null) {
    const hue = HUES[user.id % HUES.length]!;
    return html`<span
      class="avatar avatar-empty"
      style="--hue: ${hue}; --size: ${size}px"
      aria-hidden="true"
      >${initials(user.name)}</span
    >`;
  }
  const one = pick(user.picture, AVATAR_WIDTH);
  const two = pick(user.picture, AVATAR_WIDTH * 2);
  return html`<img
    class="avatar"
    style="--size: ${size}px"
    src="${one.url}"
    srcset="${one.url} 1x, ${two.url} 2x"
    width="${size}"
    height="${size}"
    alt="${user.name}"
  />`;
}
