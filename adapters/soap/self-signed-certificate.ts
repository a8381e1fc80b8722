/**
 * A throw-away self-signed function certificate, made in memory when the embedded demo starts, so
 * the demo's Ungedatabasen simulator can demand WS-Security as STIL's platform does and the adapter
 * signs as it would in production (decision 0027) — without a private key committed to the
 * repository. Only the demo uses it: a real function certificate (FOCES/OCES3) comes from the
 * municipality's configuration (EDUCATION_WSSE_CERT / EDUCATION_WSSE_KEY).
 *
 * X.509 v3 (RFC 5280) without extensions, RSA 2048, signed with SHA-256; encoded by the few DER rules
 * it needs (ITU-T X.690). WebCrypto only, so it runs wherever the signer runs.
 */

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
/** WebCrypto's key type, named the way both Node's and the Workers' type libraries accept. */
type WebCryptoKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return [0x80 | bytes.length, ...bytes];
}

const der = (tag: number, ...contents: Uint8Array[]): Uint8Array => {
  const body = concat(contents);
  return concat([Uint8Array.from([tag, ...derLength(body.length)]), body]);
};

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const sequence = (...contents: Uint8Array[]) => der(0x30, ...contents);

function objectIdentifier(dotted: string): Uint8Array {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes = [first! * 40 + second!];
  for (const arc of rest) {
    const base128 = [arc & 0x7f];
    for (let value = arc >>> 7; value > 0; value >>>= 7) base128.unshift((value & 0x7f) | 0x80);
    bytes.push(...base128);
  }
  return der(0x06, Uint8Array.from(bytes));
}

/** A positive INTEGER from unsigned big-endian bytes (a leading zero keeps the sign bit clear). */
const unsignedInteger = (bytes: Uint8Array) => der(0x02, bytes[0]! & 0x80 ? concat([Uint8Array.of(0), bytes]) : bytes);

/** UTCTime (YYMMDDHHMMSSZ) up to 2049, GeneralizedTime after, as RFC 5280 § 4.1.2.5 asks. */
function time(at: Date): Uint8Array {
  const iso = at.toISOString();
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '') + 'Z';
  return at.getUTCFullYear() < 2050 ? der(0x17, new TextEncoder().encode(digits.slice(2))) : der(0x18, new TextEncoder().encode(digits));
}

const commonNameOnly = (commonName: string) => sequence(der(0x31, sequence(objectIdentifier('2.5.4.3'), der(0x0c, new TextEncoder().encode(commonName)))));

const sha256WithRsa = () => sequence(objectIdentifier('1.2.840.113549.1.1.11'), der(0x05));

const pem = (label: string, bytes: Uint8Array) => {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
};

export interface SelfSignedCertificate {
  certificatePem: string;
  privateKeyPem: string;
}

/** A new key pair and a certificate for it, valid from a minute ago for `validDays`. */
export async function makeSelfSignedCertificate(commonName: string, options: { validDays?: number; now?: Date } = {}): Promise<SelfSignedCertificate> {
  const now = options.now ?? new Date();
  const keys = (await crypto.subtle.generateKey({ ...RSA, modulusLength: 2048, publicExponent: Uint8Array.of(1, 0, 1) }, true, ['sign', 'verify'])) as { publicKey: WebCryptoKey; privateKey: WebCryptoKey };
  const publicKeyInfo = new Uint8Array((await crypto.subtle.exportKey('spki', keys.publicKey)) as ArrayBuffer);
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive and never zero-led, as RFC 5280 § 4.1.2.2 asks
  const name = commonNameOnly(commonName);
  const toBeSigned = sequence(
    der(0xa0, der(0x02, Uint8Array.of(2))), // [0] EXPLICIT version v3
    unsignedInteger(serial),
    sha256WithRsa(),
    name,
    sequence(time(new Date(now.getTime() - 60_000)), time(new Date(now.getTime() + (options.validDays ?? 365) * 86_400_000))),
    name,
    publicKeyInfo,
  );
  const signature = new Uint8Array(await crypto.subtle.sign(RSA, keys.privateKey, toBeSigned));
  const certificate = sequence(toBeSigned, sha256WithRsa(), der(0x03, concat([Uint8Array.of(0), signature])));
  const privateKey = new Uint8Array((await crypto.subtle.exportKey('pkcs8', keys.privateKey)) as ArrayBuffer);
  return { certificatePem: pem('CERTIFICATE', certificate), privateKeyPem: pem('PRIVATE KEY', privateKey) };
}
