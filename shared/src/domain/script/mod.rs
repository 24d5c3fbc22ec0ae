//! Custom job scripts: what a tenant keeps in its library, and the review
//! workflow a script with reviewers goes through before it may run.

mod fields;
mod params;

use serde::{Deserialize, Serialize};

pub use fields::*;
pub use params::*;

use crate::domain::tenant::{Caller, ProjectId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptProperties {
    pub risk_level: RiskLevel,
    pub version: ScriptVersion,
    #[serde(default, deserialize_with = "crate::domain::absent::null_is_default")]
    pub reviewers: Reviewers,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<NotifyProtocol>,
}

/// The body of `POST /v1/job/scripts` (AddScriptModel). Decoding it is validating it.
#[derive(Debug, Clone, Deserialize)]
pub struct NewScript {
    pub name: ScriptName,
    pub properties: ScriptProperties,
    pub description: ScriptDescription,
    #[serde(rename = "type")]
    pub script_type: ScriptType,
    pub content: ScriptContent,
    #[serde(default)]
    pub enterprise_project_id: Option<EnterpriseProjectId>,
    #[serde(default, deserialize_with = "crate::domain::absent::null_is_default")]
    pub script_params: ScriptParams,
}

/// The body of `PUT /v1/job/scripts/{script_uuid}` (EditScriptModel). Name and
/// type cannot change; properties and parameters are kept when left out.
#[derive(Debug, Clone, Deserialize)]
pub struct ScriptEdit {
    pub description: ScriptDescription,
    pub content: ScriptContent,
    #[serde(default)]
    pub properties: Option<ScriptProperties>,
    #[serde(default)]
    pub script_params: Option<ScriptParams>,
}

/// A reviewer's verdict, named like the status it leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReviewVerdict {
    Approved,
    Rejected,
}

bounded_text!(ReviewComments, crate::limits::REVIEW_COMMENTS);

/// The body of `POST /v1/job/scripts/{script_uuid}/action` (the SDK's
/// ApprovalJobScriptModel, sent by `accept_script`).
#[derive(Debug, Clone, Deserialize)]
pub struct ReviewDecision {
    pub status: ReviewVerdict,
    #[serde(default)]
    pub comments: Option<ReviewComments>,
}

/// One review, kept for the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewRecord {
    pub reviewer_id: String,
    pub reviewer_name: String,
    pub status: ReviewVerdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<ReviewComments>,
    pub time: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("only a reviewer of the script may review it")]
    NotAReviewer,
    #[error("the script is {0:?}, only a script pending approval can be reviewed")]
    NotPending(ScriptStatus),
}

/// A stored script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Script {
    /// Auto-increment id within the tenant; the list's paging marker.
    pub id: u64,
    pub script_uuid: String,
    pub project_id: ProjectId,
    pub enterprise_project_id: String,
    pub name: ScriptName,
    pub description: ScriptDescription,
    #[serde(rename = "type")]
    pub script_type: ScriptType,
    pub content: ScriptContent,
    pub script_params: ScriptParams,
    pub properties: ScriptProperties,
    pub status: ScriptStatus,
    pub gmt_created: i64,
    pub gmt_modified: i64,
    pub creator: String,
    pub creator_id: String,
    pub operator: String,
    #[serde(default)]
    pub reviews: Vec<ReviewRecord>,
}

/// The enterprise project a script belongs to when the request names none.
pub const DEFAULT_ENTERPRISE_PROJECT: &str = "0";

/// Scripts with reviewers wait for one of them; others may run at once.
fn initial_status(properties: &ScriptProperties) -> ScriptStatus {
    if properties.reviewers.is_empty() {
        ScriptStatus::Approved
    } else {
        ScriptStatus::PendingApprove
    }
}

impl Script {
    pub fn create(new: NewScript, id: u64, script_uuid: String, caller: &Caller, now: i64) -> Script {
        Script {
            id,
            script_uuid,
            project_id: caller.project_id.clone(),
            enterprise_project_id: new
                .enterprise_project_id
                .map(String::from)
                .unwrap_or_else(|| DEFAULT_ENTERPRISE_PROJECT.to_owned()),
            status: initial_status(&new.properties),
            name: new.name,
            description: new.description,
            script_type: new.script_type,
            content: new.content,
            script_params: new.script_params,
            properties: new.properties,
            gmt_created: now,
            gmt_modified: now,
            creator: caller.user_name.clone(),
            creator_id: caller.user_id.clone(),
            operator: caller.user_name.clone(),
            reviews: Vec::new(),
        }
    }

    /// Applies an edit. Any edit sends a script with reviewers back to review:
    /// what was approved is not what will now run.
    pub fn edit(&mut self, edit: ScriptEdit, caller: &Caller, now: i64) {
        self.description = edit.description;
        self.content = edit.content;
        if let Some(properties) = edit.properties {
            self.properties = properties;
        }
        if let Some(params) = edit.script_params {
            self.script_params = params.keep_masked_secrets(&self.script_params);
        }
        self.status = initial_status(&self.properties);
        self.operator = caller.user_name.clone();
        self.gmt_modified = now;
    }

    pub fn review(&mut self, decision: ReviewDecision, caller: &Caller, now: i64) -> Result<(), ReviewError> {
        if !self.properties.reviewers.includes(&caller.user_id, &caller.user_name) {
            return Err(ReviewError::NotAReviewer);
        }
        if self.status != ScriptStatus::PendingApprove {
            return Err(ReviewError::NotPending(self.status));
        }
        self.status = match decision.status {
            ReviewVerdict::Approved => ScriptStatus::Approved,
            ReviewVerdict::Rejected => ScriptStatus::Rejected,
        };
        self.reviews.push(ReviewRecord {
            reviewer_id: caller.user_id.clone(),
            reviewer_name: caller.user_name.clone(),
            status: decision.status,
            comments: decision.comments,
            time: now,
        });
        self.operator = caller.user_name.clone();
        self.gmt_modified = now;
        Ok(())
    }
}
