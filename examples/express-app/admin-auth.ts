/**
 * HTTP Basic auth for the admin pages: any user name, the password of `ADMIN_PASSWORD`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const ADMIN_REALM = 'Framehouse admin';

/** Whether the request carries Basic credentials with the password. */
export function hasAdminPassword(req: IncomingMessage, password: string): boolean {
  const header = req.headers.authorization;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (match === null) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return false;
  // Digests have one length, so the comparison takes the same time for any guess.
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(decoded.slice(colon + 1)), digest(password));
}
