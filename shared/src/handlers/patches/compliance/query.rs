//! The query parameters of both endpoints (tables 4-77 and 4-86), checked.
//!
//! `offset` is a page number: the page of `limit` rows that starts at row
//! `(offset - 1) * limit + 1`, so `offset=1` is the first page (README,
//! "Patch management").

use crate::error::ApiError;
use crate::http::ApiRequest;
use crate::limits;
use crate::ports::Order;
use crate::repositories::patch_reports::{ItemFilter, Paging, ReportFilter};

/// The report scenes of the reference; only ECS reports exist here.
const REPORT_SCENES: [&str; 2] = ["ECS", "CCE"];

/// `sort_key` (only `sort_key` may name it), `sort_dir` (`asc`/`desc`, default
/// newest first), `offset` and `limit`.
fn paging(request: &ApiRequest, sort_key: &str) -> Result<Paging, ApiError> {
    if let Some(key) = request.query_param::<String>("sort_key")? {
        if key != sort_key {
            return Err(ApiError::invalid("sort_key", format!("must be {sort_key}, got {key:?}")));
        }
    }
    let order = match request.query_param::<String>("sort_dir")?.as_deref() {
        None | Some("desc") => Order::Descending,
        Some("asc") => Order::Ascending,
        Some(other) => return Err(ApiError::invalid("sort_dir", format!("must be asc or desc, got {other:?}"))),
    };
    let offset = request.query_number("offset", limits::PATCH_OFFSET)?.unwrap_or(1) as usize;
    let limit = request.query_number("limit", limits::PATCH_PAGE)?.map_or(limits::PATCH_PAGE_DEFAULT, |l| l as usize);
    Ok(Paging { skip: (offset - 1) * limit, limit, order })
}

fn text(request: &ApiRequest, name: &str) -> Result<Option<String>, ApiError> {
    request.query_text(name, limits::PATCH_FILTER_TEXT)
}

pub fn reports(request: &ApiRequest) -> Result<(ReportFilter, Paging), ApiError> {
    let report_scene = text(request, "report_scene")?;
    if let Some(scene) = &report_scene {
        if !REPORT_SCENES.contains(&scene.as_str()) {
            return Err(ApiError::invalid("report_scene", format!("must be ECS or CCE, got {scene:?}")));
        }
    }
    let filter = ReportFilter {
        name: text(request, "name")?,
        instance_id: text(request, "instance_id")?,
        ip: text(request, "ip")?,
        eip: text(request, "eip")?,
        operating_system: text(request, "operating_system")?,
        region: text(request, "region")?,
        group: text(request, "group")?,
        compliant_status: request.query_enum("compliant_status")?,
        order_id: text(request, "order_id")?,
        report_scene,
        cce_info_id: text(request, "cce_info_id")?,
        enterprise_project_id: text(request, "enterprise_project_id")?,
    };
    Ok((filter, paging(request, "report_time")?))
}

pub fn items(request: &ApiRequest) -> Result<(ItemFilter, Paging), ApiError> {
    let filter = ItemFilter {
        patch_status: request.query_enum("patch_status")?,
        title: text(request, "title")?,
        classification: text(request, "classification")?,
        severity_level: text(request, "severity_level")?,
        compliance_level: request.query_enum("compliance_level")?,
    };
    Ok((filter, paging(request, "installed_time")?))
}
