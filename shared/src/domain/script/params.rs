//! Script parameters and reviewers: list-level rules (counts, unique names,
//! consecutive order) on top of the per-field ones.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::fields::{ParamDescription, ParamName, ParamValue, ReviewerId, ReviewerName};

use crate::limits;

/// What a sensitive parameter's value reads back as: 17 asterisks, exactly as
/// the real service shows it (the Terraform provider compares against it).
pub const MASK: &str = "*****************";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptParam {
    pub param_name: ParamName,
    pub param_value: ParamValue,
    pub param_description: ParamDescription,
    #[serde(deserialize_with = "param_order")]
    pub param_order: u32,
    pub sensitive: bool,
}

fn param_order<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    limits::PARAM_ORDER.deserialize_u32(deserializer)
}

/// At most 20 parameters with distinct names, ordered 1, 2, … n. Kept sorted by order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<ScriptParam>", into = "Vec<ScriptParam>")]
pub struct ScriptParams(Vec<ScriptParam>);

impl TryFrom<Vec<ScriptParam>> for ScriptParams {
    type Error = String;

    fn try_from(mut params: Vec<ScriptParam>) -> Result<Self, String> {
        limits::SCRIPT_PARAMS.check(params.len(), "parameters")?;
        let mut names = HashSet::new();
        for param in &params {
            if !names.insert(param.param_name.as_str()) {
                return Err(format!("param_name {} is used more than once", param.param_name));
            }
        }
        params.sort_by_key(|p| p.param_order);
        for (position, param) in params.iter().enumerate() {
            if param.param_order != position as u32 + 1 {
                return Err(format!(
                    "param_order must run 1, 2, 3 … without gaps or repeats; expected {} for {}, got {}",
                    position + 1,
                    param.param_name,
                    param.param_order
                ));
            }
        }
        Ok(ScriptParams(params))
    }
}

impl From<ScriptParams> for Vec<ScriptParam> {
    fn from(params: ScriptParams) -> Self {
        params.0
    }
}

impl ScriptParams {
    pub fn iter(&self) -> impl Iterator<Item = &ScriptParam> {
        self.0.iter()
    }

    /// The parameters as a reader sees them: sensitive values replaced by [`MASK`].
    pub fn masked(&self) -> Vec<ScriptParam> {
        self.0
            .iter()
            .map(|p| {
                let mut shown = p.clone();
                if p.sensitive {
                    shown.param_value = ParamValue::parse(MASK).expect("the mask is a valid value");
                }
                shown
            })
            .collect()
    }

    /// An edit that sends back the mask for a sensitive parameter it read means
    /// "keep the stored secret", not "set the value to asterisks".
    pub fn keep_masked_secrets(mut self, stored: &ScriptParams) -> Self {
        for param in self.0.iter_mut().filter(|p| p.sensitive && p.param_value.as_str() == MASK) {
            if let Some(old) = stored.0.iter().find(|old| old.sensitive && old.param_name == param.param_name) {
                param.param_value = old.param_value.clone();
            }
        }
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reviewer {
    pub reviewer_name: ReviewerName,
    pub reviewer_id: ReviewerId,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Reviewer>", into = "Vec<Reviewer>")]
pub struct Reviewers(Vec<Reviewer>);

impl TryFrom<Vec<Reviewer>> for Reviewers {
    type Error = String;

    fn try_from(reviewers: Vec<Reviewer>) -> Result<Self, String> {
        limits::REVIEWERS.check(reviewers.len(), "reviewers")?;
        Ok(Reviewers(reviewers))
    }
}

impl From<Reviewers> for Vec<Reviewer> {
    fn from(reviewers: Reviewers) -> Self {
        reviewers.0
    }
}

impl Reviewers {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The reviewers given by user id, with their place in the list (those given
    /// by name alone have none to check).
    pub fn ids(&self) -> impl Iterator<Item = (usize, &str)> {
        self.0.iter().enumerate().map(|(i, r)| (i, r.reviewer_id.as_str())).filter(|(_, id)| !id.is_empty())
    }

    /// A caller is a reviewer when their user id matches a reviewer's id, or,
    /// for reviewers given without an id, when their user name matches.
    pub fn includes(&self, user_id: &str, user_name: &str) -> bool {
        self.0.iter().any(|r| {
            if r.reviewer_id.as_str().is_empty() {
                r.reviewer_name.as_str() == user_name
            } else {
                r.reviewer_id.as_str() == user_id
            }
        })
    }
}
