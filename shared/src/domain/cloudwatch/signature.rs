//! SNS message signatures, checked the way "Verifying the signatures of
//! Amazon SNS messages" (Amazon SNS Developer Guide) documents them: the
//! string to sign is the message's documented keys in their documented order,
//! each as `key\nvalue\n`; `SignatureVersion` 1 signs it with SHA1withRSA, 2
//! with SHA256withRSA; the public key is the one of the certificate at
//! `SigningCertURL`, which must be SNS's own, in the topic's region.
//!
//! What the intake then trusts is the HTTPS connection to SNS's host (the
//! certificate is fetched over it with the platform's roots): the signing
//! certificate itself is not chained to a root, as AWS's own SDK validators
//! do not either.

use aws_lc_rs::signature::{
    UnparsedPublicKey, VerificationAlgorithm, RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY, RSA_PKCS1_2048_8192_SHA256,
};
use base64::Engine;
use serde_json::Value;
use x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION;

use super::{arn_region, sns};
use crate::limits;

/// How a message is signed (`SignatureVersion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// "1": SHA1withRSA.
    Sha1,
    /// "2": SHA256withRSA.
    Sha256,
}

impl Version {
    fn parse(value: &str) -> Option<Version> {
        match value {
            "1" => Some(Version::Sha1),
            "2" => Some(Version::Sha256),
            _ => None,
        }
    }

    fn algorithm(self) -> &'static dyn VerificationAlgorithm {
        match self {
            // SNS still signs with SHA1 unless the topic asks for version 2.
            Version::Sha1 => &RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            Version::Sha256 => &RSA_PKCS1_2048_8192_SHA256,
        }
    }
}

/// What a message's signature covers, and how to check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub version: Version,
    pub signature: Vec<u8>,
    /// Checked by [`signing_cert_url`]: SNS's host in the topic's region.
    pub cert_url: String,
    pub string_to_sign: String,
}

/// The keys a message's signature covers, in the documented order; a key
/// marked optional is left out when the message has none (a Notification
/// published without a subject).
fn signed_keys(kind: &str) -> Option<&'static [(&'static str, bool)]> {
    const NOTIFICATION: &[(&str, bool)] = &[
        ("Message", true),
        ("MessageId", true),
        ("Subject", false),
        ("Timestamp", true),
        ("TopicArn", true),
        ("Type", true),
    ];
    const CONFIRMATION: &[(&str, bool)] = &[
        ("Message", true),
        ("MessageId", true),
        ("SubscribeURL", true),
        ("Timestamp", true),
        ("Token", true),
        ("TopicArn", true),
        ("Type", true),
    ];
    match kind {
        "Notification" => Some(NOTIFICATION),
        "SubscriptionConfirmation" | "UnsubscribeConfirmation" => Some(CONFIRMATION),
        _ => None,
    }
}

/// Reads a message's signature, its certificate's URL and the string it
/// signs; a problem names the field.
pub fn signed(body: &Value) -> Result<Signed, String> {
    let text = |key: &str| body.get(key).and_then(Value::as_str);
    let kind = text("Type").unwrap_or_default();
    let keys =
        signed_keys(kind).ok_or("Type must be Notification, SubscriptionConfirmation or UnsubscribeConfirmation")?;
    let version = match body.get("SignatureVersion") {
        Some(Value::String(v)) => Version::parse(v).ok_or(format!("SignatureVersion {v:?} is not 1 or 2"))?,
        _ => return Err("SignatureVersion must be \"1\" or \"2\"".into()),
    };
    let signature = text("Signature").ok_or("Signature must be a string")?;
    limits::CLOUDWATCH_SIGNATURE.check(signature).map_err(|p| format!("Signature {p}"))?;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(signature)
        .map_err(|_| "Signature must be base64".to_owned())?;
    let cert_url = text("SigningCertURL").ok_or("SigningCertURL must be a string")?;
    limits::CLOUDWATCH_SIGNING_CERT_URL.check(cert_url).map_err(|p| format!("SigningCertURL {p}"))?;
    let topic_arn = text("TopicArn").ok_or("TopicArn must be a string")?;
    signing_cert_url(cert_url, topic_arn).map_err(|p| format!("SigningCertURL {p}"))?;
    let mut string_to_sign = String::new();
    for &(key, required) in keys {
        match body.get(key) {
            Some(Value::String(value)) => {
                string_to_sign.push_str(key);
                string_to_sign.push('\n');
                string_to_sign.push_str(value);
                string_to_sign.push('\n');
            }
            None | Some(Value::Null) if !required => {}
            _ => return Err(format!("{key} must be a string (the signature covers it)")),
        }
    }
    Ok(Signed { version, signature, cert_url: cert_url.to_owned(), string_to_sign })
}

/// Checks that a SigningCertURL is SNS's own: https on the default port,
/// host `sns.<region>.amazonaws.com` (or `.amazonaws.com.cn`) in the
/// region of `topic_arn`, a path of plain characters ending in `.pem`, no
/// query, fragment or user info.
pub fn signing_cert_url(url: &str, topic_arn: &str) -> Result<(), String> {
    let rest = url.strip_prefix("https://").ok_or("must be an https URL")?;
    let (host, path) = rest.split_once('/').ok_or("must have a path")?;
    let region = sns::host_region(host).ok_or("must be on the host sns.<region>.amazonaws.com")?;
    if arn_region(topic_arn) != Some(region) {
        return Err(format!("must be on the SNS host of the topic's region, not {region}"));
    }
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/');
    if !path.chars().all(plain) || path.contains("..") || path.contains("//") {
        return Err("must have a plain path (letters, digits, - _ . /), without a query or fragment".into());
    }
    if !path.ends_with(".pem") {
        return Err("must name a .pem certificate".into());
    }
    Ok(())
}

/// Checks `signed` against the PEM certificate fetched from its URL, at
/// `now_ms`: an RSA key, valid now, whose signature matches.
pub fn verify(signed: &Signed, certificate_pem: &[u8], now_ms: i64) -> Result<(), String> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(certificate_pem)
        .map_err(|_| "the signing certificate is not a PEM certificate".to_owned())?;
    if pem.label != "CERTIFICATE" {
        return Err("the signing certificate is not a PEM certificate".into());
    }
    let certificate = pem.parse_x509().map_err(|e| format!("the signing certificate cannot be read: {e}"))?;
    let validity = certificate.validity();
    let now = now_ms.div_euclid(1000);
    if now < validity.not_before.timestamp() {
        return Err(format!("the signing certificate is not valid before {}", validity.not_before));
    }
    if now > validity.not_after.timestamp() {
        return Err(format!("the signing certificate expired at {}", validity.not_after));
    }
    let key = certificate.public_key();
    if key.algorithm.algorithm != OID_PKCS1_RSAENCRYPTION {
        return Err("the signing certificate's key is not an RSA key".into());
    }
    UnparsedPublicKey::new(signed.version.algorithm(), key.subject_public_key.data.as_ref())
        .verify(signed.string_to_sign.as_bytes(), &signed.signature)
        .map_err(|_| "the signature does not match the message and its signing certificate".to_owned())
}
