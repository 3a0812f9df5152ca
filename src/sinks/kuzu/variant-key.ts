/**
 * The graph's key of a variant: the UUID version 5 (RFC 9562, SHA-1 name-based) of its variant id
 * in VARIANT_KEY_NAMESPACE. Kuzu 0.11 loses entries of a STRING primary-key index whose values are
 * longer than 12 bytes once the index outgrows the buffer pool (a variant then exists but cannot
 * be found by its key; docs/design/kuzu-at-scale.md), so the Variant tables are keyed by this
 * fixed 16-byte value and keep the id as a property. Any UUID library gives the same key, e.g.
 * Python: `uuid.uuid5(uuid.UUID('9df3f270-928e-502c-bbec-4d91d0ad6b4c'), variant_id)`.
 */
import { createHash } from 'node:crypto';

/** uuid5(NAMESPACE_URL, 'urn:varstream:variant-id'). */
export const VARIANT_KEY_NAMESPACE = '9df3f270-928e-502c-bbec-4d91d0ad6b4c';
const NAMESPACE_BYTES = Buffer.from(VARIANT_KEY_NAMESPACE.replaceAll('-', ''), 'hex');

export function variantKey(variantId: string): string {
  const h = createHash('sha1').update(NAMESPACE_BYTES).update(variantId, 'utf8').digest();
  h[6] = ((h[6] as number) & 0x0f) | 0x50;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  const x = h.toString('hex', 0, 16);
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
