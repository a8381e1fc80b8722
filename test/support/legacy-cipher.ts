/**
 * A ciphertext as the CPR vault wrote it before v3 (decision 0022): AES-GCM under the key derived for
 * `purpose`, no additional data; `v1:` before key ids, `v2:<key id>:` after. For tests of old databases.
 */
export async function legacyCipher(secret: string, text: string, version: 'v1' | 'v2', purpose: 'cpr-encryption' | 'payload-encryption' = 'cpr-encryption'): Promise<string> {
  const digest = (input: string) => crypto.subtle.digest('SHA-256', new TextEncoder().encode(input));
  const key = await crypto.subtle.importKey('raw', await digest(`${purpose}:${secret}`), 'AES-GCM', false, ['encrypt']);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const cipher = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, new TextEncoder().encode(text)));
  const body = Buffer.concat([iv, cipher]).toString('base64');
  return version === 'v1' ? `v1:${body}` : `v2:${Buffer.from(await digest(`key-id:${secret}`)).toString('hex').slice(0, 12)}:${body}`;
}
