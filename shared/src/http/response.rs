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
    /// A file answered instead of `body` (a download); `None` for JSON.
    pub file: Option<FileBody>,
}

/// The bytes of a file response and their content type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileBody {
    pub content_type: &'static str,
    pub bytes: bytes::Bytes,
}

impl ApiResponse {
    pub fn json(status: StatusCode, body: serde_json::Value) -> Self {
        ApiResponse { status, body, headers: Vec::new(), file: None }
    }

    /// `200` with a file's bytes as the body.
    pub fn file(content_type: &'static str, bytes: bytes::Bytes) -> Self {
        ApiResponse {
            status: StatusCode::OK,
            body: serde_json::Value::Null,
            headers: Vec::new(),
            file: Some(FileBody { content_type, bytes }),
        }
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

    /// The wire form, with the request id every response carries: the JSON
    /// body as text, or the file's bytes.
    pub fn into_http(self, request_id: &str) -> http::Response<bytes::Bytes> {
        let content_type = self.file.as_ref().map_or("application/json;charset=UTF-8", |f| f.content_type);
        let mut builder = http::Response::builder()
            .status(self.status)
            .header(http::header::CONTENT_TYPE, content_type)
            .header(REQUEST_ID_HEADER, request_id);
        for (name, value) in self.headers {
            builder = builder.header(name, value);
        }
        let body = match self.file {
            Some(file) => file.bytes,
            None => bytes::Bytes::from(self.body.to_string()),
        };
        builder.body(body).expect("status and headers are valid")
    }
}
