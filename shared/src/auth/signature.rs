//! SDK-HMAC-SHA256, the request signature of the official Huawei Cloud SDKs,
//! exactly as `huaweicloudsdkcore` computes it (see shared/spec/SDK_CONTRACT.md §2):
//!
//! canonical request = METHOD \n canonical URI \n canonical query \n canonical headers \n
//!                     signed header names \n hex(SHA-256(body))
//! string to sign    = "SDK-HMAC-SHA256" \n X-Sdk-Date \n hex(SHA-256(canonical request))
//! signature         = hex(HMAC-SHA256(SK, string to sign))
//!
//! The last line of the canonical request is the body's hash, taken from the
//! body received (see `payload_hash`): a client's `X-Sdk-Content-Sha256` only
//! counts when it is signed, and then only as APIG's `UNSIGNED-PAYLOAD` or as
//! the body's own hash.

use hmac::{Hmac, Mac};
use http::HeaderMap;
use percent_encoding::{percent_decode_str, percent_encode, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
pub const DATE_HEADER: &str = "x-sdk-date";
pub const CONTENT_SHA256_HEADER: &str = "x-sdk-content-sha256";
/// The `X-Sdk-Content-Sha256` value with which the APIG signer (and the SDK, for
/// bodies that are not JSON) leaves the body out of the signature.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// SHA-256 of nothing: the payload line of every request without a body.
const EMPTY_BODY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Everything but `A–Z a–z 0–9 - _ . ~` is percent-encoded, with upper-case hex.
const SDK_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// The parts of a request the signature covers, as they arrived.
pub struct SignedParts<'a> {
    pub method: &'a str,
    /// The path as sent, still percent-encoded.
    pub raw_path: &'a str,
    /// The query string as sent, without `?`.
    pub raw_query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// The parsed `Authorization: SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key: String,
    /// In the order given, duplicates kept (the SDK can sign one header twice).
    pub signed_headers: Vec<String>,
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("Authorization header is malformed: {0}")]
    Malformed(&'static str),
    #[error("unsupported signing algorithm {0}; use SDK-HMAC-SHA256")]
    UnsupportedAlgorithm(String),
    #[error("signed header {0} is missing from the request")]
    MissingSignedHeader(String),
    #[error("the signature must cover the {0} header")]
    UnsignedRequiredHeader(&'static str),
    #[error("X-Sdk-Content-Sha256 is signed but is neither UNSIGNED-PAYLOAD nor the SHA-256 of the body received")]
    ContentHashMismatch,
}

pub fn parse_authorization(value: &str) -> Result<Authorization, SignatureError> {
    let (algorithm, rest) = value.trim().split_once(' ').ok_or(SignatureError::Malformed("no credentials"))?;
    if algorithm != ALGORITHM {
        return Err(SignatureError::UnsupportedAlgorithm(algorithm.to_owned()));
    }
    let (mut access_key, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (name, value) = part.trim().split_once('=').ok_or(SignatureError::Malformed("a part has no '='"))?;
        match name {
            "Access" => access_key = Some(value.to_owned()),
            "SignedHeaders" => signed_headers = Some(value.split(';').map(str::to_owned).collect::<Vec<_>>()),
            "Signature" => signature = Some(value.to_owned()),
            _ => {}
        }
    }
    let authorization = Authorization {
        access_key: access_key.filter(|v| !v.is_empty()).ok_or(SignatureError::Malformed("no Access"))?,
        signed_headers: signed_headers.ok_or(SignatureError::Malformed("no SignedHeaders"))?,
        signature: signature.filter(|v| !v.is_empty()).ok_or(SignatureError::Malformed("no Signature"))?,
    };
    for required in ["host", DATE_HEADER] {
        if !authorization.signed_headers.iter().any(|h| h == required) {
            return Err(SignatureError::UnsignedRequiredHeader(required));
        }
    }
    Ok(authorization)
}

fn encode(text: &str) -> String {
    utf8_percent_encode(text, SDK_ENCODE).to_string()
}

fn decode(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// Decoded, split on `/`, each segment re-encoded, always ending in `/`.
pub fn canonical_uri(raw_path: &str) -> String {
    let decoded = decode(raw_path);
    let mut uri = decoded.split('/').map(encode).collect::<Vec<_>>().join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Pairs decoded, sorted by name then value, re-encoded (space is `%20`), as
/// the SDK's signer builds it from its parameters. `+` is a literal plus, as in
/// the signer (it decodes with `unquote`, never `unquote_plus`); a bare `k` is
/// `k=`. Names and values are compared and re-encoded as bytes: for UTF-8 that
/// is the SDK's code-point order, and bytes that are not UTF-8 stay distinct
/// instead of all becoming U+FFFD. `http::parse_query` decodes the same way, so
/// handlers see exactly the pairs the signature covers.
pub fn canonical_query(raw_query: Option<&str>) -> String {
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = raw_query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode_str(name).collect(), percent_decode_str(value).collect())
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(n, v)| format!("{}={}", percent_encode(n, SDK_ENCODE), percent_encode(v, SDK_ENCODE)))
        .collect::<Vec<_>>()
        .join("&")
}

fn header_value(headers: &HeaderMap, name: &str) -> Option<String> {
    // The SDK signs header values as Unicode text and sends them as UTF-8.
    headers.get(name).map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The last line of the canonical request: what the signature says about the body.
///
/// It is the hash of the body received. `X-Sdk-Content-Sha256` is honoured only
/// when it is one of the signed headers (an unsigned one could be set by anyone
/// replaying a captured request with another body), and then only as
/// `UNSIGNED-PAYLOAD`, which APIG defines as "the body is not signed", or as the
/// body's own hash (which binds the body anyway); any other signed value is
/// refused. Without a body the line is always the empty hash, as the SDK signs it.
pub fn payload_hash(parts: &SignedParts<'_>, signed_headers: &[String]) -> Result<String, SignatureError> {
    if parts.body.is_empty() {
        return Ok(EMPTY_BODY_SHA256.to_owned());
    }
    let body_hash = sha256_hex(parts.body);
    if !signed_headers.iter().any(|h| h == CONTENT_SHA256_HEADER) {
        return Ok(body_hash);
    }
    match header_value(parts.headers, CONTENT_SHA256_HEADER) {
        Some(claimed) if claimed == UNSIGNED_PAYLOAD => Ok(claimed),
        // Kept as sent: the SDK signs the header's text, whatever its case.
        Some(claimed) if claimed.eq_ignore_ascii_case(&body_hash) => Ok(claimed),
        Some(_) => Err(SignatureError::ContentHashMismatch),
        None => Err(SignatureError::MissingSignedHeader(CONTENT_SHA256_HEADER.to_owned())),
    }
}

/// The canonical request a verifier rebuilds from what it received.
pub fn canonical_request(parts: &SignedParts<'_>, signed_headers: &[String]) -> Result<String, SignatureError> {
    canonical_request_with(parts, signed_headers, &payload_hash(parts, signed_headers)?)
}

fn canonical_request_with(
    parts: &SignedParts<'_>,
    signed_headers: &[String],
    payload_hash: &str,
) -> Result<String, SignatureError> {
    let mut headers = String::new();
    for name in signed_headers {
        let value =
            header_value(parts.headers, name).ok_or_else(|| SignatureError::MissingSignedHeader(name.clone()))?;
        headers.push_str(&format!("{name}:{value}\n"));
    }
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        parts.method.to_uppercase(),
        canonical_uri(parts.raw_path),
        canonical_query(parts.raw_query),
        headers,
        signed_headers.join(";"),
        payload_hash
    ))
}

pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{sdk_date}\n{}", sha256_hex(canonical_request.as_bytes()))
}

fn mac(secret_key: &str, string_to_sign: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret_key.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(string_to_sign.as_bytes());
    mac
}

pub fn sign(secret_key: &str, string_to_sign: &str) -> String {
    hex::encode(mac(secret_key, string_to_sign).finalize().into_bytes())
}

/// Compares in constant time, so the time taken reveals nothing about the right signature.
pub fn signature_matches(secret_key: &str, string_to_sign: &str, claimed_hex: &str) -> bool {
    match hex::decode(claimed_hex) {
        Ok(claimed) => mac(secret_key, string_to_sign).verify_slice(&claimed).is_ok(),
        Err(_) => false,
    }
}

/// `YYYYMMDDTHHMMSSZ` (UTC), the X-Sdk-Date format, for a time in ms since the epoch.
pub fn sdk_date(ms: i64) -> String {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let moment =
        time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    moment.format(format).expect("a fixed numeric format always formats")
}

/// An AK/SK pair, for signing.
#[derive(Clone, Copy)]
pub struct AccessKey<'a> {
    pub id: &'a str,
    pub secret: &'a str,
}

/// Signs a request the way the official SDK does: sets `X-Sdk-Date` (for `now_ms`)
/// and `Authorization` over every header already in `headers` (`Host` included).
pub fn sign_headers(
    headers: &mut HeaderMap,
    key: AccessKey<'_>,
    method: &str,
    raw_path: &str,
    raw_query: Option<&str>,
    body: &[u8],
    now_ms: i64,
) {
    headers.insert(DATE_HEADER, http::HeaderValue::from_str(&sdk_date(now_ms)).expect("digits are a valid header"));
    let parts = SignedParts { method, raw_path, raw_query, headers, body };
    let value = authorization_header(key.id, key.secret, &parts);
    headers.insert(http::header::AUTHORIZATION, http::HeaderValue::from_str(&value).expect("the header is ASCII"));
}

