//! Custom job scripts: what a tenant keeps in its library, and the review
//! workflow a script with reviewers goes through before it may run.

mod fields;
mod params;
pub mod risk;
mod submission;
#[cfg(test)]
mod submission_tests;

use serde::{Deserialize, Serialize};

pub use fields::*;
pub use params::*;
use submission::{change_beyond_risk_level, is_new_revision};
pub use submission::{fingerprint, EditError};

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
    /// Ours, optional (the SDK sends none): the revision the reviewer read. Without it the
    /// decision is about the revision current when the request arrives.
    #[serde(default)]
    pub revision: Option<u64>,
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
    /// The revision the decision is about, and the [`fingerprint`] of what it showed the reviewer.
    #[serde(default)]
    pub revision: u64,
    #[serde(default)]
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("only a reviewer of the script may review it")]
    NotAReviewer,
    #[error("nobody may approve a script they created or changed since its last approval")]
    OwnScript,
    #[error("the script changed since revision {reviewed}: it is at revision {current} now; read it and review again")]
    Changed { reviewed: u64, current: u64 },
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
    /// Bumped by every change of what a reviewer judges (content, parameters, reviewers):
    /// a review is about one revision and void for any other.
    #[serde(default)]
    pub revision: u64,
    /// The user ids of whoever made revisions no reviewer has approved since: their work is
    /// in the current revision, so they may not approve it.
    #[serde(default)]
    pub unapproved_authors: Vec<String>,
    /// Its tags (`update_resource_tags`), sorted by key; see `repositories::tags`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<crate::domain::inventory::tags::Tag>,
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
            revision: 1,
            unapproved_authors: vec![caller.user_id.clone()],
            tags: Vec::new(),
        }
    }

    /// Applies an edit. A change of what a reviewer judges (content, parameters, reviewers) is a
    /// new revision: the review given or pending for the old one is void and a script with
    /// reviewers waits for them again. A reviewer who does not own the script may change only
    /// the risk level (spec 4.2.3).
    pub fn edit(&mut self, edit: ScriptEdit, caller: &Caller, now: i64) -> Result<(), EditError> {
        let mut next = self.clone();
        next.description = edit.description;
        next.content = edit.content;
        if let Some(params) = edit.script_params {
            next.script_params = params.keep_masked_secrets(&self.script_params);
        }
        if let Some(properties) = edit.properties {
            next.properties = properties;
        }
        let reviewer_only =
            self.properties.reviewers.includes(&caller.user_id, &caller.user_name) && caller.user_id != self.creator_id;
        if reviewer_only {
            if let Some(field) = change_beyond_risk_level(self, &next) {
                return Err(EditError::ReviewerMayOnlyChangeRiskLevel(field));
            }
        }
        if is_new_revision(self, &next) {
            next.revision += 1;
            if !next.unapproved_authors.contains(&caller.user_id) {
                next.unapproved_authors.push(caller.user_id.clone());
            }
            next.status = initial_status(&next.properties);
        }
        next.operator = caller.user_name.clone();
        next.gmt_modified = now;
        *self = next;
        Ok(())
    }

    /// Records a reviewer's decision about `revision`, which must still be the current one.
    pub fn review(
        &mut self,
        decision: ReviewDecision,
        revision: u64,
        caller: &Caller,
        now: i64,
    ) -> Result<(), ReviewError> {
        if !self.properties.reviewers.includes(&caller.user_id, &caller.user_name) {
            return Err(ReviewError::NotAReviewer);
        }
        if decision.status == ReviewVerdict::Approved
            && (caller.user_id == self.creator_id || self.unapproved_authors.contains(&caller.user_id))
        {
            return Err(ReviewError::OwnScript);
        }
        if revision != self.revision {
            return Err(ReviewError::Changed { reviewed: revision, current: self.revision });
        }
        if self.status != ScriptStatus::PendingApprove {
            return Err(ReviewError::NotPending(self.status));
        }
        self.status = match decision.status {
            ReviewVerdict::Approved => {
                self.unapproved_authors.clear();
                ScriptStatus::Approved
            }
            ReviewVerdict::Rejected => ScriptStatus::Rejected,
        };
        self.reviews.push(ReviewRecord {
            reviewer_id: caller.user_id.clone(),
            reviewer_name: caller.user_name.clone(),
            status: decision.status,
            comments: decision.comments,
            time: now,
            revision,
            fingerprint: fingerprint(self),
        });
        self.operator = caller.user_name.clone();
        self.gmt_modified = now;
        Ok(())
    }
}
