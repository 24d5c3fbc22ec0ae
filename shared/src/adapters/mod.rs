//! Adapters behind the ports: SQLite and a local key file (the embedded
//! default) and, with the features of the same names, DynamoDB, SQS and KMS.

pub mod blobs_fs;
#[cfg(feature = "s3")]
pub mod blobs_s3;
#[cfg(feature = "dynamodb")]
pub mod dynamodb;
#[cfg(feature = "kms")]
pub mod kms;
pub mod local_keyring;
pub mod outbox;
#[cfg(feature = "sms-voice")]
pub mod pinpoint_voice;
#[cfg(feature = "robots")]
pub mod robots;
#[cfg(feature = "smtp")]
pub mod smtp;
#[cfg(feature = "sns")]
pub mod sns;
pub mod sqlite;
#[cfg(feature = "sqs")]
pub mod sqs;
pub mod unavailable;
