/**
 * A page that only says something went wrong (not found, refused, failed), with a way back.
 */
import { html, type SafeHtml } from './html.js';

export function messagePage(status: number, message: string): SafeHtml {
  const title = status === 404 ? 'Not found' : status >= 500 ? 'Something went wrong' : 'Refused';
  return html`
    <section class="card notice">
      <p class="status-code">${status}</p>
      <h1>${title}</h1>
      <p>${message}</p>
      <p><a class="button button-secondary" href="/">Back to people</a></p>
    </section>
  `;
}
