//! [`HttpsGet`] over reqwest: https only, no redirects, 10 s in all, and at
//! most 1 MiB of answer read (a confirmation's answer is a few hundred bytes).

use std::time::Duration;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use coc_shared::ports::{HttpsAnswer, HttpsGet};

const TIMEOUT: Duration = Duration::from_secs(10);
const MAX_ANSWER: usize = 1 << 20;

pub struct ReqwestGet {
    client: Result<reqwest::Client, String>,
}

impl ReqwestGet {
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .https_only(true)
            .connect_timeout(TIMEOUT)
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"));
        ReqwestGet { client }
    }
}

impl Default for ReqwestGet {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl HttpsGet for ReqwestGet {
    async fn get(&self, url: &str) -> Result<HttpsAnswer, String> {
        let client = self.client.as_ref().map_err(Clone::clone)?;
        let unreachable = |e: reqwest::Error| format!("unreachable: {}", e.without_url());
        let mut response = client.get(url).send().await.map_err(unreachable)?;
        let status = response.status().as_u16();
        let mut body = BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > MAX_ANSWER {
                return Err(format!("the answer is larger than {MAX_ANSWER} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpsAnswer { status, body: Bytes::from(body) })
    }
}
