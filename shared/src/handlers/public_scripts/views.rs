//! Public scripts as the API shows them (the SDK's PublicScriptListModel and
//! PublicScriptDetailModel).

use serde::Serialize;

use crate::domain::public_script::PublicScript;
use crate::domain::script::{RiskLevel, ScriptParam, ScriptStatus, ScriptType};

/// PublicScriptPropertiesModel.
#[derive(Serialize)]
pub struct Properties<'a> {
    pub risk_level: RiskLevel,
    pub version: &'a str,
}

impl<'a> From<&'a PublicScript> for Properties<'a> {
    fn from(p: &'a PublicScript) -> Self {
        Properties { risk_level: p.script.properties.risk_level, version: p.script.properties.version.as_str() }
    }
}

#[derive(Serialize)]
pub struct PublicScriptRow<'a> {
    pub id: u64,
    pub script_uuid: &'a str,
    pub name: &'a str,
    #[serde(rename = "type")]
    pub script_type: ScriptType,
    pub status: ScriptStatus,
    pub gmt_created: i64,
    pub description: &'a str,
    pub properties: Properties<'a>,
}

impl<'a> From<&'a PublicScript> for PublicScriptRow<'a> {
    fn from(p: &'a PublicScript) -> Self {
        PublicScriptRow {
            id: p.id,
            script_uuid: &p.script.script_uuid,
            name: p.script.name.as_str(),
            script_type: p.script.script_type,
            status: p.script.status,
            gmt_created: p.script.gmt_created,
            description: p.script.description.as_str(),
            properties: Properties::from(p),
        }
    }
}

#[derive(Serialize)]
pub struct PublicScriptDetail<'a> {
    pub script_uuid: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    #[serde(rename = "type")]
    pub script_type: ScriptType,
    pub content: &'a str,
    /// A sensitive parameter's default is masked, unless it is empty.
    pub script_params: Vec<ScriptParam>,
    pub gmt_created: i64,
    pub properties: Properties<'a>,
    /// Ours (the SDK ignores it): the parameters a run must give a value for.
    pub required_params: &'a [String],
}

impl<'a> From<&'a PublicScript> for PublicScriptDetail<'a> {
    fn from(p: &'a PublicScript) -> Self {
        let script_params = p
            .script
            .script_params
            .masked()
            .into_iter()
            .zip(p.script.script_params.iter())
            .map(|(masked, stored)| if stored.param_value.as_str().is_empty() { stored.clone() } else { masked })
            .collect();
        PublicScriptDetail {
            script_uuid: &p.script.script_uuid,
            name: p.script.name.as_str(),
            description: p.script.description.as_str(),
            script_type: p.script.script_type,
            content: p.script.content.as_str(),
            script_params,
            gmt_created: p.script.gmt_created,
            properties: Properties::from(p),
            required_params: &p.required,
        }
    }
}
