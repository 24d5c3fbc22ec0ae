//! Posting to a webhook without being turned against our own network: the
//! URL is checked again at send time with the engineers' policy
//! (`AllowedHosts`), a vendor's name must resolve to public addresses only
//! (a name re-pointed at an internal address, DNS rebinding, is refused), the
//! connection goes to exactly the address checked, and redirects are not followed.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use coc_shared::domain::engineer::webhook::{vendor_hosts, AllowedHosts};
use coc_shared::domain::notification::Channel;
use coc_shared::ports::SendError;

/// Whether `ip` is reachable on the public internet: not loopback, private,
/// link-local, shared (CGNAT), documentation, multicast or unspecified.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
        }
    }
}

/// Turns a host name into the addresses to connect to.
#[async_trait]
pub trait Resolver: Send + Sync {
    async fn lookup(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>>;
}

/// The system's resolver (`getaddrinfo`): what every deployment uses. Tests
/// give their own to point a vendor's name at a chosen address.
pub struct SystemResolver;

#[async_trait]
impl Resolver for SystemResolver {
    async fn lookup(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        Ok(tokio::net::lookup_host((host, port)).await?.collect())
    }
}

/// Where the post may connect: the checked host's addresses, only public ones
/// for a vendor's host (an allow-listed host is the operator's choice).
async fn resolve(
    allowed: &AllowedHosts,
    resolver: &dyn Resolver,
    channel: Channel,
    url: &str,
) -> Result<(String, SocketAddr), SendError> {
    let target = allowed.check(channel, url).map_err(|e| SendError::permanent(format!("webhook refused: {e}")))?;
    let vendor = vendor_hosts(channel).contains(&target.host.as_str());
    let port = target.port.unwrap_or(if target.https { 443 } else { 80 });
    let host = target.host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let addresses: Vec<SocketAddr> =
        resolver.lookup(&host, port).await.map_err(|e| SendError::transient(format!("cannot resolve {host}: {e}")))?;
    let usable = addresses.iter().copied().find(|a| !vendor || is_public(a.ip()));
    match usable {
        Some(address) => Ok((host, address)),
        None if addresses.is_empty() => Err(SendError::transient(format!("{host} has no address"))),
        None => Err(SendError::permanent(format!("{host} resolves to an internal address; refused"))),
    }
}

/// Posts `body` as JSON and returns the robot's JSON answer.
pub(super) async fn post_json(
    allowed: &AllowedHosts,
    resolver: &dyn Resolver,
    channel: Channel,
    url: &str,
    body: &Value,
    timeout: Duration,
) -> Result<Value, SendError> {
    let (host, address) = resolve(allowed, resolver, channel, url).await?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(timeout)
        .timeout(timeout)
        .resolve(&host, address)
        .build()
        .map_err(|e| SendError::transient(format!("cannot build an HTTP client: {e}")))?;
    let response = client.post(url).json(body).send().await.map_err(|e| {
        // Without the URL: it carries the robot's access token.
        SendError::transient(format!("{channel:?} robot unreachable: {}", e.without_url()))
    })?;
    let status = response.status();
    if status.is_redirection() {
        return Err(SendError::permanent(format!("{channel:?} robot answered {status}: redirects are not followed")));
    }
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Err(SendError::transient(format!("{channel:?} robot answered {status}")));
    }
    if !status.is_success() {
        return Err(SendError::permanent(format!("{channel:?} robot answered {status}")));
    }
    response
        .json::<Value>()
        .await
        .map_err(|e| SendError::transient(format!("{channel:?} robot's answer is not JSON: {}", e.without_url())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_not_public() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(internal.parse().unwrap()), "{internal}");
        }
        for public in ["203.0.114.1", "8.8.8.8", "2606:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}
