//! Tags of scripts and resources, resource counts, agent state refreshes,
//! batch plans and hosts imported without an agent (issue #15 part 4;
//! README, "Tags and resources").

pub mod batches;
pub mod counts;
pub mod import;
pub mod sync;
pub mod tags;

use crate::app::App;
use crate::domain::inventory::other::OtherResource;
use crate::domain::job::agent::Agent;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::repositories::{jobs, other_resources, Versioned};

/// A resource of the tenant by the id `GET /v1/resources` shows: an agent's
/// serial number or an imported host's id.
pub enum Resource {
    Agent(Versioned<Agent>),
    Other(Versioned<OtherResource>),
}

pub async fn find(app: &App, caller: &Caller, id: &str) -> Result<Resource, ApiError> {
    let store = app.store.as_ref();
    if let Some(agent) = jobs::get_agent_versioned(store, &caller.project_id, id).await? {
        return Ok(Resource::Agent(agent));
    }
    if let Some(other) = other_resources::get(store, &caller.project_id, id).await? {
        return Ok(Resource::Other(other));
    }
    Err(ApiError::NotFound(format!("resource {id} does not exist")))
}
