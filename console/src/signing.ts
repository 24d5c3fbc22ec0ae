// SDK-HMAC-SHA256, the request signature of the official Huawei Cloud SDKs, computed with
// WebCrypto exactly as shared/src/auth/signature.rs verifies it:
//
//   canonical request = METHOD \n canonical URI \n canonical query \n canonical headers \n
//                       signed header names \n hex(SHA-256(body))
//   string to sign    = "SDK-HMAC-SHA256" \n X-Sdk-Date \n hex(SHA-256(canonical request))
//   signature         = hex(HMAC-SHA256(SK, string to sign))
//
// The console signs only its token request; the secret key stays in the sign-in form's memory.

export const ALGORITHM = "SDK-HMAC-SHA256";
const CONTENT_SHA256_HEADER = "x-sdk-content-sha256";
const UNRESERVED = /[A-Za-z0-9\-_.~]/;
const utf8 = new TextEncoder();

function hexByte(byte: number): string {
  return "%" + byte.toString(16).toUpperCase().padStart(2, "0");
}

/** Percent-encodes every byte but `A–Z a–z 0–9 - _ . ~`, upper-case hex, as the SDK does. */
export function encodeBytes(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    out += byte < 0x80 && UNRESERVED.test(char) ? char : hexByte(byte);
  }
  return out;
}

export function encode(text: string): string {
  return encodeBytes(utf8.encode(text));
}

/** `%XX` sequences become their byte, everything else its UTF-8 bytes (`+` stays a plus). */
export function percentDecode(text: string): Uint8Array {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; ) {
    const hex = text.slice(i + 1, i + 3);
    if (text[i] === "%" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else {
      const codePoint = text.codePointAt(i) ?? 0;
      const char = String.fromCodePoint(codePoint);
      bytes.push(...utf8.encode(char));
      i += char.length;
    }
  }
  return Uint8Array.from(bytes);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/** Decoded, split on `/`, each segment re-encoded, always ending in `/`. */
export function canonicalUri(rawPath: string): string {
  const decoded = new TextDecoder().decode(percentDecode(rawPath));
  const uri = decoded.split("/").map(encode).join("/");
  return uri.endsWith("/") ? uri : uri + "/";
}

/** Pairs decoded, sorted as bytes by name then value, re-encoded; a bare `k` is `k=`. */
export function canonicalQuery(rawQuery: string): string {
  const pairs = rawQuery
    .split("&")
    .filter((piece) => piece !== "")
    .map((piece) => {
      const at = piece.indexOf("=");
      const [name, value] = at < 0 ? [piece, ""] : [piece.slice(0, at), piece.slice(at + 1)];
      return [percentDecode(name), percentDecode(value)] as const;
    });
  pairs.sort((a, b) => compareBytes(a[0], b[0]) || compareBytes(a[1], b[1]));
  return pairs.map(([name, value]) => `${encodeBytes(name)}=${encodeBytes(value)}`).join("&");
}

/** The query string the console sends: the pairs in order, encoded as the signer encodes them. */
export function buildQuery(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.map(([name, value]) => `${encode(name)}=${encode(value)}`).join("&");
}

function hex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export async function sha256Hex(text: string): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", utf8.encode(text)));
}

export async function hmacSha256Hex(key: string, text: string): Promise<string> {
  const imported = await crypto.subtle.importKey("raw", utf8.encode(key), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return hex(await crypto.subtle.sign("HMAC", imported, utf8.encode(text)));
}

/** `YYYYMMDDTHHMMSSZ` (UTC), the X-Sdk-Date format. */
export function sdkDate(moment: Date): string {
  return moment.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

export interface RequestToSign {
  method: string;
  /** Still percent-encoded, without the query. */
  path: string;
  /** Without `?`; empty for none. */
  query: string;
  /** Every header to sign, `host` and `x-sdk-date` included; names in any case. */
  headers: Record<string, string>;
  body: string;
}

export async function canonicalRequest(request: RequestToSign, signedNames: string[]): Promise<string> {
  const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v.trim()]));
  const claimed = headers[CONTENT_SHA256_HEADER];
  const payload = claimed !== undefined && request.body !== "" ? claimed : await sha256Hex(request.body);
  const canonicalHeaders = signedNames.map((name) => `${name}:${headers[name]}\n`).join("");
  return [
    request.method.toUpperCase(),
    canonicalUri(request.path),
    canonicalQuery(request.query),
    canonicalHeaders,
    signedNames.join(";"),
    payload,
  ].join("\n");
}

/** The `Authorization` header value the SDK would send for `request`, signing all its headers. */
export async function authorizationHeader(accessKey: string, secretKey: string, request: RequestToSign) {
  const names = [...new Set(Object.keys(request.headers).map((name) => name.toLowerCase()))]
    .filter((name) => !name.includes("_"))
    .sort();
  const canonical = await canonicalRequest(request, names);
  const date = Object.entries(request.headers).find(([name]) => name.toLowerCase() === "x-sdk-date")?.[1] ?? "";
  const toSign = `${ALGORITHM}\n${date}\n${await sha256Hex(canonical)}`;
  const signature = await hmacSha256Hex(secretKey, toSign);
  return `${ALGORITHM} Access=${accessKey}, SignedHeaders=${names.join(";")}, Signature=${signature}`;
}
