//! A host agent (UniAgent): registered to one tenant, it asks for jobs, runs
//! them and reports back.

use serde::{Deserialize, Serialize};

use super::execute::{AgentSn, RegionId, ResourceId};
use crate::domain::tenant::ProjectId;
use crate::limits;

/// An agent that has not sent a heartbeat for this long is shown OFFLINE.
pub const ONLINE_WINDOW_MS: i64 = 60_000;

/// A heartbeat is written to the table only when the stored one is at least
/// this old. Agents beat every 10 s by default; writing each beat made 200
/// idle agents cost 20 durable writes a second for a time that only decides
/// ONLINE against a 60 s window. A quarter of that window keeps an agent that
/// beats on time ONLINE (the stored time is at most this plus one beat
/// interval old) and an agent that stops is still OFFLINE within about a
/// minute and a quarter.
pub const HEARTBEAT_RECORD_EVERY_MS: i64 = ONLINE_WINDOW_MS / 4;

bounded_text!(HostName, limits::HOST_NAME);
bounded_text!(IpAddress, limits::IP_ADDRESS);
bounded_text!(OsType, limits::OS_TYPE);
bounded_text!(ZoneId, limits::ZONE_ID);

/// The body of `POST /v1/agents` (ours): what an agent says about its host.
#[derive(Debug, Clone, Deserialize)]
pub struct AgentRegistration {
    pub agent_sn: AgentSn,
    pub resource_id: ResourceId,
    pub region_id: RegionId,
    #[serde(default)]
    pub host_name: Option<HostName>,
    #[serde(default)]
    pub fixed_ip: Option<IpAddress>,
    /// The host's elastic (public) IP, when it has one.
    #[serde(default)]
    pub floating_ip: Option<IpAddress>,
    /// The availability zone.
    #[serde(default)]
    pub zone_id: Option<ZoneId>,
    #[serde(default)]
    pub os_type: Option<OsType>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub agent_sn: String,
    pub project_id: ProjectId,
    pub resource_id: String,
    pub region_id: String,
    pub host_name: String,
    pub fixed_ip: String,
    #[serde(default)]
    pub floating_ip: String,
    #[serde(default)]
    pub zone_id: String,
    pub os_type: String,
    pub registered_at: i64,
    pub last_heartbeat: i64,
    /// The access key of the agent's own credential (one at a time), so that
    /// revoking the agent or registering it again removes it.
    #[serde(default)]
    pub access_key: Option<String>,
    /// Its tags (`create_resource_tags`), sorted by key; see `repositories::tags`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<crate::domain::inventory::tags::Tag>,
    /// Whether the agent is in the tenant's `COUNT#AGENT` (agents registered
    /// before the count was kept are not, until registered again or reindexed).
    #[serde(default)]
    pub counted: bool,
}

impl Agent {
    pub fn register(registration: AgentRegistration, project_id: ProjectId, now: i64) -> Agent {
        Agent {
            agent_sn: registration.agent_sn.to_string(),
            project_id,
            resource_id: registration.resource_id.to_string(),
            region_id: registration.region_id.to_string(),
            host_name: registration.host_name.map(String::from).unwrap_or_default(),
            fixed_ip: registration.fixed_ip.map(String::from).unwrap_or_default(),
            floating_ip: registration.floating_ip.map(String::from).unwrap_or_default(),
            zone_id: registration.zone_id.map(String::from).unwrap_or_default(),
            os_type: registration.os_type.map(String::from).unwrap_or_default(),
            registered_at: now,
            last_heartbeat: now,
            access_key: None,
            tags: Vec::new(),
            counted: true,
        }
    }

    /// Whether a heartbeat at `now` is to be written (see [`HEARTBEAT_RECORD_EVERY_MS`]).
    pub fn heartbeat_due(&self, now: i64) -> bool {
        now - self.last_heartbeat >= HEARTBEAT_RECORD_EVERY_MS
    }

    pub fn state(&self, now: i64) -> &'static str {
        if now - self.last_heartbeat <= ONLINE_WINDOW_MS {
            "ONLINE"
        } else {
            "OFFLINE"
        }
    }
}
