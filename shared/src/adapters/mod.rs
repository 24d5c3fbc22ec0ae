//! Adapters behind the ports that need nothing beyond this crate: SQLite (the
//! embedded store and queue), a local key file, the data-dir blob store,
//! outbox files and the cache of SNS's signing certificates. The adapters with heavy clients (DynamoDB, SQS, KMS, S3, SNS,
//! Pinpoint, SMTP, HTTPS robots) live in `coc-runtime`, each behind a feature,
//! so that this crate is compiled once whatever a binary's adapters are.

pub mod blobs_fs;
pub mod local_keyring;
pub mod outbox;
pub mod sns_certificates;
pub mod sqlite;
pub mod unavailable;
