//! Where chat robots' webhooks may point: the one policy against SSRF, used
//! when an engineer's webhook is saved and again by the sender just before it
//! posts (a name may resolve elsewhere by then).
//!
//! A webhook must be `https` on its vendor's own host (WeCom
//! `qyapi.weixin.qq.com`, DingTalk `oapi.dingtalk.com`, Lark `open.feishu.cn`
//! or `open.larksuite.com`), on the default port. The operator may allow other
//! hosts (`COC_WEBHOOK_ALLOWED_HOSTS`, comma-separated `host` or `host:port`),
//! for `http` too: a receiver of their own, or the tests' on loopback. Nothing
//! else is reachable: no IP literal, no internal name, never userinfo.

use crate::domain::notification::Channel;

/// The environment variable of the operator's extra hosts.
pub const ALLOWED_HOSTS_VAR: &str = "COC_WEBHOOK_ALLOWED_HOSTS";

/// The hosts a channel's vendor serves its robots on.
pub fn vendor_hosts(channel: Channel) -> &'static [&'static str] {
    match channel {
        Channel::Wecom => &["qyapi.weixin.qq.com"],
        Channel::Dingtalk => &["oapi.dingtalk.com"],
        Channel::Lark => &["open.feishu.cn", "open.larksuite.com"],
        Channel::Email | Channel::Sms | Channel::Voice => &[],
    }
}

/// One allow-listed host, with the one port it may be reached on (any when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct AllowedHost {
    host: String,
    port: Option<u16>,
}

/// The operator's allow-list of webhook hosts beyond the vendors'.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    extra: Vec<AllowedHost>,
}

/// The parts of a webhook URL the policy looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    pub https: bool,
    /// Lower-case.
    pub host: String,
    pub port: Option<u16>,
}

impl AllowedHosts {
    /// Only the vendors' hosts.
    pub fn none() -> Self {
        AllowedHosts::default()
    }

    /// The vendors' hosts and those of `COC_WEBHOOK_ALLOWED_HOSTS`.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var(ALLOWED_HOSTS_VAR) {
            Ok(list) => Self::parse(&list).map_err(|e| format!("{ALLOWED_HOSTS_VAR}: {e}")),
            Err(_) => Ok(Self::none()),
        }
    }

    /// A comma-separated list of `host` or `host:port` (IPv6 as `[::1]:port`).
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut extra = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (host, port) = split_host_port(entry).ok_or_else(|| format!("`{entry}` is not a host or host:port"))?;
            extra.push(AllowedHost { host, port });
        }
        Ok(AllowedHosts { extra })
    }

    /// Whether `url` may be a webhook of `channel`; the refusal says why.
    pub fn check(&self, channel: Channel, url: &str) -> Result<WebhookTarget, String> {
        let target = parse_url(url)?;
        let allow_listed =
            self.extra.iter().any(|a| a.host == target.host && (a.port.is_none() || a.port == target.port));
        if allow_listed {
            return Ok(target);
        }
        let vendors = vendor_hosts(channel);
        if vendors.is_empty() {
            return Err(format!("{} has no webhook", super::channel_name(channel)));
        }
        if !vendors.contains(&target.host.as_str()) {
            return Err(format!("must be on {} (the vendor's own host)", vendors.join(" or ")));
        }
        if !target.https {
            return Err("must use https".into());
        }
        if target.port.is_some_and(|p| p != 443) {
            return Err("must use the default https port".into());
        }
        Ok(target)
    }
}

/// `host` or `host:port`, the host lower-cased; `[v6]` keeps its brackets.
fn split_host_port(text: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (inner, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (format!("[{inner}]"), port)
    } else {
        match text.rsplit_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port)),
            None => (text.to_owned(), None),
        }
    };
    let host = host.to_ascii_lowercase();
    let host_chars_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => !v6.is_empty() && v6.chars().all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.')),
        None => !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-')),
    };
    if !host_chars_ok {
        return None;
    }
    let port = match port {
        None => None,
        Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p != 0)?),
    };
    Some((host, port))
}

