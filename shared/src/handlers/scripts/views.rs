//! Scripts as the API shows them (ScriptListModel, ScriptDetailModel).

use serde::Serialize;

use crate::domain::script::risk::Analysis;
use crate::domain::script::{
    fingerprint, ReviewRecord, Script, ScriptParam, ScriptProperties, ScriptStatus, ScriptType,
};

#[derive(Serialize)]
pub struct ScriptListRow<'a> {
    pub id: u64,
    pub script_uuid: &'a str,
    pub enterprise_project_id: &'a str,
    pub name: &'a str,
    #[serde(rename = "type")]
    pub script_type: ScriptType,
    pub status: ScriptStatus,
    pub gmt_created: i64,
    pub gmt_modified: i64,
    pub creator: &'a str,
    pub creator_id: &'a str,
    pub operator: &'a str,
    pub properties: &'a ScriptProperties,
}

impl<'a> From<&'a Script> for ScriptListRow<'a> {
    fn from(s: &'a Script) -> Self {
        ScriptListRow {
            id: s.id,
            script_uuid: &s.script_uuid,
            enterprise_project_id: &s.enterprise_project_id,
            name: s.name.as_str(),
            script_type: s.script_type,
            status: s.status,
            gmt_created: s.gmt_created,
            gmt_modified: s.gmt_modified,
            creator: &s.creator,
            creator_id: &s.creator_id,
            operator: &s.operator,
            properties: &s.properties,
        }
    }
}

#[derive(Serialize)]
pub struct ScriptDetail<'a> {
    pub script_uuid: &'a str,
    pub name: &'a str,
    pub version: &'a str,
    pub description: &'a str,
    #[serde(rename = "type")]
    pub script_type: ScriptType,
    pub content: &'a str,
    /// Sensitive values are masked.
    pub script_params: Vec<ScriptParam>,
    pub status: ScriptStatus,
    pub gmt_created: i64,
    pub gmt_modified: i64,
    pub creator: &'a str,
    pub creator_id: &'a str,
    pub operator: &'a str,
    pub properties: &'a ScriptProperties,
    pub enterprise_project_id: &'a str,
    /// Not in the spec's model (the SDK ignores it): who approved or rejected, and when.
    pub reviews: &'a [ReviewRecord],
    /// Ours too: the revision a review is about, and the fingerprint of its reviewable content.
    pub revision: u64,
    pub fingerprint: String,
    /// Ours: the analysis of the content (README "Script risk analysis").
    pub risk_analysis: Analysis,
}

impl<'a> From<&'a Script> for ScriptDetail<'a> {
    fn from(s: &'a Script) -> Self {
        ScriptDetail {
            script_uuid: &s.script_uuid,
            name: s.name.as_str(),
            version: s.properties.version.as_str(),
            description: s.description.as_str(),
            script_type: s.script_type,
            content: s.content.as_str(),
            script_params: s.script_params.masked(),
            status: s.status,
            gmt_created: s.gmt_created,
            gmt_modified: s.gmt_modified,
            creator: &s.creator,
            creator_id: &s.creator_id,
            operator: &s.operator,
            properties: &s.properties,
            enterprise_project_id: &s.enterprise_project_id,
            reviews: &s.reviews,
            revision: s.revision,
            fingerprint: fingerprint(s),
            risk_analysis: crate::domain::script::risk::of_script(s),
        }
    }
}
