/**
 * Upload tokens of direct uploads: what the server promised a browser when it presigned a POST
 * (the image set, the object key, the size limit, the expiry), signed with HMAC-SHA-256 so the
 * browser can carry it back to `complete` but not change it. The signed text is a canonical
 * encoding (a JSON array in a fixed order, base64url), so one payload has one signature.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidOptionError, UploadTokenExpiredError, UploadTokenInvalidError } from '../errors.js';

/** What a token says. */
export interface UploadTokenPayload {
  /** 32 hex digits: the token's id, also the last segment of its object key. */
  readonly id: string;
  /** The object type of the image set the upload is for. */
  readonly objectType: string;
  /** The object id of that set. */
  readonly objectId: bigint;
  /** The incoming object's key. */
  readonly key: string;
  /** The most bytes the object may have. */
  readonly maxBytes: number;
  /** When the token (and the presigned POST) expires. */
  readonly expiresAt: Date;
}

const VERSION = 'v1';
const MIN_SECRET_BYTES = 32;

/** A new token id: 128 random bits. */
export function newUploadId(): string {
  return randomBytes(16).toString('hex');
}

/** The secret as bytes, checked once: at least 32 bytes, as HMAC-SHA-256 wants. */
export function resolveSecret(secret: unknown): Buffer {
  const bytes =
    typeof secret === 'string'
      ? Buffer.from(secret, 'utf8')
      : secret instanceof Uint8Array
        ? Buffer.from(secret)
        : undefined;
  if (bytes === undefined || bytes.length < MIN_SECRET_BYTES) {
    throw new InvalidOptionError(
      'secret',
      `must be a string or Buffer of at least ${MIN_SECRET_BYTES} bytes (e.g. randomBytes(32).toString('hex')), kept out of the code`,
    );
  }
  return bytes;
}

/** The token of `payload`: `v1.<payload>.<signature>`, all base64url. */
export function signUploadToken(payload: UploadTokenPayload, secret: Buffer): string {
  const body = Buffer.from(
    JSON.stringify([
      payload.id,
      payload.objectType,
      payload.objectId.toString(),
      payload.key,
      payload.maxBytes,
      Math.floor(payload.expiresAt.getTime() / 1000),
    ]),
  ).toString('base64url');
  return `${VERSION}.${body}.${mac(`${VERSION}.${body}`, secret).toString('base64url')}`;
}

/**
 * What a token says, once its signature and expiry hold.
 * @throws {UploadTokenInvalidError} (403) when it is not a token or its signature is wrong.
 * @throws {UploadTokenExpiredError} (403) when it has expired.
 */
export function verifyUploadToken(
  token: unknown,
  secret: Buffer,
  now = new Date(),
): UploadTokenPayload {
  const payload = openUploadToken(token, secret);
  if (isExpired(payload, now)) {
    throw new UploadTokenExpiredError('The upload token has expired; upload the file again.');
  }
  return payload;
}

/** Whether `payload`'s token (and its presigned POST) has expired at `now`. */
export function isExpired(payload: UploadTokenPayload, now = new Date()): boolean {
  return payload.expiresAt.getTime() <= now.getTime();
}

/**
 * What a token says once its signature holds, expired or not: an expired token still names
 * the incoming object it was for, which can then be deleted.
 * @throws {UploadTokenInvalidError} (403) when it is not a token or its signature is wrong.
 */
export function openUploadToken(token: unknown, secret: Buffer): UploadTokenPayload {
  const invalid = () =>
    new UploadTokenInvalidError('The upload token is not valid; ask for a new upload.');
  if (typeof token !== 'string' || token.length > 4096) throw invalid();
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) throw invalid();
  const [, body = '', signature = ''] = parts;
  const expected = mac(`${VERSION}.${body}`, secret);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
  // Signed by us: the shape below is ours, but a secret shared with something else is not.
  const payload = parsePayload(body);
  if (payload === undefined) throw invalid();
  return payload;
}

function parsePayload(body: string): UploadTokenPayload | undefined {
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(fields) || fields.length !== 6) return undefined;
  const [id, objectType, objectId, key, maxBytes, expires] = fields as unknown[];
  if (
    typeof id !== 'string' ||
    !/^[0-9a-f]{32}$/.test(id) ||
    typeof objectType !== 'string' ||
    typeof objectId !== 'string' ||
    !/^-?\d+$/.test(objectId) ||
    typeof key !== 'string' ||
    !Number.isSafeInteger(maxBytes) ||
    !Number.isSafeInteger(expires)
  ) {
    return undefined;
  }
  return {
    id,
    objectType,
    objectId: BigInt(objectId),
    key,
    maxBytes: maxBytes as number,
    expiresAt: new Date((expires as number) * 1000),
  };
}

function mac(text: string, secret: Buffer): Buffer {
  return createHmac('sha256', secret).update(text).digest();
}
