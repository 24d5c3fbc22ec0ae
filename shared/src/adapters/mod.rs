//! Adapters behind the ports: SQLite and a local key file (the embedded
//! default) and, with the `aws` feature, DynamoDB, SQS and KMS.

#[cfg(feature = "aws")]
pub mod dynamodb;
#[cfg(feature = "aws")]
pub mod kms;
pub mod local_keyring;
pub mod sqlite;
#[cfg(feature = "aws")]
pub mod sqs;
