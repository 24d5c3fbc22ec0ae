//! `POST /v1/auth/tokens`: exchanges an AK/SK-signed request for an
//! `X-Auth-Token`, valid for 24 hours, acting as the same user and tenant.
//! Like IAM, the token comes back in the `X-Subject-Token` header.

use http::StatusCode;

use crate::app::App;
use crate::auth::{issue_token, verify_signature};
use crate::clock::{iso8601, now_ms};
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::repositories::credentials;

pub const SUBJECT_TOKEN_HEADER: &str = "X-Subject-Token";

pub async fn issue(app: &App, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let now = now_ms();
    let authorization = request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::Unauthorized("tokens are issued only to AK/SK-signed requests".into()))?;
    let credential = verify_signature(app.store.as_ref(), &app.public_hosts, &request, authorization, now).await?;
    let (token, record) = issue_token(&credential, now);
    credentials::insert_token(app.store.as_ref(), &token, &record).await?;
    let expires_at = iso8601(record.expires_at);
    let body = serde_json::json!({
        "token": {
            "expires_at": expires_at,
            "project": { "id": record.project_id },
            "user": { "id": record.user_id, "name": record.user_name },
        }
    });
    Ok(ApiResponse::json(StatusCode::CREATED, body).with_header(SUBJECT_TOKEN_HEADER, token))
}
