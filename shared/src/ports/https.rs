//! Outbound HTTPS GETs to a fixed AWS service, outside any tenant's say: SNS's
//! SubscribeURL when a topic subscribes the CloudWatch intake. Chat robots have
//! their own sender ([`super::Sender`]), with its allow-list.

use async_trait::async_trait;
use bytes::Bytes;

/// What a GET answered.
#[derive(Debug, Clone)]
pub struct HttpsAnswer {
    pub status: u16,
    pub body: Bytes,
}

#[async_trait]
pub trait HttpsGet: Send + Sync {
    /// GETs `url`: https only, no redirects followed, bounded in time. The
    /// error (unreachable, timed out) never repeats the URL, which may carry a token.
    async fn get(&self, url: &str) -> Result<HttpsAnswer, String>;
}

/// The client of a binary built without one (a function whose route makes no
/// outbound request): refuses, saying so.
pub struct NoHttps {
    pub reason: &'static str,
}

#[async_trait]
impl HttpsGet for NoHttps {
    async fn get(&self, _url: &str) -> Result<HttpsAnswer, String> {
        Err(format!("no outbound HTTPS: {}", self.reason))
    }
}
