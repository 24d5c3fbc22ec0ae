//! The host names a deployment is reached at (`COC_PUBLIC_HOSTS`). A signature
//! covers the `Host` header; when the deployment knows its public hosts, one
//! made for any other host (another deployment, another environment sharing
//! keys) is refused, so a request captured there cannot be replayed here.

use crate::error::ApiError;

/// The variable listing the public hosts: `host[:port]`, comma-separated.
pub const PUBLIC_HOSTS_ENV: &str = "COC_PUBLIC_HOSTS";

/// Which `Host` values a signature may be made for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicHosts {
    /// Lower-case `host[:port]` entries; `None` accepts any host.
    allowed: Option<Vec<String>>,
}

impl PublicHosts {
    /// Any host is accepted: the default when nothing is configured.
    pub fn any() -> Self {
        PublicHosts { allowed: None }
    }

    /// `api.example.com,api.example.com:443`: entries are compared with the
    /// `Host` header exactly (ignoring case), so a port the clients send must be
    /// listed with it. Blank means any host.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut allowed = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry.contains("://") || entry.contains('/') || entry.chars().any(char::is_whitespace) {
                return Err(format!("{PUBLIC_HOSTS_ENV}: {entry:?} is not a host[:port] (no scheme, path or spaces)"));
            }
            allowed.push(entry.to_ascii_lowercase());
        }
        Ok(PublicHosts { allowed: (!allowed.is_empty()).then_some(allowed) })
    }

    /// From `COC_PUBLIC_HOSTS`; unset or blank accepts any host.
    pub fn from_env() -> Result<Self, String> {
        Self::parse(&std::env::var(PUBLIC_HOSTS_ENV).unwrap_or_default())
    }

    pub fn allows(&self, host: &str) -> bool {
        match &self.allowed {
            None => true,
            Some(allowed) => allowed.iter().any(|a| a.eq_ignore_ascii_case(host.trim())),
        }
    }

    /// Refuses a request whose (signed) `Host` header is not a public host.
    pub fn check(&self, headers: &http::HeaderMap) -> Result<(), ApiError> {
        if self.allowed.is_none() {
            return Ok(());
        }
        let host = headers.get(http::header::HOST).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        match host {
            Some(host) if self.allows(&host) => Ok(()),
            Some(host) => Err(ApiError::Unauthorized(format!(
                "the request is signed for host {host:?}, which is not a public host of this deployment"
            ))),
            None => Err(ApiError::Unauthorized("the Host header is required".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_host(host: &str) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::HOST, host.parse().unwrap());
        headers
    }

    #[test]
    fn unset_accepts_any_host() {
        assert_eq!(PublicHosts::parse(" , ").unwrap(), PublicHosts::any());
        assert!(PublicHosts::any().check(&with_host("anything.example:1")).is_ok());
        assert!(PublicHosts::any().check(&http::HeaderMap::new()).is_ok());
    }

    #[test]
    fn configured_hosts_are_matched_exactly_ignoring_case() {
        let hosts = PublicHosts::parse("api.example.com, API.example.com:443").unwrap();
        assert!(hosts.check(&with_host("api.example.com")).is_ok());
        assert!(hosts.check(&with_host("Api.Example.Com:443")).is_ok());
        for other in ["api.example.com:8443", "evil.example.com", "api.example.com.evil.net", "example.com"] {
            let err = hosts.check(&with_host(other)).unwrap_err();
            assert!(matches!(&err, ApiError::Unauthorized(m) if m.contains(other)), "{other}: {err:?}");
        }
        assert!(hosts.check(&http::HeaderMap::new()).is_err());
    }

    #[test]
    fn urls_and_paths_are_not_hosts() {
        for bad in ["https://api.example.com", "api.example.com/v1", "api example.com"] {
            let err = PublicHosts::parse(bad).unwrap_err();
            assert!(err.contains(PUBLIC_HOSTS_ENV) && err.contains("host[:port]"), "{bad}: {err}");
        }
    }
}
