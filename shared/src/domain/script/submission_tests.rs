//! The revision and fingerprint rules, on the model.

use serde_json::json;

use super::{fingerprint, NewScript, ReviewDecision, ReviewError, Script, ScriptEdit, ScriptStatus};
use crate::domain::tenant::{Caller, ProjectId};

fn caller(user: &str) -> Caller {
    Caller { project_id: ProjectId::parse("p").unwrap(), user_id: format!("u-{user}"), user_name: user.into() }
}

fn script(secret: &str) -> Script {
    let new: NewScript = serde_json::from_value(json!({
        "name": "s", "type": "SHELL", "content": "echo ${a}", "description": "d",
        "properties": {"risk_level": "LOW", "version": "1", "reviewers": [{"reviewer_name": "rita", "reviewer_id": "u-rita"}]},
        "script_params": [
            {"param_name": "a", "param_value": "default", "param_description": "", "param_order": 1, "sensitive": false},
            {"param_name": "key", "param_value": secret, "param_description": "", "param_order": 2, "sensitive": true}
        ]
    }))
    .unwrap();
    Script::create(new, 1, "SC1".into(), &caller("alice"), 0)
}

fn edit(body: serde_json::Value) -> ScriptEdit {
    serde_json::from_value(body).unwrap()
}

fn approval() -> ReviewDecision {
    serde_json::from_value(json!({"status": "APPROVED"})).unwrap()
}

#[test]
fn the_fingerprint_follows_what_a_reviewer_reads_and_hides_secrets() {
    let original = script("s3cret");
    assert_eq!(fingerprint(&original), fingerprint(&script("other")), "a secret cannot be guessed from it");

    let mut relabelled = original.clone();
    relabelled.edit(edit(json!({"description": "new", "content": "echo ${a}"})), &caller("alice"), 1).unwrap();
    assert_eq!(fingerprint(&relabelled), fingerprint(&original));
    assert_eq!(relabelled.revision, 1);

    let mut changed = original.clone();
    changed.edit(edit(json!({"description": "d", "content": "echo ${a}!"})), &caller("alice"), 1).unwrap();
    assert_ne!(fingerprint(&changed), fingerprint(&original));
    assert_eq!((changed.revision, changed.status), (2, ScriptStatus::PendingApprove));
}

#[test]
fn a_stale_review_changes_nothing() {
    let mut script = script("s3cret");
    script.edit(edit(json!({"description": "d", "content": "echo changed"})), &caller("alice"), 1).unwrap();
    let before = script.clone();
    let refused = script.review(approval(), 1, &caller("rita"), 2);
    assert_eq!(refused, Err(ReviewError::Changed { reviewed: 1, current: 2 }));
    assert_eq!(script, before);
    script.review(approval(), 2, &caller("rita"), 2).unwrap();
    assert_eq!(script.reviews[0].fingerprint, fingerprint(&script));
}
