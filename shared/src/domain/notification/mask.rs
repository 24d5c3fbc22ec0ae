//! How the delivery log shows where a message went: enough to recognise the
//! address, never enough to reuse it (a robot's webhook URL is its credential).

use super::Channel;

/// `a***@example.com`, `+86*******0000`, `https://oapi.dingtalk.com/robot/send?…`.
pub fn mask_address(channel: Channel, address: &str) -> String {
    match channel {
        Channel::Email => match address.split_once('@') {
            Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
            None => "***".into(),
        },
        Channel::Sms | Channel::Voice => {
            let chars: Vec<char> = address.chars().collect();
            let keep_start = if chars.first() == Some(&'+') { 3 } else { 2 };
            if chars.len() <= keep_start + 4 {
                return "*".repeat(chars.len());
            }
            let end = chars.len() - 4;
            let mut out: String = chars[..keep_start].iter().collect();
            out.push_str(&"*".repeat(end - keep_start));
            out.extend(&chars[end..]);
            out
        }
        Channel::Wecom | Channel::Dingtalk | Channel::Lark => {
            // Scheme, host and path; the token (query, or the hook id at the end of Lark's path) hidden.
            let without_query = address.split(['?', '#']).next().unwrap_or_default();
            let path_start =
                without_query.find("://").map(|i| i + 3).and_then(|i| without_query[i..].find('/').map(|j| i + j));
            match (channel, path_start) {
                (Channel::Lark, Some(start)) => match without_query.rfind('/') {
                    Some(last) if last > start => format!("{}/***", &without_query[..last]),
                    _ => format!("{without_query}/***"),
                },
                _ => format!("{without_query}?***"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_recognisable_but_not_reusable() {
        assert_eq!(mask_address(Channel::Email, "alice@example.com"), "a***@example.com");
        assert_eq!(mask_address(Channel::Sms, "+8613800001234"), "+86*******1234");
        assert_eq!(
            mask_address(Channel::Dingtalk, "https://oapi.dingtalk.com/robot/send?access_token=secret"),
            "https://oapi.dingtalk.com/robot/send?***"
        );
        assert_eq!(
            mask_address(Channel::Lark, "https://open.feishu.cn/open-apis/bot/v2/hook/abc-123"),
            "https://open.feishu.cn/open-apis/bot/v2/hook/***"
        );
    }
}
