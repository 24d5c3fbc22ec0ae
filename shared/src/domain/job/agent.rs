//! A host agent (UniAgent): registered to one tenant, it asks for jobs, runs
//! them and reports back.

use serde::{Deserialize, Serialize};

use super::execute::{AgentSn, RegionId, ResourceId};
use crate::domain::tenant::ProjectId;
use crate::limits;

/// An agent that has not sent a heartbeat for this long is shown OFFLINE.
pub const ONLINE_WINDOW_MS: i64 = 60_000;

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
        }
    }

    pub fn state(&self, now: i64) -> &'static str {
        if now - self.last_heartbeat <= ONLINE_WINDOW_MS {
            "ONLINE"
        } else {
            "OFFLINE"
        }
    }
}
