//! Authentication: every request but the public ones proves who it acts for
//! with an SDK-HMAC-SHA256 signature (AK/SK) or an `X-Auth-Token`. The
//! credential decides the tenant. The same code runs in the local router and in
//! every Lambda function (API Gateway authorizers never see the body, which the
//! signature covers).

mod bootstrap;
mod credentials;
pub mod public_hosts;
#[cfg(test)]
mod sdk_vectors;
pub mod signature;

use time::macros::format_description;
use time::PrimitiveDateTime;

pub use bootstrap::{bootstrap, BootstrapConfig};
pub use credentials::{issue_token, random_hex, Credential, TokenRecord, TOKEN_LIFETIME_MS};
pub use public_hosts::PublicHosts;

use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::ApiRequest;
use crate::ports::Store;
use crate::repositories::credentials as stored;
use signature::{parse_authorization, signature_matches, string_to_sign, SignedParts, DATE_HEADER};

/// How far X-Sdk-Date may be from the server's clock, either way. Within it a
/// captured request can be sent again as it is (nothing remembers signatures);
/// it cannot be changed, since the signature covers all of it.
pub const MAX_CLOCK_SKEW_MS: i64 = 15 * 60 * 1000;
pub const TOKEN_HEADER: &str = "x-auth-token";
const PROJECT_HEADER: &str = "x-project-id";

fn unauthorized(message: impl Into<String>) -> ApiError {
    ApiError::Unauthorized(message.into())
}

fn header<'a>(request: &'a ApiRequest, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

/// `YYYYMMDDTHHMMSSZ` in UTC, as milliseconds since the epoch.
pub fn parse_sdk_date(value: &str) -> Option<i64> {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    let parsed = PrimitiveDateTime::parse(value, format).ok()?;
    Some(parsed.assume_utc().unix_timestamp() * 1000)
}

/// The caller a request proves it acts for, or why it does not.
pub async fn authenticate(
    store: &dyn Store,
    public_hosts: &PublicHosts,
    request: &ApiRequest,
    now: i64,
) -> Result<Caller, ApiError> {
    let caller = if let Some(authorization) = header(request, "authorization") {
        verify_signature(store, public_hosts, request, authorization, now).await?.caller()
    } else if let Some(token) = header(request, TOKEN_HEADER) {
        verify_token(store, token, now).await?.caller()
    } else {
        return Err(unauthorized(
            "the request is not authenticated: sign it with AK/SK (SDK-HMAC-SHA256) or send X-Auth-Token",
        ));
    };
    // The credential decides the tenant; naming another project is refused, not obeyed.
    if let Some(project) = header(request, PROJECT_HEADER) {
        if project != caller.project_id.as_str() {
            return Err(ApiError::Forbidden(format!("the credential is not valid for project {project}")));
        }
    }
    Ok(caller)
}

/// Checks an SDK-HMAC-SHA256 signature, made for one of `public_hosts`, and
/// returns the credential that made it.
pub async fn verify_signature(
    store: &dyn Store,
    public_hosts: &PublicHosts,
    request: &ApiRequest,
    authorization: &str,
    now: i64,
) -> Result<Credential, ApiError> {
    let parsed = parse_authorization(authorization).map_err(|e| unauthorized(e.to_string()))?;
    let date = header(request, DATE_HEADER).ok_or_else(|| unauthorized("X-Sdk-Date header is required"))?;
    let signed_at = parse_sdk_date(date).ok_or_else(|| unauthorized("X-Sdk-Date must look like 20240101T000000Z"))?;
    if (now - signed_at).abs() > MAX_CLOCK_SKEW_MS {
        return Err(unauthorized("X-Sdk-Date is more than 15 minutes away from the server's time"));
    }
    // Host is always signed (parse_authorization insists), so this is the host the signature is for.
    public_hosts.check(&request.headers)?;
    let credential =
        stored::get(store, &parsed.access_key).await?.ok_or_else(|| unauthorized("the access key is unknown"))?;
    let parts = SignedParts {
        method: request.method.as_str(),
        raw_path: &request.path,
        raw_query: request.raw_query.as_deref(),
        headers: &request.headers,
        body: &request.body,
    };
    let canonical =
        signature::canonical_request(&parts, &parsed.signed_headers).map_err(|e| unauthorized(e.to_string()))?;
    if !signature_matches(&credential.secret_key, &string_to_sign(date, &canonical), &parsed.signature) {
        return Err(unauthorized("the signature does not match the request"));
    }
    Ok(credential)
}

async fn verify_token(store: &dyn Store, token: &str, now: i64) -> Result<TokenRecord, ApiError> {
    let record = stored::get_token(store, token).await?.ok_or_else(|| unauthorized("the token is unknown"))?;
    if record.expires_at <= now {
        return Err(unauthorized("the token has expired"));
    }
    Ok(record)
}

/// What an API Gateway authorizer can check before the function runs. It never
/// sees the body, which the signature covers, so for AK/SK it checks everything
/// but the signature itself: the header's form, the date and that the key
/// exists. Tokens are checked completely. Functions always run `authenticate`.
pub async fn precheck(store: &dyn Store, headers: &http::HeaderMap, now: i64) -> Result<Caller, ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    let caller = if let Some(authorization) = header("authorization") {
        let parsed = parse_authorization(authorization).map_err(|e| unauthorized(e.to_string()))?;
        let signed_at = header(DATE_HEADER)
            .and_then(parse_sdk_date)
            .ok_or_else(|| unauthorized("X-Sdk-Date is missing or malformed"))?;
        if (now - signed_at).abs() > MAX_CLOCK_SKEW_MS {
            return Err(unauthorized("X-Sdk-Date is more than 15 minutes away from the server's time"));
        }
        stored::get(store, &parsed.access_key).await?.ok_or_else(|| unauthorized("the access key is unknown"))?.caller()
    } else if let Some(token) = header(TOKEN_HEADER) {
        verify_token(store, token, now).await?.caller()
    } else {
        return Err(unauthorized("the request is not authenticated"));
    };
    if let Some(project) = header(PROJECT_HEADER) {
        if project != caller.project_id.as_str() {
            return Err(ApiError::Forbidden(format!("the credential is not valid for project {project}")));
        }
    }
    Ok(caller)
}