/// Scheme, host and port of an absolute http(s) URL, refusing anything a
/// lenient parser elsewhere could read differently: whitespace, control
/// characters, backslashes, userinfo, percent-encoded hosts.
fn parse_url(url: &str) -> Result<WebhookTarget, String> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\\') {
        return Err("must not contain spaces, control characters or backslashes".into());
    }
    let lower = url.to_ascii_lowercase();
    let (https, rest) = if lower.starts_with("https://") {
        (true, &url["https://".len()..])
    } else if lower.starts_with("http://") {
        (false, &url["http://".len()..])
    } else {
        return Err("must be an https URL".into());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("must not carry a user name or password".into());
    }
    if authority.contains('%') {
        return Err("must name its host plainly (no percent-encoding)".into());
    }
    let (host, port) = split_host_port(authority).ok_or("must name a host")?;
    Ok(WebhookTarget { https, host, port })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_hosts_over_https_only() {
        let hosts = AllowedHosts::none();
        assert!(hosts.check(Channel::Wecom, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k").is_ok());
        assert!(hosts.check(Channel::Dingtalk, "https://oapi.dingtalk.com/robot/send?access_token=t").is_ok());
        assert!(hosts.check(Channel::Lark, "https://open.feishu.cn/open-apis/bot/v2/hook/x").is_ok());
        assert!(hosts.check(Channel::Lark, "https://open.larksuite.com/open-apis/bot/v2/hook/x").is_ok());
        assert!(hosts.check(Channel::Lark, "HTTPS://OPEN.FEISHU.CN/open-apis/bot/v2/hook/x").is_ok());
        assert!(hosts.check(Channel::Wecom, "http://qyapi.weixin.qq.com/cgi-bin/webhook/send").is_err());
        assert!(hosts.check(Channel::Wecom, "https://oapi.dingtalk.com/robot/send").is_err());
        assert!(hosts.check(Channel::Wecom, "https://qyapi.weixin.qq.com:8443/x").is_err());
        assert!(hosts.check(Channel::Wecom, "https://qyapi.weixin.qq.com.evil.example/x").is_err());
        assert!(hosts.check(Channel::Email, "https://qyapi.weixin.qq.com/x").is_err());
    }

    #[test]
    fn no_ip_literals_internal_names_or_userinfo() {
        let hosts = AllowedHosts::none();
        for url in [
            "https://127.0.0.1/x",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/x",
            "https://localhost/x",
            "https://metadata.google.internal/x",
            "https://user:pw@qyapi.weixin.qq.com/x",
            "https://qyapi.weixin.qq.com@127.0.0.1/x",
            "https://qyapi.weixin.qq.com\\@127.0.0.1/x",
            "https://%71yapi.weixin.qq.com/x",
            "https://qyapi.weixin.qq.com /x",
            "ftp://qyapi.weixin.qq.com/x",
            "qyapi.weixin.qq.com/x",
        ] {
            assert!(hosts.check(Channel::Wecom, url).is_err(), "{url} must be refused");
        }
    }

    #[test]
    fn allow_listed_hosts_take_http_and_their_port() {
        let hosts = AllowedHosts::parse("127.0.0.1:8099, hooks.example.com,[::1]:9000").unwrap();
        assert!(hosts.check(Channel::Dingtalk, "http://127.0.0.1:8099/robot").is_ok());
        assert!(hosts.check(Channel::Dingtalk, "http://127.0.0.1:8098/robot").is_err());
        assert!(hosts.check(Channel::Dingtalk, "http://127.0.0.1/robot").is_err());
        assert!(hosts.check(Channel::Lark, "https://hooks.example.com:444/x").is_ok());
        assert!(hosts.check(Channel::Lark, "http://[::1]:9000/x").is_ok());
        assert!(hosts.check(Channel::Lark, "http://u@127.0.0.1:8099/robot").is_err());
        assert!(AllowedHosts::parse("a b").is_err());
        assert!(AllowedHosts::parse("host:99999").is_err());
    }
}
