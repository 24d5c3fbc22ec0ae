//! What a review is about: one revision of a script, identified by its number and by a
//! fingerprint of what the reviewer is shown.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Reviewers, Script, ScriptParam, ScriptType};

/// An edit a caller may not make.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("a reviewer of the script may change only properties.risk_level; this update changes {0}")]
    ReviewerMayOnlyChangeRiskLevel(&'static str),
}

/// Whether `after` differs from `before` in what a reviewer judges: the content, any parameter
/// (a secret's value too) or the reviewers. The type cannot change.
pub(super) fn is_new_revision(before: &Script, after: &Script) -> bool {
    before.content != after.content
        || before.script_params != after.script_params
        || before.properties.reviewers != after.properties.reviewers
}

/// The first field, by its JSON path, other than the risk level that `after` changes.
pub(super) fn change_beyond_risk_level(before: &Script, after: &Script) -> Option<&'static str> {
    let (was, is) = (&before.properties, &after.properties);
    [
        ("description", before.description != after.description),
        ("content", before.content != after.content),
        ("script_params", before.script_params != after.script_params),
        ("properties.version", was.version != is.version),
        ("properties.reviewers", was.reviewers != is.reviewers),
        ("properties.protocol", was.protocol != is.protocol),
    ]
    .into_iter()
    .find_map(|(field, changed)| changed.then_some(field))
}

/// The reviewable part of a script, as a reviewer reads it.
#[derive(Serialize)]
struct Reviewed<'a> {
    script_type: ScriptType,
    content: &'a str,
    /// Masked, as the reviewer sees them: a fingerprint that is shown must not let anyone
    /// guess a secret offline. A changed secret still makes a new revision.
    script_params: Vec<ScriptParam>,
    reviewers: &'a Reviewers,
}

/// Hex SHA-256 of the script's type, content, (masked) parameters and reviewers, in a fixed
/// JSON encoding: equal for equal reviewable content, whatever the revision number says.
pub fn fingerprint(script: &Script) -> String {
    let reviewed = Reviewed {
        script_type: script.script_type,
        content: script.content.as_str(),
        script_params: script.script_params.masked(),
        reviewers: &script.properties.reviewers,
    };
    let encoded = serde_json::to_vec(&reviewed).expect("plain data always serializes");
    hex::encode(Sha256::digest(encoded))
}
