//! Blob stores for tests: files in a temporary directory, and S3 on the
//! local moto server (over HTTP, as in production but for the endpoint).

use std::sync::Arc;

use coc_runtime::adapters::blobs_s3::S3Blobs;
use coc_shared::adapters::blobs_fs::FsBlobs;
use coc_shared::ports::Blobs;

/// moto serves every service on one port: S3's endpoint is its own variable
/// when set, else the SQS one's.
pub fn s3_endpoint() -> Option<String> {
    ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SQS"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
}

/// An S3 client for the local server, addressing buckets by path as it wants.
pub async fn s3_client(endpoint: &str) -> aws_sdk_s3::Client {
    let config = aws_config::load_from_env().await;
    let s3 = aws_sdk_s3::config::Builder::from(&config).endpoint_url(endpoint).force_path_style(true).build();
    aws_sdk_s3::Client::from_conf(s3)
}

/// A fresh bucket on the local S3 server and the adapter on it; `None`
/// without one (COC_REQUIRE_AWS_LOCAL=1 makes that a failure).
pub async fn s3_blobs() -> Option<(S3Blobs, aws_sdk_s3::Client, String)> {
    let Some(endpoint) = s3_endpoint() else {
        if std::env::var("COC_REQUIRE_AWS_LOCAL").is_ok_and(|v| v == "1") {
            panic!("COC_REQUIRE_AWS_LOCAL=1 but no local S3 endpoint is set");
        }
        eprintln!("no local S3 endpoint: skipping the S3 blob store");
        return None;
    };
    let client = s3_client(&endpoint).await;
    let bucket = format!("coc-test-{}", uuid::Uuid::new_v4().simple());
    client.create_bucket().bucket(&bucket).send().await.expect("create the test bucket");
    Some((S3Blobs::new(client.clone(), bucket.clone()), client, bucket))
}

/// Files under `dir`, as coc-local keeps them under its data directory.
pub fn fs_blobs(dir: &std::path::Path) -> Arc<dyn Blobs> {
    Arc::new(FsBlobs::new(dir.join("attachments")))
}
