/**
 * Card button data the bot must be able to trust (the patient and studies it offered) is signed
 * with an HMAC, so a tampered or forged submit is refused rather than acted on.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Signs and verifies JSON payloads carried in card buttons. */
export interface Signer {
  sign(payload: unknown): string;
  /** The payload, or null when the token was tampered with, forged or signed by another key. */
  verify(token: unknown): unknown;
}

/**
 * A signer over `secret` (at least 32 bytes of entropy, from the configuration or random at start).
 * `previous` is the secret before a rotation: still accepted when verifying, never used to sign, so
 * cards already on clinicians' screens keep working while every instance moves to the new secret.
 */
export function createSigner(secret: string, previous: string | null = null): Signer {
  const macWith =
    (key: string) =>
    (body: string): Buffer =>
      createHmac('sha256', key).update(body).digest();
  const mac = macWith(secret);
  const accepted = previous ? [mac, macWith(previous)] : [mac];
  return {
    sign(payload) {
      const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
      return `${body}.${mac(body).toString('base64url')}`;
    },
    verify(token) {
      if (typeof token !== 'string' || token.length > 16_384) return null;
      const [body, signature, extra] = token.split('.');
      if (!body || !signature || extra !== undefined) return null;
      const given = Buffer.from(signature, 'base64url');
      const genuine = accepted.some((macOf) => {
        const expected = macOf(body);
        return given.length === expected.length && timingSafeEqual(given, expected);
      });
      if (!genuine) return null;
      try {
        return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown;
      } catch {
        return null;
      }
    },
  };
}
