use http::StatusCode;
use serde::Serialize;

use crate::error::ApiError;

pub const REQUEST_ID_HEADER: &str = "X-Request-Id";

#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    pub status: StatusCode,
    pub body: serde_json::Value,
    /// Headers beyond Content-Type and X-Request-Id.
    pub headers: Vec<(&'static str, String)>,
}

impl ApiResponse {
    pub fn json(status: StatusCode, body: serde_json::Value) -> Self {
        ApiResponse { status, body, headers: Vec::new() }
    }

    /// `200 {"data": ...}`: the envelope of every script and job operation.
    pub fn data(value: impl Serialize) -> Result<Self, ApiError> {
        let data =
            serde_json::to_value(value).map_err(|e| ApiError::Internal(format!("cannot encode response: {e}")))?;
        Ok(Self::json(StatusCode::OK, serde_json::json!({ "data": data })))
    }

    pub fn error(err: &ApiError) -> Self {
        let response = Self::json(err.status(), err.body());
        match err {
            ApiError::MethodNotAllowed { allowed, .. } => response.with_header("Allow", allowed.clone()),
            _ => response,
        }
    }

    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The wire form, with the request id every response carries.
    pub fn into_http(self, request_id: &str) -> http::Response<String> {
        let mut builder = http::Response::builder()
            .status(self.status)
            .header(http::header::CONTENT_TYPE, "application/json;charset=UTF-8")
            .header(REQUEST_ID_HEADER, request_id);
        for (name, value) in self.headers {
            builder = builder.header(name, value);
        }
        builder.body(self.body.to_string()).expect("status and headers are valid")
    }
}
