//! The one error type every handler returns, mapped onto the spec's error body
//! `{"error_code": "...", "error_msg": "..."}`.

use http::StatusCode;

use crate::ports::{QueueError, StoreError};

/// Error codes. The spec names `COC.00040601` (bad parameter, duplicate name) and
/// `COC.00040701` (internal error); the others follow the same pattern with the
/// HTTP status in the middle so a client can tell them apart.
pub mod codes {
    pub const INVALID_PARAMETER: &str = "COC.00040601";
    pub const INTERNAL: &str = "COC.00040701";
    pub const UNAUTHORIZED: &str = "COC.00040401";
    pub const FORBIDDEN: &str = "COC.00040403";
    pub const NOT_FOUND: &str = "COC.00040404";
    pub const METHOD_NOT_ALLOWED: &str = "COC.00040405";
    pub const CONFLICT: &str = "COC.00040409";
    pub const REQUEST_TIMEOUT: &str = "COC.00040408";
    pub const PAYLOAD_TOO_LARGE: &str = "COC.00040413";
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ApiError {
    /// A field of the request is missing or breaks a rule; the message names the field.
    #[error("{0}")]
    InvalidParameter(String),
    /// The name is taken in this tenant (the spec reports this as a 400).
    #[error("Exist script with same name: {0}")]
    DuplicateName(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("method {method} is not allowed on {path}; use {allowed}")]
    MethodNotAllowed { method: String, path: String, allowed: String },
    /// The request is valid but the resource is not in a state that allows it.
    #[error("{0}")]
    Conflict(String),
    /// The client took too long to send the request body.
    #[error("{0}")]
    RequestTimeout(String),
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// Details go to the log, never to the client.
    #[error("Internal server error")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(field: &str, problem: impl std::fmt::Display) -> Self {
        ApiError::InvalidParameter(format!("{field}: {problem}"))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidParameter(_) | ApiError::DuplicateName(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidParameter(_) | ApiError::DuplicateName(_) => codes::INVALID_PARAMETER,
            ApiError::Unauthorized(_) => codes::UNAUTHORIZED,
            ApiError::Forbidden(_) => codes::FORBIDDEN,
            ApiError::NotFound(_) => codes::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => codes::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => codes::CONFLICT,
            ApiError::RequestTimeout(_) => codes::REQUEST_TIMEOUT,
            ApiError::PayloadTooLarge(_) => codes::PAYLOAD_TOO_LARGE,
            ApiError::Internal(_) => codes::INTERNAL,
        }
    }

    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error_code": self.code(), "error_msg": self.to_string() })
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        ApiError::Internal(err.to_string())
    }
}

impl From<QueueError> for ApiError {
    fn from(err: QueueError) -> Self {
        ApiError::Internal(err.to_string())
    }
}
