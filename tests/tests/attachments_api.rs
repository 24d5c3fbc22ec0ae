//! Incident attachments through the HTTP server, on both store adapters (the
//! SQLite store with files in the data directory, DynamoDB with S3 on the
//! local moto server): the SDK's multipart upload, the download within the
//! tenant only, and uploads refused whole (too large, of a forbidden type,
//! disguised) with nothing written anywhere.

use std::sync::Arc;

use coc_shared::auth::signature::{sign_headers, AccessKey};
use coc_shared::clock::now_ms;
use coc_shared::limits::{ATTACHMENT_BODY_BYTES, ATTACHMENT_BYTES};
use coc_shared::ports::{Blobs, Store};
use coc_tests::blobs::{fs_blobs, s3_blobs};
use coc_tests::{backends, serve, Backend, Client, Reply};
use reqwest::header::{HeaderMap, HeaderValue};

const PROJECT: &str = "p-attach";
const UPLOAD: &str = "/v1/external/incident/attachments";
const BOUNDARY: &str = "f0e1d2c3b4a5";

struct Setup {
    name: &'static str,
    client: Client,
    store: Arc<dyn Store>,
    blobs: BlobView,
    _backend: Backend,
    _dir: tempfile::TempDir,
}

/// A look into a blob store that does not go through the API.
enum BlobView {
    Files(std::path::PathBuf),
    Bucket(aws_sdk_s3::Client, String),
}

impl BlobView {
    /// The keys it holds (`{project}/{doc_id}`), sorted.
    async fn keys(&self) -> Vec<String> {
        let mut keys = match self {
            BlobView::Files(root) => files_under(root),
            BlobView::Bucket(s3, bucket) => {
                let listed = s3.list_objects_v2().bucket(bucket).send().await.expect("list the bucket");
                listed.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect()
            }
        };
        keys.sort();
        keys
    }
}

async fn setups() -> Vec<Setup> {
    let mut all = Vec::new();
    for backend in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let (blobs, view): (Arc<dyn Blobs>, BlobView) = if backend.name == "sqlite" {
            (fs_blobs(dir.path()), BlobView::Files(dir.path().join("attachments")))
        } else {
            let (blobs, s3, bucket) = s3_blobs().await.expect("DynamoDB is configured, so is moto's S3");
            (Arc::new(blobs), BlobView::Bucket(s3, bucket))
        };
        let app = backend.app().with_blobs(blobs);
        let client = Client::new(&serve(app).await, backend.store.clone(), PROJECT).await;
        let store = backend.store.clone();
        all.push(Setup { name: backend.name, client, store, blobs: view, _backend: backend, _dir: dir });
    }
    all
}

fn files_under(root: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    found
}

/// The body requests_toolbelt (the SDK's encoder) makes for one file.
fn form(file_name: &str, content: &[u8]) -> Vec<u8> {
    let mut body =
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\r\n")
            .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Headers signed like the SDK signs a multipart request of `body` (UNSIGNED-PAYLOAD).
fn multipart_headers(client: &Client, body: &[u8]) -> HeaderMap {
    let credential = client.credential.as_ref().expect("a signing client");
    let mut headers = HeaderMap::new();
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    headers.insert("content-type", HeaderValue::from_str(&content_type).unwrap());
    headers.insert("host", HeaderValue::from_str(client.base.trim_start_matches("http://")).unwrap());
    headers.insert("x-project-id", HeaderValue::from_str(&client.project).unwrap());
    headers.insert("x-sdk-content-sha256", HeaderValue::from_static("UNSIGNED-PAYLOAD"));
    let key = AccessKey { id: &credential.access_key, secret: &credential.secret_key };
    sign_headers(&mut headers, key, "POST", UPLOAD, None, body, now_ms());
    headers
}

/// The status the server answers to the head of an upload announcing
/// `length` bytes, with no byte of the body sent (over a raw connection: an
/// HTTP client would send the body and race the server's early answer).
async fn status_of_head(client: &Client, length: usize) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut head = format!("POST {UPLOAD} HTTP/1.1\r\n");
    for (name, value) in multipart_headers(client, b"x").iter() {
        head.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap()));
    }
    head.push_str(&format!("content-length: {length}\r\n\r\n"));
    let mut stream = tokio::net::TcpStream::connect(client.base.trim_start_matches("http://")).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 512];
    let read = stream.read(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer[..read]).into_owned();
    text.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or_else(|| panic!("no status in {text:?}"))
}

async fn upload(client: &Client, file_name: &str, content: &[u8]) -> Reply {
    let body = form(file_name, content);
    client.send_raw("POST", UPLOAD, multipart_headers(client, &body), body).await
}

/// Status, headers and bytes of a download.
async fn download(client: &Client, doc_id: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let path = format!("/v1/incident/attachments/{doc_id}");
    let headers = client.signed_headers("GET", &path, b"", now_ms());
    let response =
        reqwest::Client::new().get(format!("{}{path}", client.base)).headers(headers).send().await.expect("reaches");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.expect("body").to_vec())
}

