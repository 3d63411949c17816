import { randomBytes } from 'node:crypto';

/**
 * A server-chosen id: time-ordered (base36 ms) then random, in the protocol's id alphabet.
 */
export function newId(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${randomBytes(9).toString('base64url')}`;
}
