//! The limits and timeouts a reverse proxy would otherwise give the server.
//! They are read once, at start, from the environment.

use std::time::Duration;

/// Connections served at once unless `COC_MAX_CONNECTIONS` says otherwise:
/// well below the usual descriptor limit of 1024, leaving room for the store's files.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Seconds a client has to send a request's head unless `COC_HEADER_TIMEOUT_SECS` says otherwise.
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;
/// Seconds a client has to send a request's body unless `COC_BODY_TIMEOUT_SECS` says otherwise.
pub const DEFAULT_BODY_TIMEOUT_SECS: u64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once; further ones wait in the kernel's listen
    /// backlog until one closes, holding no descriptor of the server.
    pub max_connections: usize,
    /// How long a client may take to send a request's head (slowloris). The
    /// clock starts when the server starts waiting for a request, so it is also
    /// how long a kept-alive connection may sit idle between requests.
    pub header_timeout: Duration,
    /// How long a client may take to send a whole request body once its head
    /// is in: one deadline, not a pause between packets, so a client trickling
    /// bytes cannot hold a connection for longer.
    pub body_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_timeout: Duration::from_secs(DEFAULT_HEADER_TIMEOUT_SECS),
            body_timeout: Duration::from_secs(DEFAULT_BODY_TIMEOUT_SECS),
        }
    }
}

impl Limits {
    /// The limits from `COC_MAX_CONNECTIONS`, `COC_HEADER_TIMEOUT_SECS` and
    /// `COC_BODY_TIMEOUT_SECS`, each a positive integer; unset ones keep their default.
    pub fn from_env() -> Result<Self, String> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let positive = |name: &str, default: u64| -> Result<u64, String> {
            match var(name) {
                None => Ok(default),
                Some(value) => match value.trim().parse::<u64>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(format!("{name} must be a positive integer, got {value:?}")),
                },
            }
        };
        let max_connections = positive("COC_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS as u64)?;
        Ok(Limits {
            max_connections: usize::try_from(max_connections)
                .map_err(|_| format!("COC_MAX_CONNECTIONS is too large: {max_connections}"))?,
            header_timeout: Duration::from_secs(positive("COC_HEADER_TIMEOUT_SECS", DEFAULT_HEADER_TIMEOUT_SECS)?),
            body_timeout: Duration::from_secs(positive("COC_BODY_TIMEOUT_SECS", DEFAULT_BODY_TIMEOUT_SECS)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(vars: &[(&str, &str)]) -> Result<Limits, String> {
        Limits::from_vars(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn unset_variables_keep_the_defaults() {
        assert_eq!(parse(&[]).unwrap(), Limits::default());
    }

    #[test]
    fn set_variables_are_used() {
        let limits =
            parse(&[("COC_MAX_CONNECTIONS", "64"), ("COC_HEADER_TIMEOUT_SECS", "2"), ("COC_BODY_TIMEOUT_SECS", " 5 ")])
                .unwrap();
        assert_eq!(
            limits,
            Limits {
                max_connections: 64,
                header_timeout: Duration::from_secs(2),
                body_timeout: Duration::from_secs(5)
            }
        );
    }

    #[test]
    fn bad_values_are_refused_naming_the_variable() {
        for (name, value) in
            [("COC_MAX_CONNECTIONS", "0"), ("COC_HEADER_TIMEOUT_SECS", "ten"), ("COC_BODY_TIMEOUT_SECS", "-1")]
        {
            let err = parse(&[(name, value)]).unwrap_err();
            assert!(err.contains(name), "{err}");
        }
    }
}
