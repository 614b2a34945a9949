/** Upload tokens: what is signed comes back as it was; anything changed or expired is refused. */
import { describe, expect, it } from 'vitest';
import {
  openUploadToken,
  resolveSecret,
  signUploadToken,
  verifyUploadToken,
  type UploadTokenPayload,
} from '../../src/uploads/direct-token.js';

const secret = resolveSecret('k'.repeat(32));
const payload: UploadTokenPayload = {
  id: '0123456789abcdef0123456789abcdef',
  objectType: 'user-picture',
  objectId: 158166530401166902469325588563807197535n,
  key: 'prod/.imageattach-incoming/0123456789abcdef0123456789abcdef',
  maxBytes: 20 * 1024 * 1024,
  expiresAt: new Date(Math.floor(Date.now() / 1000 + 600) * 1000),
};

describe('upload tokens', () => {
  it('verify what they sign, bigint ids included', () => {
    expect(verifyUploadToken(signUploadToken(payload, secret), secret)).toEqual(payload);
  });

  it('are refused with E_UPLOAD_TOKEN_INVALID when any signed field changes', () => {
    const token = signUploadToken(payload, secret);
    const [version, body, signature] = token.split('.') as [string, string, string];
    const fields = JSON.parse(Buffer.from(body, 'base64url').toString()) as unknown[];
    for (let i = 0; i < fields.length; i += 1) {
      const changed = [...fields];
      changed[i] =
        typeof changed[i] === 'number' ? (changed[i] as number) + 1 : `${String(changed[i])}0`;
      const forged = `${version}.${Buffer.from(JSON.stringify(changed)).toString('base64url')}.${signature}`;
      expect(() => verifyUploadToken(forged, secret), `field ${i}`).toThrowError(
        expect.objectContaining({ code: 'E_UPLOAD_TOKEN_INVALID', status: 403 }),
      );
    }
  });

  it('are refused when signed with another secret, or malformed', () => {
    const other = signUploadToken(payload, resolveSecret('x'.repeat(32)));
    for (const token of [other, '', 'v1..', 'v2.a.b', null, {}, 'v1.e30.AAAA', 'x'.repeat(5000)]) {
      expect(() => verifyUploadToken(token, secret), JSON.stringify(token)).toThrowError(
        expect.objectContaining({ code: 'E_UPLOAD_TOKEN_INVALID' }),
      );
    }
  });

  it('are refused with E_UPLOAD_TOKEN_EXPIRED from their expiry on', () => {
    const token = signUploadToken(payload, secret);
    expect(() => verifyUploadToken(token, secret, payload.expiresAt)).toThrowError(
      expect.objectContaining({ code: 'E_UPLOAD_TOKEN_EXPIRED', status: 403 }),
    );
    expect(verifyUploadToken(token, secret, new Date(payload.expiresAt.getTime() - 1000))).toEqual(
      payload,
    );
  });

  it('still open once expired, to name the object to delete, but never when forged', () => {
    const expired = { ...payload, expiresAt: new Date(Math.floor(Date.now() / 1000 - 60) * 1000) };
    expect(openUploadToken(signUploadToken(expired, secret), secret)).toEqual(expired);
    const other = signUploadToken(expired, resolveSecret('x'.repeat(32)));
    expect(() => openUploadToken(other, secret)).toThrowError(
      expect.objectContaining({ code: 'E_UPLOAD_TOKEN_INVALID' }),
    );
  });

  it('need a secret of at least 32 bytes', () => {
    for (const bad of ['short', '', 42, undefined, Buffer.alloc(31)]) {
      expect(() => resolveSecret(bad)).toThrowError(
        expect.objectContaining({ code: 'E_INVALID_OPTION', option: 'secret' }),
      );
    }
    expect(resolveSecret(Buffer.alloc(32, 1))).toHaveLength(32);
  });
});
