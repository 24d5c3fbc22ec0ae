//! Adapters behind the ports: SQLite (the embedded default) and, with the `aws`
//! feature, DynamoDB and SQS.

#[cfg(feature = "aws")]
pub mod dynamodb;
pub mod sqlite;
#[cfg(feature = "aws")]
pub mod sqs;
