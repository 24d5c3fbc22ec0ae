use std::collections::HashMap;
use std::str::FromStr;

use bytes::Bytes;
use http::{HeaderMap, Method};
use percent_encoding::percent_decode_str;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::limits::{Chars, Range};

/// The largest body any route accepts: room for an agent's report with a full
/// 1 MB log (JSON-escaped). Only the agent report route takes it.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// The body limit of an agent's patch inventory: room for 10,000 installed
/// packages and as many updates (a few hundred bytes each in JSON).
pub const INVENTORY_BODY_BYTES: usize = 4 * 1024 * 1024;
/// The body limit of the other authenticated routes: a script (4,096 characters
/// of content, its parameters) or a 200-host ticket is far below it.
pub const API_BODY_BYTES: usize = 1024 * 1024;
/// The body limit of the public routes (token issuing, alarm intake). Their
/// bodies are read before anyone is known, so it is kept small: it bounds what a
/// flood of anonymous requests can make the server hold.
pub const PUBLIC_BODY_BYTES: usize = 128 * 1024;

#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    /// The path as sent (still percent-encoded): the signature covers it.
    pub path: String,
    /// Path parameters named as in the route pattern, percent-decoded.
    pub path_params: HashMap<String, String>,
    /// Query pairs in order, percent-decoded.
    pub query: Vec<(String, String)>,
    /// The query string as sent, for signature checks.
    pub raw_query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Splits a raw query string into decoded pairs, in order. `+` is a plus, not a
/// space: the SDK sends a space as `%20` and signs `+` as a plus
/// (`auth::signature::canonical_query` decodes the same way), so a handler
/// never sees a value other than the one the signature covers.
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
            (decode(name), decode(value))
        })
        .collect()
}

impl ApiRequest {
    /// A path parameter, within its limit of the limits table (an id too long
    /// for the reference is a bad request, not an unknown id).
    pub fn path_param(&self, name: &str) -> Result<&str, ApiError> {
        let value = self
            .path_params
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| ApiError::invalid(name, "is required in the path"))?;
        if let Some(limit) = crate::limits::path_chars(name) {
            limit.check(value).map_err(|problem| ApiError::invalid(name, problem))?;
        }
        Ok(value)
    }

    /// One query parameter, parsed. Absent is `None`; given twice or unparsable is an error naming it.
    pub fn query_param<T: FromStr>(&self, name: &str) -> Result<Option<T>, ApiError>
    where
        T::Err: std::fmt::Display,
    {
        let mut values = self.query.iter().filter(|(n, _)| n == name).map(|(_, v)| v);
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(ApiError::invalid(name, "must be given once"));
        }
        value.parse().map(Some).map_err(|e| ApiError::invalid(name, format!("{e} (got {value:?})")))
    }

    /// The page size: `limit` within `range`. Absent, it is an error when
    /// `required`, else the largest page.
    pub fn limit(&self, range: Range, required: bool) -> Result<usize, ApiError> {
        match self.query_number("limit", range)? {
            Some(limit) => Ok(limit as usize),
            None if required => Err(ApiError::invalid("limit", "is required")),
            None => Ok(range.max as usize),
        }
    }

    /// A whole-number query parameter within `range`.
    pub fn query_number(&self, name: &str, range: Range) -> Result<Option<i64>, ApiError> {
        let Some(value) = self.query_param::<i64>(name)? else { return Ok(None) };
        range.check(value).map_err(|problem| ApiError::invalid(name, problem))?;
        Ok(Some(value))
    }

    /// A text query parameter within `limit`.
    pub fn query_text(&self, name: &str, limit: Chars) -> Result<Option<String>, ApiError> {
        let value = self.query_param::<String>(name)?;
        if let Some(v) = &value {
            limit.check(v).map_err(|problem| ApiError::invalid(name, problem))?;
        }
        Ok(value)
    }

    /// A query parameter naming one value of an enum, with the error the JSON decoder would give.
    pub fn query_enum<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, ApiError> {
        self.query_param::<String>(name)?
            .map(|v| serde_json::from_value(serde_json::Value::String(v)).map_err(|e| ApiError::invalid(name, e)))
            .transpose()
    }

    /// Every value of a repeated query parameter (`k=a&k=b`), in order.
    pub fn query_all(&self, name: &str) -> Vec<&str> {
        self.query.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
    }

    /// Decodes the JSON body into `T`. Every rule encoded in `T`'s types is
    /// checked here, and the error names the offending field by its path.
    pub fn json_body<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::InvalidParameter("request body is required".into()));
        }
        let mut decoder = serde_json::Deserializer::from_slice(&self.body);
        let value = serde_path_to_error::deserialize(&mut decoder).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                ApiError::InvalidParameter(format!("request body is not valid JSON: {inner}"))
            } else if path == "." {
                ApiError::InvalidParameter(strip_position(&inner.to_string()))
            } else {
                ApiError::invalid(&path, strip_position(&inner.to_string()))
            }
        })?;
        decoder
            .end()
            .map_err(|e| ApiError::InvalidParameter(format!("request body has data after the JSON value: {e}")))?;
        Ok(value)
    }
}

/// serde_json appends " at line 1 column 42" to type errors; the field path
/// says more to an API user than a column does.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_body(body: &str) -> ApiRequest {
        ApiRequest {
            method: Method::POST,
            path: "/".into(),
            path_params: HashMap::new(),
            query: Vec::new(),
            raw_query: None,
            headers: HeaderMap::new(),
            body: Bytes::from(body.to_owned()),
        }
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    #[test]
    fn type_errors_name_the_field_path() {
        let err = with_body(r#"{"inner": {"count": "x"}}"#).json_body::<Outer>().unwrap_err();
        assert_eq!(err, ApiError::InvalidParameter("inner.count: invalid type: string \"x\", expected u32".into()));
    }

    #[test]
    fn missing_fields_are_named() {
        let err = with_body(r#"{"inner": {}}"#).json_body::<Outer>().unwrap_err();
        assert_eq!(err, ApiError::InvalidParameter("inner: missing field `count`".into()));
    }

    #[test]
    fn syntax_errors_and_empty_bodies_are_rejected() {
        assert!(
            matches!(with_body("{").json_body::<Outer>(), Err(ApiError::InvalidParameter(m)) if m.starts_with("request body is not valid JSON"))
        );
        assert_eq!(
            with_body("  ").json_body::<Outer>().unwrap_err(),
            ApiError::InvalidParameter("request body is required".into())
        );
        assert!(with_body(r#"{"inner": {"count": 1}} []"#).json_body::<Outer>().is_err());
    }

    #[test]
    fn query_pairs_are_decoded() {
        assert_eq!(
            parse_query("limit=10&name_like=hel%20lo%2F%C3%A9&x=a+b&y=a%2Bb&flag&=v"),
            vec![
                ("limit".into(), "10".into()),
                ("name_like".into(), "hel lo/é".into()),
                ("x".into(), "a+b".into()),
                ("y".into(), "a+b".into()),
                ("flag".into(), "".into()),
                ("".into(), "v".into())
            ]
        );
    }
}
