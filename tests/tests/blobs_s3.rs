//! The S3 blob store against the local moto server over HTTP, and the file
//! store beside it: both keep a blob whole under its key, answer a missing key
//! with nothing, refuse keys that are not plain paths, and delete idempotently.

use coc_shared::ports::{BlobBytes as Bytes, BlobError, Blobs};
use coc_tests::blobs::{fs_blobs, s3_blobs};

async fn contract(name: &str, blobs: &dyn Blobs) {
    let key = "p-blobs/0123456789abcdef";
    assert_eq!(blobs.get(key).await.unwrap(), None, "{name}: nothing yet");
    let content: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    blobs.put(key, "application/pdf", Bytes::from(content.clone())).await.unwrap();
    assert_eq!(blobs.get(key).await.unwrap().as_deref(), Some(&content[..]), "{name}: byte for byte");
    blobs.put(key, "text/plain; charset=utf-8", Bytes::from_static(b"replaced")).await.unwrap();
    assert_eq!(blobs.get(key).await.unwrap().as_deref(), Some(&b"replaced"[..]), "{name}");
    assert_eq!(blobs.get("p-blobs/other").await.unwrap(), None, "{name}: keys do not mix");
    blobs.delete(key).await.unwrap();
    blobs.delete(key).await.unwrap();
    assert_eq!(blobs.get(key).await.unwrap(), None, "{name}: deleted");
    for bad in ["../x", "/abs", "a//b"] {
        let refused = blobs.put(bad, "text/plain", Bytes::from_static(b"x")).await;
        assert!(matches!(refused, Err(BlobError::InvalidKey(_))), "{name}: {bad}: {refused:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_s3_store_on_moto_keeps_blobs_whole_under_their_keys() {
    let Some((blobs, s3, bucket)) = s3_blobs().await else { return };
    contract("s3", &blobs).await;
    // The object is stored with the content type it was given.
    blobs.put("p-blobs/typed", "application/pdf", Bytes::from_static(b"%PDF-1.4")).await.unwrap();
    let head = s3.head_object().bucket(&bucket).key("p-blobs/typed").send().await.unwrap();
    assert_eq!(head.content_type(), Some("application/pdf"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_store_keeps_blobs_whole_under_their_keys() {
    let dir = tempfile::tempdir().unwrap();
    contract("files", fs_blobs(dir.path()).as_ref()).await;
}
