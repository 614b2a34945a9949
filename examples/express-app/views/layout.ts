/**
 * The frame of every page: head, top bar with navigation, and the footer naming the store.
 */
import { html, type SafeHtml } from './html.js';

export type Section = 'people' | 'albums' | 'admin' | 'none';

export interface PageFrame {
  title: string;
  section: Section;
  /** The active store, shown in the footer (without credentials). */
  storeLabel: string;
}

const NAV: ReadonlyArray<[Section, string, string]> = [
  ['people', '/', 'People'],
  ['albums', '/albums', 'Albums'],
  ['admin', '/admin', 'Admin'],
];

export function layout(frame: PageFrame, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${frame.title} · Framehouse</title>
        <link rel="stylesheet" href="/assets/style.css" />
        <script type="module" src="/assets/app.js"></script>
      </head>
      <body>
        <header class="topbar">
          <div class="wrap topbar-inner">
            <a class="brand" href="/"
              ><span class="brand-mark" aria-hidden="true"></span>Framehouse</a
            >
            <nav class="nav">
              ${NAV.map(
                ([section, href, label]) =>
                  html`<a
                    href="${href}"
                    ${section === frame.section ? html` aria-current="page"` : ''}
                    >${label}</a
                  >`,
              )}
            </nav>
          </div>
        </header>
        <main class="wrap">${body}</main>
        <footer class="wrap footer">
          Framehouse, an example of sequelize-imageattach · images in
          <code class="store-label">${frame.storeLabel}</code>
        </footer>
      </body>
    </html> `;
}

/** A user's initials, for the placeholder of a missing avatar. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0]!, words[words.length - 1]!] : words;
  return letters.map((word) => [...word][0]!.toUpperCase()).join('');
}
