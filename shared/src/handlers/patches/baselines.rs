//! `/v1/patch/baselines` (ours, in the COC style): a tenant's patch baselines.
//! The built-in defaults (`PB-default-{family}`) are listed and readable by
//! every tenant, and cannot be changed or deleted.

use http::StatusCode;
use serde_json::{json, Value};

use crate::app::App;
use crate::auth::random_hex;
use crate::clock::now_ms;
use crate::domain::patch::baseline::{Baseline, BaselineInput, OsFamily};
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::handlers::retry::until_written;
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;
use crate::repositories::patch_baselines::{self, BaselineFilter, WriteError};

fn view(baseline: &Baseline) -> Value {
    let mut shown = serde_json::to_value(baseline).unwrap_or(Value::Null);
    shown["built_in"] = Value::Bool(baseline.is_built_in());
    shown
}

fn name_taken(name: &str) -> ApiError {
    ApiError::invalid("name", format!("a baseline named {name} already exists"))
}

fn built_in_is_fixed(id: &str) -> ApiError {
    ApiError::Forbidden(format!(
        "{id} is a built-in baseline and cannot be changed or deleted; create your own with is_default true instead"
    ))
}

/// `POST /v1/patch/baselines` → `{"data": baseline}`.
pub async fn create(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let input: BaselineInput = request.json_body()?;
    let store = app.store.as_ref();
    if !patch_baselines::has_room(store, &caller.project_id).await? {
        return Err(ApiError::InvalidParameter(format!(
            "a tenant may have at most {} baselines of its own; delete one first",
            limits::BASELINES_PER_TENANT
        )));
    }
    let name = input.name.to_string();
    let baseline = Baseline::create(format!("PB-{}", random_hex(24)), input, now_ms());
    match patch_baselines::create(store, &caller.project_id, &baseline).await {
        Ok(()) => ApiResponse::data(view(&baseline)),
        Err(WriteError::NameTaken) => Err(name_taken(&name)),
        Err(WriteError::Conflict) => Err(ApiError::Conflict("the baseline changed meanwhile; try again".into())),
        Err(WriteError::Store(e)) => Err(e.into()),
    }
}

/// `GET /v1/patch/baselines?operating_system=&name=&offset=&limit=` →
/// `{"count": all rows, "baselines": [page]}`: the built-in defaults first,
/// then the tenant's own by name. `offset` is the page number (from 1), `limit`
/// its size (1–100, default 10), as the reports of spec 4.5 page.
pub async fn list(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let filter = BaselineFilter {
        operating_system: request.query_enum::<OsFamily>("operating_system")?,
        name: request.query_text("name", limits::BASELINES_NAME_FILTER)?,
    };
    let page = request.query_number("offset", limits::BASELINES_OFFSET)?.unwrap_or(1) as usize;
    let limit =
        request.query_number("limit", limits::BASELINES_PAGE)?.map_or(limits::BASELINES_PAGE_DEFAULT, |l| l as usize);
    let store = app.store.as_ref();
    let skip = (page - 1).saturating_mul(limit);
    let rows = patch_baselines::list(store, &caller.project_id, &filter, skip, limit).await?;
    let count = patch_baselines::count(store, &caller.project_id, &filter).await?;
    let baselines: Vec<Value> = rows.iter().map(view).collect();
    Ok(ApiResponse::json(StatusCode::OK, json!({ "count": count, "baselines": baselines })))
}

/// `GET /v1/patch/baselines/{baseline_id}` → `{"data": baseline}`.
pub async fn get(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = request.path_param("baseline_id")?;
    match patch_baselines::get(app.store.as_ref(), &caller.project_id, id).await? {
        Some(baseline) => ApiResponse::data(view(&baseline)),
        None => Err(ApiError::NotFound(format!("baseline {id} does not exist"))),
    }
}

/// `PUT /v1/patch/baselines/{baseline_id}` with a whole baseline body → `{"data": baseline}`.
pub async fn update(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = request.path_param("baseline_id")?;
    if crate::domain::patch::baseline::built_in_by_id(id).is_some() {
        return Err(built_in_is_fixed(id));
    }
    let input: BaselineInput = request.json_body()?;
    let store = app.store.as_ref();
    let project = &caller.project_id;
    let updated = until_written("the baseline", || async {
        let current = patch_baselines::get_own(store, project, id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("baseline {id} does not exist")))?;
        let mut changed = current.value.clone();
        changed.apply(input.clone(), now_ms());
        match patch_baselines::update(store, project, &current.value, &changed).await {
            Ok(()) => Ok(Some(changed)),
            Err(WriteError::NameTaken) => Err(name_taken(&changed.name)),
            Err(WriteError::Conflict) => Ok(None),
            Err(WriteError::Store(e)) => Err(e.into()),
        }
    })
    .await?;
    ApiResponse::data(view(&updated))
}

/// `DELETE /v1/patch/baselines/{baseline_id}` → `{"data": baseline_id}`. If it
/// was its family's default, the built-in one is the default again.
pub async fn delete(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = request.path_param("baseline_id")?;
    if crate::domain::patch::baseline::built_in_by_id(id).is_some() {
        return Err(built_in_is_fixed(id));
    }
    let store = app.store.as_ref();
    let project = &caller.project_id;
    until_written("the baseline", || async {
        let current = patch_baselines::get_own(store, project, id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("baseline {id} does not exist")))?;
        match patch_baselines::delete(store, project, &current.value).await {
            Ok(()) => Ok(Some(())),
            Err(WriteError::Conflict) => Ok(None),
            Err(WriteError::NameTaken) => Err(ApiError::Internal("a delete claimed a name".into())),
            Err(WriteError::Store(e)) => Err(e.into()),
        }
    })
    .await?;
    ApiResponse::data(id)
}
