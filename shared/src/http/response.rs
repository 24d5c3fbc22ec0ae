use http::StatusCode;
use serde::Serialize;

use crate::error::ApiError;

pub const REQUEST_ID_HEADER: &str = "X-Request-Id";

#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    pub status: StatusCode,
    pub body: serde_json::Value,
}

impl ApiResponse {
    /// `200 {"data": ...}`: the envelope of every script and job operation.
    pub fn data(value: impl Serialize) -> Result<Self, ApiError> {
        let data = serde_json::to_value(value)
            .map_err(|e| ApiError::Internal(format!("cannot encode response: {e}")))?;
        Ok(ApiResponse {
            status: StatusCode::OK,
            body: serde_json::json!({ "data": data }),
        })
    }

    pub fn error(err: &ApiError) -> Self {
        ApiResponse {
            status: err.status(),
            body: err.body(),
        }
    }

    /// The wire form, with the request id every response carries.
    pub fn into_http(self, request_id: &str) -> http::Response<String> {
        http::Response::builder()
            .status(self.status)
            .header(http::header::CONTENT_TYPE, "application/json;charset=UTF-8")
            .header(REQUEST_ID_HEADER, request_id)
            .body(self.body.to_string())
            .expect("status and headers are valid")
    }
}
