//! SNS messages signed as SNS signs them, for the tests of the CloudWatch
//! intake: an RSA key and a self-signed certificate made with the `openssl`
//! CLI, the documented string to sign, and an HTTPS port (`App::https`) that
//! serves the test's certificates (and moto's) at SNS-looking URLs, so that
//! the intake's own fetching and caching (`SnsCertificates`) is what runs.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use bytes::Bytes;
use coc_shared::ports::{HttpsAnswer, HttpsGet};
use serde_json::Value;

/// An RSA key and a self-signed certificate for it, valid for `days` from now.
pub struct Signer {
    dir: tempfile::TempDir,
    pub certificate_pem: Vec<u8>,
}

fn openssl(args: &[&str], dir: &Path, input: Option<&[u8]>) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the openssl CLI is installed");
    child.stdin.take().unwrap().write_all(input.unwrap_or_default()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

impl Signer {
    pub fn new(days: u32) -> Signer {
        let dir = tempfile::tempdir().unwrap();
        let days = days.to_string();
        openssl(
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "key.pem",
                "-out",
                "cert.pem",
                "-days",
                &days,
                "-subj",
                "/CN=sns.amazonaws.com",
            ],
            dir.path(),
            None,
        );
        let certificate_pem = std::fs::read(dir.path().join("cert.pem")).unwrap();
        Signer { dir, certificate_pem }
    }

    /// Signs `message` (its `Type`, `TopicArn`… as SNS sends them) with
    /// `SignatureVersion` `version` ("1": SHA1withRSA, "2": SHA256withRSA),
    /// naming `cert_url` as its SigningCertURL.
    pub fn sign(&self, message: &mut Value, version: &str, cert_url: &str) {
        let digest = match version {
            "1" => "-sha1",
            "2" => "-sha256",
            other => panic!("no SignatureVersion {other}"),
        };
        let signature =
            openssl(&["dgst", digest, "-sign", "key.pem"], self.dir.path(), Some(string_to_sign(message).as_bytes()));
        let signature = openssl(&["base64", "-A"], self.dir.path(), Some(&signature));
        message["SignatureVersion"] = version.into();
        message["Signature"] = String::from_utf8(signature).unwrap().into();
        message["SigningCertURL"] = cert_url.into();
    }
}

/// The string SNS signs ("Verifying the signatures of Amazon SNS messages"):
/// the documented keys in their order, each `key\nvalue\n`; Subject only when present.
pub fn string_to_sign(message: &Value) -> String {
    let keys: &[&str] = match message["Type"].as_str() {
        Some("Notification") => &["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
        _ => &["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
    };
    keys.iter()
        .filter_map(|key| message.get(*key).and_then(Value::as_str).map(|value| format!("{key}\n{value}\n")))
        .collect()
}

/// Answers the tests' URLs with what they serve, and records every GET; any
/// other `.pem` URL of SNS's host is asked of moto (when `moto` is set), which
/// serves the certificates it signs its HTTP deliveries with at the same path.
/// Every other URL is unreachable, as the internet is in the tests.
pub struct TestCertificates {
    served: Mutex<HashMap<String, Arc<Vec<u8>>>>,
    requested: Mutex<Vec<String>>,
    moto: Option<String>,
}

#[async_trait]
impl HttpsGet for TestCertificates {
    async fn get(&self, url: &str) -> Result<HttpsAnswer, String> {
        self.requested.lock().unwrap().push(url.to_owned());
        let answer = |body: &[u8]| HttpsAnswer { status: 200, body: Bytes::copy_from_slice(body) };
        if let Some(body) = self.served.lock().unwrap().get(url) {
            return Ok(answer(body));
        }
        let Some(moto) = self.moto.as_ref().filter(|_| url.ends_with(".pem")) else {
            return Err("unreachable: the tests have no internet".into());
        };
        let path = url.split_once(".amazonaws.com").map(|(_, path)| path).unwrap_or_default();
        let region = url.trim_start_matches("https://sns.").split('.').next().unwrap_or_default();
        // moto's server tells services apart by the credential scope of the request.
        let reply = reqwest::Client::new()
            .get(format!("{moto}{path}"))
            .header(
                "authorization",
                format!("AWS4-HMAC-SHA256 Credential=test/20260101/{region}/sns/aws4_request, SignedHeaders=host, Signature=0"),
            )
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = reply.status().as_u16();
        Ok(HttpsAnswer { status, body: reply.bytes().await.map_err(|e| e.to_string())? })
    }
}

impl TestCertificates {
    /// Serves `pem` at a new URL on SNS's host of `region`, and returns it.
    pub fn serve(&self, region: &str, pem: &[u8]) -> String {
        let url = format!(
            "https://sns.{region}.amazonaws.com/SimpleNotificationService-{}.pem",
            uuid::Uuid::new_v4().simple()
        );
        self.serve_at(&url, pem);
        url
    }

    /// Serves `pem` (or any answer) at `url`, whatever it is (to show the intake refuses the URL itself).
    pub fn serve_at(&self, url: &str, pem: &[u8]) {
        self.served.lock().unwrap().insert(url.to_owned(), Arc::new(pem.to_vec()));
    }

    /// Whether `url` was asked for.
    pub fn was_requested(&self, url: &str) -> bool {
        self.requested.lock().unwrap().iter().any(|requested| requested == url)
    }
}

/// The tests' HTTPS port, one per process (`Backend::app` uses it).
pub fn certificates() -> &'static Arc<TestCertificates> {
    static SOURCE: OnceLock<Arc<TestCertificates>> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let moto = ["AWS_ENDPOINT_URL_SNS", "AWS_ENDPOINT_URL_SQS"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()));
        Arc::new(TestCertificates { served: Mutex::default(), requested: Mutex::default(), moto })
    })
}

/// One signer for the tests of a process, its certificate valid for a year,
/// served at `url` in us-east-1.
pub fn signer() -> &'static (Signer, String) {
    static SIGNER: OnceLock<(Signer, String)> = OnceLock::new();
    SIGNER.get_or_init(|| {
        let signer = Signer::new(365);
        let url = certificates().serve("us-east-1", &signer.certificate_pem);
        (signer, url)
    })
}
