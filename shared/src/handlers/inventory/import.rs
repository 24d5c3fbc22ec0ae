//! `import_other_resource`: hosts without an agent, from a CSV file
//! (`domain::inventory::other` has the format). Each good row is stored in
//! its own transaction (the host, its address claim, its counts), so a row
//! is stored whole or not at all and a bad row does not stop the others;
//! a file that cannot be read as a whole (wrong header, not UTF-8, too many
//! rows, too big) is a 400 and nothing is stored.

use serde_json::json;

use crate::app::App;
use crate::domain::attachment::multipart;
use crate::domain::inventory::other::{self, OtherResource, OtherType};
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::ids;
use crate::limits;
use crate::ports::StoreError;
use crate::repositories::other_resources;

fn text_part(parts: &[multipart::Part], name: &str) -> Result<Option<String>, ApiError> {
    let Some(part) = parts.iter().find(|p| p.name == name) else { return Ok(None) };
    let text = std::str::from_utf8(&part.body).map_err(|_| ApiError::invalid(name, "is not UTF-8 text"))?;
    Ok(Some(text.trim().to_owned()))
}

/// `POST /v1/other-resources/import` (multipart/form-data: `file`, `type`,
/// `region_id`) → `{"success", "total", "error_list": ["line N: why"]}`.
pub async fn import(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let content_type = request
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| ApiError::invalid("Content-Type", "must be multipart/form-data with a boundary"))?;
    let boundary = multipart::boundary(content_type).map_err(|p| ApiError::invalid("Content-Type", p))?;
    let parts = multipart::parse(&request.body, &boundary).map_err(|p| ApiError::invalid("body", p))?;
    let other_type = text_part(&parts, "type")?.ok_or_else(|| ApiError::invalid("type", "is required"))?;
    let other_type =
        OtherType::parse(&other_type).ok_or_else(|| ApiError::invalid("type", "must be vm, PM or Middleware"))?;
    let region_id = text_part(&parts, "region_id")?.unwrap_or_default();
    limits::OTHER_REGION_ID.check(&region_id).map_err(|p| ApiError::invalid("region_id", p))?;
    let file = parts.iter().find(|p| p.name == "file").ok_or_else(|| ApiError::invalid("file", "is required"))?;
    if file.body.len() > limits::IMPORT_FILE_BYTES {
        return Err(ApiError::invalid("file", format!("must be at most {} bytes", limits::IMPORT_FILE_BYTES)));
    }
    let parsed = other::parse(&file.body).map_err(|p| ApiError::invalid("file", p))?;
    let mut errors = parsed.errors;
    let mut success = 0;
    for row in parsed.rows {
        let now = app.clock.now_ms();
        let resource = OtherResource {
            id: ids::other_resource_id(now),
            project_id: caller.project_id.clone(),
            other_type,
            region_id: region_id.clone(),
            name: row.name,
            ip: row.ip,
            os_type: row.os_type,
            os_version: row.os_version,
            created_at: now,
            tags: Vec::new(),
        };
        match other_resources::insert(app.store.as_ref(), &resource).await {
            Ok(()) => success += 1,
            Err(StoreError::ConditionFailed) => errors.push(format!(
                "line {}: ip {} is imported already as {}",
                row.line,
                resource.ip,
                other_type.name()
            )),
            Err(e) => return Err(e.into()),
        }
    }
    // Reported in file order.
    errors.sort_by_key(|e| e.split(':').next().and_then(|l| l.trim_start_matches("line ").parse::<usize>().ok()));
    tracing::info!(success, total = parsed.total, failed = errors.len(), "other resources imported");
    Ok(ApiResponse::json(
        http::StatusCode::OK,
        json!({ "success": success, "total": parsed.total, "error_list": errors }),
    ))
}
