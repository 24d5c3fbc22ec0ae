//! SNS's signing certificates, fetched through the app's HTTPS client and
//! kept by URL in this process, the oldest dropped beyond
//! `SNS_CERTIFICATE_CACHE`: SNS signs with few certificates, so a fetch is rare.
//! Only URLs `domain::cloudwatch::signature::signing_cert_url` accepted are asked for.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use crate::limits;
use crate::ports::HttpsGet;

#[derive(Default)]
pub struct SnsCertificates {
    kept: Mutex<Kept>,
}

/// The certificates kept, by URL, and their URLs oldest first.
#[derive(Default)]
struct Kept {
    by_url: HashMap<String, Arc<Vec<u8>>>,
    order: VecDeque<String>,
}

impl SnsCertificates {
    /// The PEM at `url`: kept, or fetched with `https` (no redirects, the platform's roots).
    pub async fn certificate(&self, https: &dyn HttpsGet, url: &str) -> Result<Arc<Vec<u8>>, String> {
        if let Some(pem) = self.kept(url) {
            return Ok(pem);
        }
        let answer = https.get(url).await?;
        if !(200..300).contains(&answer.status) {
            return Err(format!("SNS answered {} for the signing certificate", answer.status));
        }
        if answer.body.len() > limits::SNS_CERTIFICATE_BYTES {
            return Err("the signing certificate is too large".into());
        }
        let pem = Arc::new(answer.body.to_vec());
        self.keep(url, pem.clone());
        Ok(pem)
    }

    fn kept(&self, url: &str) -> Option<Arc<Vec<u8>>> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner()).by_url.get(url).cloned()
    }

    fn keep(&self, url: &str, pem: Arc<Vec<u8>>) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.by_url.insert(url.to_owned(), pem).is_none() {
            kept.order.push_back(url.to_owned());
        }
        while kept.order.len() > limits::SNS_CERTIFICATE_CACHE {
            if let Some(oldest) = kept.order.pop_front() {
                kept.by_url.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_certificate_cache_keeps_the_newest_within_its_bound() {
        let cache = SnsCertificates::default();
        let url = |i: usize| format!("https://sns.us-east-1.amazonaws.com/c{i}.pem");
        for i in 0..=limits::SNS_CERTIFICATE_CACHE {
            cache.keep(&url(i), Arc::new(vec![i as u8]));
        }
        assert!(cache.kept(&url(0)).is_none(), "the oldest is dropped");
        assert_eq!(cache.kept(&url(1)).as_deref(), Some(&vec![1u8]));
        let last = limits::SNS_CERTIFICATE_CACHE;
        assert_eq!(cache.kept(&url(last)).as_deref(), Some(&vec![last as u8]));
        assert_eq!(cache.kept.lock().unwrap().by_url.len(), limits::SNS_CERTIFICATE_CACHE);
    }
}
