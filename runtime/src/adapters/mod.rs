//! The adapters with heavy clients, each behind the feature of its name, so
//! that a Lambda function compiles (and links) only those its route uses.

#[cfg(feature = "s3")]
pub mod blobs_s3;
#[cfg(feature = "dynamodb")]
pub mod dynamodb;
#[cfg(feature = "robots")]
pub mod https;
#[cfg(feature = "kms")]
pub mod kms;
#[cfg(feature = "sms-voice")]
pub mod pinpoint_voice;
#[cfg(feature = "robots")]
pub mod robots;
#[cfg(feature = "smtp")]
pub mod smtp;
#[cfg(feature = "sns")]
pub mod sns;
#[cfg(feature = "sqs")]
pub mod sqs;
