/**
 * The scheme and host of the request being served, as Express computes them: the
 * `X-Forwarded-*` headers count only when the app's `trust proxy` setting trusts the peer.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { UrlUnavailableError } from '../errors.js';

type TrustFunction = (address: string | undefined, hop: number) => boolean;

interface ExpressRequest extends IncomingMessage {
  app?: { get?: (setting: string) => unknown };
}

/** A host with an optional port: a name, an IPv4 address or a bracketed IPv6 address. */
const HOST_PATTERN =
  /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::\d{1,5})?$/;

/** `scheme://host[:port]` of a request, without a trailing slash. */
export function requestOrigin(req: IncomingMessage): string {
  const trust = trustFunction(req);
  const trusted = trust !== undefined && trust(req.socket?.remoteAddress, 0);
  let protocol = (req.socket as TLSSocket | undefined)?.encrypted === true ? 'https' : 'http';
  let host = req.headers.host;
  if (trusted) {
    const forwardedProto = firstValue(req.headers['x-forwarded-proto']);
    if (forwardedProto === 'http' || forwardedProto === 'https') protocol = forwardedProto;
    host = firstValue(req.headers['x-forwarded-host']) ?? host;
  }
  if (host === undefined || !HOST_PATTERN.test(host)) {
    throw new UrlUnavailableError(
      `The request has no valid Host header (${JSON.stringify(host ?? null)}), so no image URL ` +
        'can be built from it; give the store a hostUrlGetter.',
    );
  }
  return `${protocol}://${host}`;
}

function trustFunction(req: IncomingMessage): TrustFunction | undefined {
  const setting = (req as ExpressRequest).app?.get?.('trust proxy fn');
  return typeof setting === 'function' ? (setting as TrustFunction) : undefined;
}

function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const first = value?.split(',')[0]?.trim();
  return first === '' ? undefined : first;
}