async fn attachment_rows(store: &dyn Store) -> usize {
    store.query_prefix(&format!("PROJECT#{PROJECT}"), "ATTACHMENT#").await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_file_is_downloaded_byte_for_byte_within_its_tenant_only() {
    for Setup { name, client, blobs, .. } in setups().await {
        let pdf = b"%PDF-1.7\n\x00\x01\x02binary\r\n--f0e1d2c3b4a not the boundary\r\n%%EOF".to_vec();
        let reply = upload(&client, "post-mortem.pdf", &pdf).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        assert_eq!(reply.body["code"], "0", "{name}");
        assert_eq!(reply.body["data"]["doc_name"], "post-mortem.pdf", "{name}");
        let doc_id = reply.body["data"]["doc_id"].as_str().unwrap().to_owned();
        assert_eq!(blobs.keys().await, [format!("{PROJECT}/{doc_id}")], "{name}: one blob, under the tenant");

        let (status, headers, bytes) = download(&client, &doc_id).await;
        assert_eq!(status, 200, "{name}");
        assert_eq!(bytes, pdf, "{name}: the same bytes");
        assert_eq!(headers["content-type"], "application/pdf", "{name}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{name}");
        assert!(headers["content-disposition"].to_str().unwrap().contains("post-mortem.pdf"), "{name}");

        // Another tenant, even knowing the id, finds nothing.
        let other = client.in_project("p-attach-other").await;
        let (status, _, bytes) = download(&other, &doc_id).await;
        assert_eq!(status, 404, "{name}: {}", String::from_utf8_lossy(&bytes));
        let (status, _, _) = download(&client, "0123456789abcdef0123456789abcdef").await;
        assert_eq!(status, 404, "{name}");
        // Only the incident ticket type has attachments.
        let reply = client.get(&format!("/v1/change/attachments/{doc_id}")).await;
        assert_eq!(reply.status, 400, "{name}: {}", reply.body);
        assert!(reply.error_msg().contains("ticket_type"), "{name}: {}", reply.error_msg());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_at_the_size_limit_is_taken_and_one_byte_more_is_refused_with_nothing_written() {
    for Setup { name, client, store, blobs, .. } in setups().await {
        let refused = upload(&client, "huge.txt", &vec![b'x'; ATTACHMENT_BYTES + 1]).await;
        assert_eq!(refused.status, 400, "{name}: {}", refused.body);
        assert!(refused.error_msg().starts_with("file:"), "{name}: {}", refused.error_msg());
        assert!(refused.error_msg().contains(&ATTACHMENT_BYTES.to_string()), "{name}: {}", refused.error_msg());
        assert_eq!(attachment_rows(store.as_ref()).await, 0, "{name}");
        assert!(blobs.keys().await.is_empty(), "{name}: no blob either");

        // A body announced past the route's limit is refused from its head, before a byte of it is sent.
        assert_eq!(status_of_head(&client, ATTACHMENT_BODY_BYTES + 1).await, 413, "{name}");

        let taken = upload(&client, "big.txt", &vec![b'x'; ATTACHMENT_BYTES]).await;
        assert_eq!(taken.status, 200, "{name}: {}", taken.body);
        let doc_id = taken.body["data"]["doc_id"].as_str().unwrap().to_owned();
        let (status, _, bytes) = download(&client, &doc_id).await;
        assert_eq!((status, bytes.len()), (200, ATTACHMENT_BYTES), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_and_disguised_types_are_refused_with_nothing_written() {
    for Setup { name, client, store, blobs, .. } in setups().await {
        for (file_name, content, says) in [
            ("index.html", &b"<html><script>alert(1)</script>"[..], "not of a supported type"),
            ("run.sh", b"#!/bin/sh\nrm -rf /", "not of a supported type"),
            ("photo.png", b"<svg onload=alert(1)>", "does not hold what its extension says"),
            ("notes.txt", b"\x7fELF\x02\x01\x00\x00", "does not hold what its extension says"),
            ("../../etc/passwd.txt", b"root", "plain file name"),
            ("empty.pdf", b"", "is empty"),
        ] {
            let refused = upload(&client, file_name, content).await;
            assert_eq!(refused.status, 400, "{name}: {file_name}: {}", refused.body);
            assert!(refused.error_msg().starts_with("file:"), "{name}: {}", refused.error_msg());
            assert!(refused.error_msg().contains(says), "{name}: {file_name}: {}", refused.error_msg());
        }
        // Not a form at all.
        let refused = client.post(UPLOAD, &serde_json::json!({"file": "x"})).await;
        assert_eq!(refused.status, 400, "{name}: {}", refused.body);
        assert!(refused.error_msg().contains("Content-Type"), "{name}: {}", refused.error_msg());
        assert_eq!(attachment_rows(store.as_ref()).await, 0, "{name}");
        assert!(blobs.keys().await.is_empty(), "{name}: no blob either");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unauthenticated_upload_is_refused_before_its_body() {
    for Setup { name, client, blobs, .. } in setups().await {
        let body = form("a.txt", b"hello");
        let mut headers = multipart_headers(&client, &body);
        headers.remove("authorization");
        let refused = client.send_raw("POST", UPLOAD, headers, body).await;
        assert_eq!(refused.status, 401, "{name}: {}", refused.body);
        assert!(blobs.keys().await.is_empty(), "{name}");
    }
}
