//! What a COC binary runs on: the adapters to outside services with heavy
//! clients (DynamoDB, SQS, KMS, S3, SNS, Pinpoint SMS and Voice, SMTP, HTTPS),
//! each behind a feature of its name; the composition root that picks the
//! ports from the environment; and the Lambda entry points.
//!
//! Kept apart from `coc-shared` for the build: the domain crate then has no
//! features and is compiled once for all 70-odd Lambda functions, and only
//! this small crate is compiled again for each function's feature set.

pub mod adapters;
#[cfg(feature = "dynamodb")]
pub mod environment;
#[cfg(feature = "lambda")]
pub mod lambda;
