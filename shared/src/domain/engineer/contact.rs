//! The fields of an engineer, each a type that only holds a valid value, and
//! how addresses are shown masked.

use crate::limits;

fn user_name_rule(value: &str) -> Result<(), String> {
    if value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@')) {
        Ok(())
    } else {
        Err("may hold only letters, digits, `_`, `-`, `.` and `@`".into())
    }
}

fn provider_rule(value: &str) -> Result<(), String> {
    if value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        Ok(())
    } else {
        Err("may hold only letters, digits, `_`, `-` and `.`".into())
    }
}

fn no_control(value: &str) -> Result<(), String> {
    if value.chars().any(char::is_control) {
        Err("must not contain control characters".into())
    } else {
        Ok(())
    }
}

/// E.164: `+`, then 8 to 15 digits, the first not 0.
fn e164_rule(value: &str) -> Result<(), String> {
    let digits = value.strip_prefix('+').ok_or("must be in E.164 form: `+` and the country code first")?;
    let count = digits.chars().count() as i64;
    let well_formed = digits.chars().all(|c| c.is_ascii_digit())
        && limits::MOBILE_DIGITS.check(count).is_ok()
        && !digits.starts_with('0');
    if well_formed {
        Ok(())
    } else {
        Err(format!(
            "must be in E.164 form: `+` then {} to {} digits, the first not 0",
            limits::MOBILE_DIGITS.min,
            limits::MOBILE_DIGITS.max
        ))
    }
}

/// An address a mail server takes (RFC 5321 `Mailbox`, without quoted local
/// parts or address literals): a dot-atom local part of at most 64 characters
/// and a domain of at least two DNS labels.
fn email_rule(value: &str) -> Result<(), String> {
    let bad = || "must be an email address such as ops@example.com".to_string();
    let (local, domain) = value.rsplit_once('@').ok_or_else(bad)?;
    let atom_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
    let local_ok = !local.is_empty()
        && local.len() <= limits::EMAIL_LOCAL_PART
        && local.split('.').all(|atom| !atom.is_empty() && atom.chars().all(atom_char));
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let tld_ok = labels.last().is_some_and(|tld| tld.chars().any(|c| c.is_ascii_alphabetic()));
    if local_ok && labels.len() >= 2 && labels.iter().all(label_ok) && tld_ok {
        Ok(())
    } else {
        Err(bad())
    }
}

fn key_rule(value: &str) -> Result<(), String> {
    if value.chars().all(|c| c.is_ascii_graphic()) {
        Ok(())
    } else {
        Err("may hold only printable ASCII characters without spaces".into())
    }
}

fn url_text_rule(value: &str) -> Result<(), String> {
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err("must not contain spaces or control characters".into())
    } else {
        Ok(())
    }
}

bounded_text!(
    /// A federated user's name, which is also its `user_id`.
    UserName, limits::ENGINEER_USER_NAME, user_name_rule
);
bounded_text!(Alias, limits::ENGINEER_ALIAS, no_control);
bounded_text!(IdentityProvider, limits::IDENTITY_PROVIDER, provider_rule);
bounded_text!(Mobile, limits::MOBILE, e164_rule);
bounded_text!(EmailAddress, limits::EMAIL, email_rule);
bounded_text!(
    /// The text of a webhook URL; where it may point is `webhook::AllowedHosts`' to judge.
    WebhookUrl, limits::WEBHOOK_URL, url_text_rule
);
bounded_text!(
    /// A robot's signing secret, in clear only until it is sealed.
    SigningKey, limits::SIGNING_KEY, key_rule
);

/// What a secret reads back as.
pub const MASK: &str = "******";

/// An address as lists show it: enough to recognise, not enough to harvest.
/// `+8613800000000` → `+86*******0000`, `alice@example.com` → `a***@example.com`.
pub fn mask_address(address: &str) -> String {
    if let Some((local, domain)) = address.rsplit_once('@') {
        let first: String = local.chars().take(1).collect();
        return format!("{first}***@{domain}");
    }
    let chars: Vec<char> = address.chars().collect();
    if chars.len() <= 7 {
        return MASK.into();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobiles_are_e164() {
        for good in ["+8613800000000", "+12025550123", "+49301234", "+123456789012345"] {
            assert!(Mobile::parse(good).is_ok(), "{good}");
        }
        for bad in ["8613800000000", "+0613800000", "+1234567", "+1234567890123456", "+86 138000000", "+86-1380000"] {
            assert!(Mobile::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_are_mailboxes() {
        for good in ["ops@example.com", "a.b+tag@mail.example.co.uk", "x_y-z@e-x.io"] {
            assert!(EmailAddress::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "ops",
            "ops@",
            "@example.com",
            "ops@localhost",
            "a..b@example.com",
            ".a@example.com",
            "ops@-example.com",
            "ops@example..com",
            "ops@127.0.0.1",
            "o ps@example.com",
            "ops@exa mple.com",
            "\"q\"@example.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(EmailAddress::parse(long_local).is_err());
    }

    #[test]
    fn masks_keep_only_a_hint() {
        assert_eq!(mask_address("+8613800001234"), "+86*******1234");
        assert_eq!(mask_address("alice@example.com"), "a***@example.com");
        assert_eq!(mask_address("+123"), MASK);
    }
}