/// The `Authorization` header value for a request, as the SDK would send it.
/// `headers` must already hold every header to sign, `Host` and `X-Sdk-Date` included.
pub fn authorization_header(access_key: &str, secret_key: &str, parts: &SignedParts<'_>) -> String {
    let mut names: Vec<String> =
        parts.headers.keys().map(|k| k.as_str().to_owned()).filter(|n| !n.contains('_')).collect();
    names.sort();
    names.dedup();
    // What the SDK's signer puts there: the header's value, whatever it is, if the body is not empty.
    let payload = match header_value(parts.headers, CONTENT_SHA256_HEADER) {
        Some(claimed) if !parts.body.is_empty() => claimed,
        _ => sha256_hex(parts.body),
    };
    let canonical = canonical_request_with(parts, &names, &payload).expect("every listed header is present");
    let date = header_value(parts.headers, DATE_HEADER).unwrap_or_default();
    let signature = sign(secret_key, &string_to_sign(&date, &canonical));
    format!("{ALGORITHM} Access={access_key}, SignedHeaders={}, Signature={signature}", names.join(";"))
}

#[cfg(test)]
mod tests {
    //! The vectors of SDK_CONTRACT.md §2, computed by the SDK's own signer.
    use super::*;

    const SK: &str = "EXAMPLESK00000000000000000000000000000000";
    const DATE: &str = "20240101T000000Z";

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        map
    }

    fn signed(list: &str) -> Vec<String> {
        list.split(';').map(str::to_owned).collect()
    }

    #[test]
    fn vector_a_post_with_body() {
        let h = headers(&[
            ("content-type", "application/json;charset=utf-8"),
            ("host", "127.0.0.1:9000"),
            ("user-agent", "huaweicloud-usdk-python/3.0"),
            ("x-project-id", "0123456789abcdef0123456789abcdef"),
            ("x-sdk-date", DATE),
        ]);
        let parts = SignedParts {
            method: "POST",
            raw_path: "/v1/job/scripts/SC2024010100000001",
            raw_query: None,
            headers: &h,
            body: br#"{"execute_param": {"timeout": 300}}"#,
        };
        let canonical =
            canonical_request(&parts, &signed("content-type;host;user-agent;x-project-id;x-sdk-date")).unwrap();
        assert!(canonical.starts_with("POST\n/v1/job/scripts/SC2024010100000001/\n\ncontent-type:"));
        assert!(canonical.ends_with("\n8a855bc2c634b9354765482b53645e6225e3c868da455cdd5ef2d6a404b3aee6"));
        let to_sign = string_to_sign(DATE, &canonical);
        assert_eq!(
            to_sign,
            "SDK-HMAC-SHA256\n20240101T000000Z\nef5c5d09ff8cfaa9dda2680b2e18b1be10fd172618850eb81568195eb6010a3a"
        );
        let expected = "0a3ba25e9557419e59a9c600c63338c600a135679f7a264ad427ede8fe7cb6a9";
        assert_eq!(sign(SK, &to_sign), expected);
        assert!(signature_matches(SK, &to_sign, expected));
        assert!(!signature_matches(SK, &to_sign, &expected.replace('0', "1")));
        assert!(!signature_matches("other", &to_sign, expected));
        assert_eq!(authorization_header("AK", SK, &parts).rsplit('=').next().unwrap(), expected);
    }

    #[test]
    fn vector_b_query_with_unicode() {
        let h = headers(&[
            ("content-type", "application/json"),
            ("host", "127.0.0.1:9000"),
            ("user-agent", "huaweicloud-usdk-python/3.0"),
            ("x-project-id", "0123456789abcdef0123456789abcdef"),
            ("x-sdk-date", DATE),
        ]);
        let parts = SignedParts {
            method: "GET",
            raw_path: "/v1/job/scripts",
            raw_query: Some("limit=10&marker=3&name_like=hel%20lo%2F%C3%A9"),
            headers: &h,
            body: b"",
        };
        assert_eq!(canonical_query(parts.raw_query), "limit=10&marker=3&name_like=hel%20lo%2F%C3%A9");
        let canonical =
            canonical_request(&parts, &signed("content-type;host;user-agent;x-project-id;x-sdk-date")).unwrap();
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            "3ddbe0a045d6a6c46acf6d9582e507565107d70343ef7246cac1d10a6a733c9d"
        );
        assert_eq!(
            sign(SK, &string_to_sign(DATE, &canonical)),
            "a5f7d94866c73ffa98c49282fa70c6af5b26a9f415cc223bae0db74d4a9e63a5"
        );
    }

    #[test]
    fn vector_c_repeated_query_names_sorted() {
        let h = headers(&[
            ("content-type", "application/json"),
            ("host", "127.0.0.1:9000"),
            ("user-agent", "ua"),
            ("x-domain-id", "domain0123456789"),
            ("x-sdk-date", DATE),
        ]);
        let raw = "resource_id_list=b-id&resource_id_list=a-id&is_delegated=true&limit=2";
        assert_eq!(canonical_query(Some(raw)), "is_delegated=true&limit=2&resource_id_list=a-id&resource_id_list=b-id");
        let parts =
            SignedParts { method: "GET", raw_path: "/v1/resources", raw_query: Some(raw), headers: &h, body: b"" };
        let canonical =
            canonical_request(&parts, &signed("content-type;host;user-agent;x-domain-id;x-sdk-date")).unwrap();
        assert_eq!(
            sign(SK, &string_to_sign(DATE, &canonical)),
            "0a926ff2a1cfad745b23468457efaea2cb0506237a6940a4664348d057fa40c4"
        );
    }

    #[test]
    fn the_payload_hash_comes_from_the_body_received() {
        let body = br#"{"content": "rm -rf /"}"#;
        let captured = sha256_hex(br#"{"content": "id"}"#);
        let h = headers(&[("host", "h"), ("x-sdk-content-sha256", &captured), ("x-sdk-date", DATE)]);
        let parts = SignedParts { method: "POST", raw_path: "/", raw_query: None, headers: &h, body };
        // Not signed: whoever replays a request can set it, so it is ignored.
        assert_eq!(payload_hash(&parts, &signed("host;x-sdk-date")).unwrap(), sha256_hex(body));
        // Signed, it must be UNSIGNED-PAYLOAD or the body's own hash.
        assert_eq!(
            payload_hash(&parts, &signed("host;x-sdk-content-sha256;x-sdk-date")),
            Err(SignatureError::ContentHashMismatch)
        );
        assert!(SignatureError::ContentHashMismatch.to_string().contains("X-Sdk-Content-Sha256"));
        let own = sha256_hex(body).to_uppercase();
        let h = headers(&[("host", "h"), ("x-sdk-content-sha256", &own), ("x-sdk-date", DATE)]);
        let parts = SignedParts { method: "POST", raw_path: "/", raw_query: None, headers: &h, body };
        assert_eq!(payload_hash(&parts, &signed("host;x-sdk-content-sha256;x-sdk-date")).unwrap(), own);
    }

    #[test]
    fn only_a_signed_unsigned_payload_leaves_the_body_out() {
        let h = headers(&[("host", "h"), ("x-sdk-content-sha256", UNSIGNED_PAYLOAD), ("x-sdk-date", DATE)]);
        let parts = SignedParts { method: "POST", raw_path: "/", raw_query: None, headers: &h, body: b"data" };
        assert_eq!(payload_hash(&parts, &signed("host;x-sdk-content-sha256;x-sdk-date")).unwrap(), UNSIGNED_PAYLOAD);
        assert_eq!(payload_hash(&parts, &signed("host;x-sdk-date")).unwrap(), sha256_hex(b"data"));
        // Like the SDK, a request without a body signs the empty hash whatever the header says.
        let empty = SignedParts { body: b"", ..parts };
        assert_eq!(payload_hash(&empty, &signed("host;x-sdk-content-sha256;x-sdk-date")).unwrap(), sha256_hex(b""));
    }

    #[test]
    fn query_pairs_are_compared_as_bytes() {
        // Bytes that are not UTF-8 stay distinct instead of all becoming U+FFFD.
        assert_eq!(canonical_query(Some("k=%FF")), "k=%FF");
        assert_ne!(canonical_query(Some("k=%FF")), canonical_query(Some("k=%FE")));
        assert_eq!(canonical_query(Some("k=a+b&k=a%2bb&k")), "k=&k=a%2Bb&k=a%2Bb");
        assert_eq!(canonical_query(Some("k=%zz")), canonical_query(Some("k=%25zz")));
    }

    #[test]
    fn paths_are_decoded_then_encoded_per_segment() {
        assert_eq!(canonical_uri("/v1/job/scripts"), "/v1/job/scripts/");
        assert_eq!(canonical_uri("/v1/job/scripts/a%20b%2Fc"), "/v1/job/scripts/a%20b/c/");
        assert_eq!(canonical_uri("/v1/x/"), "/v1/x/");
    }

    #[test]
    fn duplicated_signed_headers_are_kept() {
        let h = headers(&[("host", "h"), ("x-project-id", "p"), ("x-sdk-date", DATE)]);
        let parts = SignedParts { method: "GET", raw_path: "/", raw_query: None, headers: &h, body: b"" };
        let canonical = canonical_request(&parts, &signed("host;x-project-id;x-project-id;x-sdk-date")).unwrap();
        assert!(canonical.contains("x-project-id:p\nx-project-id:p\n"));
        assert!(canonical.contains("host;x-project-id;x-project-id;x-sdk-date"));
    }

    #[test]
    fn authorization_headers_parse() {
        let parsed = parse_authorization(
            "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=content-type;host;x-sdk-date, Signature=abc",
        )
        .unwrap();
        assert_eq!(parsed.access_key, "AK1");
        assert_eq!(parsed.signed_headers, ["content-type", "host", "x-sdk-date"]);
        assert_eq!(parsed.signature, "abc");
        assert!(matches!(
            parse_authorization("SDK-HMAC-SM3 Access=a, SignedHeaders=host;x-sdk-date, Signature=b"),
            Err(SignatureError::UnsupportedAlgorithm(_))
        ));
        assert_eq!(
            parse_authorization("SDK-HMAC-SHA256 Access=a, SignedHeaders=host, Signature=b"),
            Err(SignatureError::UnsignedRequiredHeader("x-sdk-date"))
        );
        assert!(parse_authorization("SDK-HMAC-SHA256 Access=a, Signature=b").is_err());
        assert!(parse_authorization("garbage").is_err());
    }
}
