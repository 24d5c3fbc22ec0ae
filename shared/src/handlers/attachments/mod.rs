//! Incident attachments: `POST /v1/external/incident/attachments` (SDK
//! `create_external_coc_attachment`, a `multipart/form-data` upload) and
//! `GET /v1/incident/attachments/{doc_id}` (SDK `download_attachment`).
//!
//! An upload is checked whole before anything is written; then the bytes go
//! to the blob store and, once they are there, the metadata to the table. A
//! crash between the two leaves bytes no record names (never read, as reads
//! start from the record), not a record without bytes.

use serde_json::json;

use crate::app::App;
use crate::domain::attachment::{Attachment, Upload};
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;
use crate::repositories::attachments;

/// The upload's envelope (CreateExternalCocAttachmentResponse): `code` 0 is success.
const PROVIDER_CODE: &str = "049";

/// `POST /v1/external/incident/attachments` → `{"code": "0", "data": {"doc_id", "doc_name"}}`.
pub async fn upload(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let content_type = request
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| ApiError::invalid("Content-Type", "must be multipart/form-data with a boundary"))?;
    let upload =
        Upload::from_form(content_type, &request.body).map_err(|(field, problem)| ApiError::invalid(field, problem))?;
    let doc_id = uuid::Uuid::new_v4().simple().to_string();
    let attachment =
        Attachment::new(&upload, doc_id, caller.project_id.clone(), caller.user_id.clone(), app.clock.now_ms());
    app.blobs
        .put(&attachment.blob_key, attachment.kind.content_type(), upload.bytes)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Err(err) = app.store.write(vec![attachments::insert_op(&attachment)?]).await {
        // No record will name these bytes: take them back (a failure leaves them unreachable).
        if let Err(cleanup) = app.blobs.delete(&attachment.blob_key).await {
            tracing::warn!(doc_id = attachment.doc_id, error = %cleanup, "unrecorded attachment bytes left behind");
        }
        return Err(err.into());
    }
    tracing::info!(doc_id = attachment.doc_id, size = attachment.size, kind = ?attachment.kind, "attachment stored");
    Ok(ApiResponse::json(
        http::StatusCode::OK,
        json!({
            "code": "0",
            "provider_code": PROVIDER_CODE,
            "msg": null,
            "data": {"doc_id": attachment.doc_id, "doc_name": attachment.doc_name},
        }),
    ))
}

/// `GET /v1/{ticket_type}/attachments/{doc_id}` (`ticket_type` is `incident`)
/// → the file, as an attachment to save, of the type its upload was checked for.
pub async fn download(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let ticket_type = request.path_param("ticket_type")?;
    if ticket_type != limits::ATTACHMENT_TICKET_TYPE {
        return Err(ApiError::invalid("ticket_type", format!("must be incident, got {ticket_type:?}")));
    }
    let doc_id = request.path_param("doc_id")?;
    let not_found = || ApiError::NotFound(format!("attachment {doc_id} does not exist"));
    let attachment = attachments::get(app.store.as_ref(), &caller.project_id, doc_id).await?.ok_or_else(not_found)?;
    let bytes = app
        .blobs
        .get(&attachment.blob_key)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or_else(|| ApiError::Internal(format!("the bytes of attachment {doc_id} are missing")))?;
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    if digest != attachment.sha256 {
        return Err(ApiError::Internal(format!("the bytes of attachment {doc_id} are not the ones uploaded")));
    }
    let disposition = content_disposition(&attachment.doc_name);
    Ok(ApiResponse::file(attachment.kind.content_type(), bytes)
        .with_header("Content-Disposition", disposition)
        .with_header("X-Content-Type-Options", "nosniff".into()))
}

/// `attachment; filename="…"; filename*=UTF-8''…`: an ASCII fallback for old
/// clients (quotes and non-ASCII as `_`), the exact name for the others (RFC 6266).
fn content_disposition(name: &str) -> String {
    let fallback: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let exact = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_in_the_disposition() {
        assert_eq!(
            content_disposition("caf\u{e9} \"x\".txt"),
            "attachment; filename=\"caf_ _x_.txt\"; filename*=UTF-8''caf%C3%A9%20%22x%22%2Etxt"
        );
    }
}
