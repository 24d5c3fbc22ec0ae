//! The public script library: curated, read-only scripts shipped with the
//! service (`shared/public-scripts/`), the same for every tenant. Listing and
//! reading them reads no store; executing one makes a ticket in the caller's
//! tenant from the script as it is here, like a tenant script's ticket, without
//! copying the script into the tenant's library.

mod library;
#[cfg(test)]
mod tests;

use std::sync::LazyLock;

use serde::Deserialize;

use crate::domain::job::execute::Execution;
use crate::domain::job::order::{check_param_names, Order};
use crate::domain::script::{
    ParamDescription, ParamName, ParamValue, Reviewers, RiskLevel, Script, ScriptContent, ScriptDescription,
    ScriptName, ScriptParam, ScriptParams, ScriptProperties, ScriptStatus, ScriptType, ScriptVersion,
    DEFAULT_ENTERPRISE_PROJECT,
};
use crate::domain::tenant::{Caller, ProjectId};

/// When the library's scripts were published (2026-12-01T00:00:00Z): a fixed
/// `gmt_created`, the same on every host and every build.
pub const GMT_CREATED: i64 = 1_796_083_200_000;

/// Who the library's scripts show as their creator and operator.
pub const PUBLISHER: &str = "coc";

/// The project the library's [`Script`]s name: none of a tenant's, since a
/// tenant project id is what a caller authenticated for; a ticket is always
/// made in the caller's project.
const LIBRARY_PROJECT: &str = "public-script-library";

/// A public script's uuid: `PSC`, the publication date, and its id in 8 digits
/// (25 characters, like a tenant script's). Stable: it never changes with a release.
pub fn script_uuid(id: u64) -> String {
    format!("PSC20261201000000{id:08}")
}

/// One script of the library.
#[derive(Debug, Clone)]
pub struct PublicScript {
    /// 1, 2, … in the order of the manifest; the list's paging marker.
    pub id: u64,
    /// The script as a tenant's would be: approved, with typed parameters and defaults.
    pub script: Script,
    /// The parameters a run must be given a non-empty value for (their default is empty).
    pub required: Vec<String>,
}

/// The list's filters (`name`, `name_like`, `risk_level`, `type`).
#[derive(Debug, Clone, Default)]
pub struct PublicScriptFilter {
    /// The exact name.
    pub name: Option<String>,
    /// The start of the name, in any case (the reference: "right fuzzy" only, `name_like%`).
    pub name_like: Option<String>,
    pub risk_level: Option<RiskLevel>,
    pub script_type: Option<ScriptType>,
}

impl PublicScriptFilter {
    pub fn matches(&self, public: &PublicScript) -> bool {
        let script = &public.script;
        self.name.as_deref().is_none_or(|name| script.name.as_str() == name)
            && self
                .name_like
                .as_deref()
                .is_none_or(|start| script.name.as_str().to_lowercase().starts_with(&start.to_lowercase()))
            && self.risk_level.is_none_or(|level| script.properties.risk_level == level)
            && self.script_type.is_none_or(|t| script.script_type == t)
    }
}

/// A page of the list: the matching scripts after `marker` (an id), and how many match in all.
pub struct PublicScriptPage {
    pub total: usize,
    pub scripts: Vec<&'static PublicScript>,
}

/// The library, in id order.
pub fn all() -> &'static [PublicScript] {
    static LIBRARY: LazyLock<Vec<PublicScript>> =
        LazyLock::new(|| load(library::MANIFEST, library::FILES).unwrap_or_else(|e| panic!("public scripts: {e}")));
    &LIBRARY
}

pub fn find(script_uuid: &str) -> Option<&'static PublicScript> {
    all().iter().find(|p| p.script.script_uuid == script_uuid)
}

/// Up to `limit` matching scripts whose id is above `marker`, in id order.
pub fn page(filter: &PublicScriptFilter, marker: u64, limit: usize) -> PublicScriptPage {
    let matching = all().iter().filter(|p| filter.matches(p));
    PublicScriptPage {
        total: matching.clone().count(),
        scripts: matching.filter(|p| p.id > marker).take(limit).collect(),
    }
}

impl PublicScript {
    /// Checks an execution's parameters as a tenant script's are (only the
    /// script's own names), and that each required one is given a value.
    pub fn check(&self, execution: &Execution) -> Result<(), String> {
        check_param_names(&self.script, execution)?;
        let given = &execution.execute_param.script_params;
        for name in &self.required {
            let value = given.iter().find(|g| g.param_name.as_str() == name).map(|g| g.param_value.as_str());
            if value.is_none_or(str::is_empty) {
                return Err(format!(
                    "execute_param.script_params: parameter {name} of {} is required and has no default",
                    self.script.name
                ));
            }
        }
        Ok(())
    }

    /// A new ticket of this script in the caller's tenant, all instances READY
    /// (see [`Order::create`]); the parameters are [`checked`](Self::check) first.
    pub fn order(
        &self,
        execution: Execution,
        order_id: u64,
        execute_uuid: String,
        caller: &Caller,
        now: i64,
    ) -> Result<Order, String> {
        self.check(&execution)?;
        Order::create(execution, &self.script, order_id, execute_uuid, caller, now)
    }
}

/// A manifest entry, as `manifest.json` has it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: u64,
    name: ScriptName,
    description: ScriptDescription,
    risk_level: RiskLevel,
    version: ScriptVersion,
    #[serde(default)]
    params: Vec<EntryParam>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryParam {
    name: ParamName,
    default: ParamValue,
    description: ParamDescription,
    #[serde(default)]
    sensitive: bool,
    #[serde(default)]
    required: bool,
}

/// Builds the library from the manifest and the files; any gap (an entry
/// without its file, a file without an entry, ids out of order, a value a
/// tenant's script could not have) is an error naming it.
fn load(manifest: &str, files: &[(&str, &str)]) -> Result<Vec<PublicScript>, String> {
    let entries: Vec<Entry> = serde_json::from_str(manifest).map_err(|e| format!("manifest.json: {e}"))?;
    for (name, _) in files {
        if !entries.iter().any(|e| e.name.as_str() == *name) {
            return Err(format!("{name}.sh has no entry in manifest.json"));
        }
    }
    let project = ProjectId::parse(LIBRARY_PROJECT).expect("a valid project id");
    let mut library = Vec::new();
    for (position, entry) in entries.into_iter().enumerate() {
        let name = entry.name.to_string();
        if entry.id != position as u64 + 1 {
            return Err(format!("{name}: ids must run 1, 2, 3 … in the manifest's order; expected {}", position + 1));
        }
        if library.iter().any(|p: &PublicScript| p.script.name == entry.name) {
            return Err(format!("{name} is in manifest.json twice"));
        }
        let (_, content) =
            files.iter().find(|(file, _)| *file == name).ok_or_else(|| format!("{name} has no file {name}.sh"))?;
        let content = ScriptContent::parse(*content).map_err(|e| format!("{name}.sh: {e}"))?;
        let mut required = Vec::new();
        let mut params = Vec::new();
        for (order, param) in entry.params.into_iter().enumerate() {
            if param.required {
                if !param.default.as_str().is_empty() {
                    return Err(format!("{name}: required parameter {} must have no default", param.name));
                }
                required.push(param.name.to_string());
            }
            params.push(ScriptParam {
                param_name: param.name,
                param_value: param.default,
                param_description: param.description,
                param_order: order as u32 + 1,
                sensitive: param.sensitive,
            });
        }
        let script_params = ScriptParams::try_from(params).map_err(|e| format!("{name}: {e}"))?;
        let script = Script {
            id: entry.id,
            script_uuid: script_uuid(entry.id),
            project_id: project.clone(),
            enterprise_project_id: DEFAULT_ENTERPRISE_PROJECT.to_owned(),
            name: entry.name,
            description: entry.description,
            script_type: ScriptType::Shell,
            content,
            script_params,
            properties: ScriptProperties {
                risk_level: entry.risk_level,
                version: entry.version,
                reviewers: Reviewers::default(),
                protocol: None,
            },
            status: ScriptStatus::Approved,
            gmt_created: GMT_CREATED,
            gmt_modified: GMT_CREATED,
            creator: PUBLISHER.to_owned(),
            creator_id: PUBLISHER.to_owned(),
            operator: PUBLISHER.to_owned(),
            reviews: Vec::new(),
            revision: 1,
            unapproved_authors: Vec::new(),
            tags: Vec::new(),
        };
        library.push(PublicScript { id: entry.id, script, required });
    }
    Ok(library)
}
