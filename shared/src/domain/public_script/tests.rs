//! The library's lint: every manifest entry complete, every file in the
//! manifest and every script valid bash; then the list's filters and paging and
//! what an execution checks.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::json;

use super::{all, find, library, load, page, script_uuid, PublicScriptFilter};
use crate::domain::job::execute::Execution;
use crate::domain::script::{RiskLevel, ScriptStatus};
use crate::domain::tenant::{Caller, ProjectId};

fn caller() -> Caller {
    Caller { project_id: ProjectId::parse("p-a").unwrap(), user_id: "u".into(), user_name: "n".into(), agent_sn: None }
}

fn execution(params: serde_json::Value) -> Execution {
    serde_json::from_value(json!({
        "execute_param": {"timeout": 60, "success_rate": 100, "execute_user": "root", "script_params": params},
        "execute_batches": [{"batch_index": 1, "rotation_strategy": "CONTINUE", "target_instances": [
            {"resource_id": "r1", "agent_sn": "a1", "project_id": "p-a", "region_id": "local"}]}]
    }))
    .unwrap()
}

#[test]
fn the_library_has_at_least_a_dozen_complete_scripts_with_stable_ids() {
    let library = all();
    assert!(library.len() >= 12, "{} scripts", library.len());
    for (position, public) in library.iter().enumerate() {
        let script = &public.script;
        let name = script.name.as_str();
        assert_eq!(public.id, position as u64 + 1, "{name}");
        assert_eq!(script.script_uuid, script_uuid(public.id));
        assert_eq!(script.script_uuid.len(), 25, "{name}: as long as a tenant script's uuid");
        assert_eq!(script.status, ScriptStatus::Approved);
        assert_eq!(script.gmt_created, super::GMT_CREATED);
        assert!(!script.description.as_str().is_empty(), "{name}");
        assert!(!script.properties.version.as_str().is_empty(), "{name}");
        for param in script.script_params.iter() {
            let param_name = param.param_name.as_str();
            // Lower case: never an environment name the agent reserves (PATH, LD_*, COC_*, …).
            assert!(
                param_name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name}: parameter {param_name} must be lower case"
            );
            assert!(!param.param_description.as_str().is_empty(), "{name}: {param_name} needs a description");
            let content = script.content.as_str();
            assert!(
                content.contains(&format!("${param_name}")) || content.contains(&format!("${{{param_name}")),
                "{name} never reads its parameter {param_name}"
            );
        }
        for required in &public.required {
            let param = script.script_params.iter().find(|p| p.param_name.as_str() == required).unwrap();
            assert!(param.param_value.as_str().is_empty(), "{name}: {required}");
        }
    }
    assert_eq!(script_uuid(1), "PSC2026120100000000000001", "uuids never change");
    assert_eq!(find(&script_uuid(1)).unwrap().script.name.as_str(), "disk_usage_report");
    assert!(find("PSC2026120100000000009999").is_none());
}

#[test]
fn every_script_is_bash_that_parses_and_says_what_it_does() {
    for public in all() {
        let name = public.script.name.as_str();
        let content = public.script.content.as_str();
        assert!(content.starts_with("#!/bin/bash\n# "), "{name}: a bash shebang, then a comment saying what it does");
        assert!(content.contains("set -u"), "{name}: an unset parameter is an error, not an empty string");
        let mut bash = Command::new("bash").arg("-n").stdin(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        bash.stdin.take().unwrap().write_all(content.as_bytes()).unwrap();
        let out = bash.wait_with_output().unwrap();
        assert!(out.status.success(), "{name} does not parse: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn every_file_of_the_folder_is_in_the_manifest_and_embedded() {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/public-scripts");
    let mut on_disk: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter_map(|f| f.strip_suffix(".sh").map(str::to_owned))
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = library::FILES.iter().map(|(name, _)| name.to_string()).collect();
    embedded.sort();
    assert_eq!(on_disk, embedded, "library.rs embeds every .sh file of {folder}");
    assert_eq!(all().len(), library::FILES.len());
}

#[test]
fn a_manifest_with_a_gap_is_refused_naming_it() {
    let entry = |id: u64, name: &str| {
        json!({"id": id, "name": name, "description": "d", "risk_level": "LOW", "version": "1",
               "params": [{"name": "a", "default": "", "description": "d", "required": true}]})
    };
    let manifest = |entries: Vec<serde_json::Value>| serde_json::Value::Array(entries).to_string();
    let files = [("one", "#!/bin/bash\necho $a"), ("two", "#!/bin/bash\necho $a")];
    assert_eq!(load(&manifest(vec![entry(1, "one"), entry(2, "two")]), &files).unwrap().len(), 2);
    let missing_entry = load(&manifest(vec![entry(1, "one")]), &files).unwrap_err();
    assert!(missing_entry.contains("two.sh has no entry"), "{missing_entry}");
    let missing_file = load(&manifest(vec![entry(1, "one"), entry(2, "two"), entry(3, "three")]), &files).unwrap_err();
    assert!(missing_file.contains("three has no file"), "{missing_file}");
    let bad_id = load(&manifest(vec![entry(1, "one"), entry(3, "two")]), &files).unwrap_err();
    assert!(bad_id.contains("expected 2"), "{bad_id}");
    let twice = load(&manifest(vec![entry(1, "one"), entry(2, "one"), entry(3, "two")]), &files).unwrap_err();
    assert!(twice.contains("twice"), "{twice}");
    let mut defaulted = entry(1, "one");
    defaulted["params"][0]["default"] = json!("x");
    let required_default = load(&manifest(vec![defaulted, entry(2, "two")]), &files).unwrap_err();
    assert!(required_default.contains("must have no default"), "{required_default}");
    let mut incomplete = entry(1, "one");
    incomplete.as_object_mut().unwrap().remove("version");
    assert!(load(&manifest(vec![incomplete, entry(2, "two")]), &files).unwrap_err().contains("version"));
    let mut bad_name = entry(1, "one");
    bad_name["params"][0]["name"] = json!("a b");
    assert!(load(&manifest(vec![bad_name, entry(2, "two")]), &files).is_err());
}

#[test]
fn the_list_filters_and_pages_in_id_order() {
    let everything = page(&PublicScriptFilter::default(), 0, 100);
    assert_eq!(everything.total, all().len());
    let first = page(&PublicScriptFilter::default(), 0, 5);
    assert_eq!(first.total, all().len(), "the total counts every match, not the page");
    assert_eq!(first.scripts.iter().map(|p| p.id).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    let next = page(&PublicScriptFilter::default(), 5, 5);
    assert_eq!(next.scripts[0].id, 6);
    assert!(page(&PublicScriptFilter::default(), 1000, 5).scripts.is_empty());

    let checks = PublicScriptFilter { name_like: Some("CHECK_".into()), ..Default::default() };
    let inner = PublicScriptFilter { name_like: Some("disk".into()), ..Default::default() };
    let inner: Vec<_> = page(&inner, 0, 100).scripts.iter().map(|p| p.script.name.as_str()).collect();
    assert_eq!(inner, ["disk_usage_report"], "name_like matches the start of the name only");
    let found = page(&checks, 0, 100);
    assert!(found.total >= 5 && found.scripts.iter().all(|p| p.script.name.as_str().starts_with("check_")));
    let exact = PublicScriptFilter { name: Some("rotate_log".into()), ..Default::default() };
    assert_eq!(page(&exact, 0, 100).scripts.iter().map(|p| p.script.name.as_str()).collect::<Vec<_>>(), ["rotate_log"]);
    let prefix_only = PublicScriptFilter { name: Some("rotate".into()), ..Default::default() };
    assert_eq!(page(&prefix_only, 0, 100).total, 0, "name is the exact name");
    let high = PublicScriptFilter { risk_level: Some(RiskLevel::High), ..Default::default() };
    let high = page(&high, 0, 100);
    assert!(high.scripts.iter().any(|p| p.script.name.as_str() == "clean_old_logs"));
    assert!(high.scripts.iter().all(|p| p.script.properties.risk_level == RiskLevel::High));
}

#[test]
fn an_execution_needs_the_required_values_and_knows_only_the_scripts_parameters() {
    let restart = all().iter().find(|p| p.script.name.as_str() == "restart_systemd_service").unwrap();
    let missing = restart.order(execution(json!([])), 1, "SCT1".into(), &caller(), 0).unwrap_err();
    assert!(missing.contains("service_name") && missing.contains("required"), "{missing}");
    let empty = json!([{"param_name": "service_name", "param_value": "", "param_order": 1}]);
    assert!(restart.order(execution(empty), 1, "SCT1".into(), &caller(), 0).is_err());
    let unknown = json!([{"param_name": "service_name", "param_value": "cron", "param_order": 1},
                         {"param_name": "nope", "param_value": "x", "param_order": 2}]);
    let unknown = restart.order(execution(unknown), 1, "SCT1".into(), &caller(), 0).unwrap_err();
    assert!(unknown.contains("no parameter named nope"), "{unknown}");

    let given = json!([{"param_name": "service_name", "param_value": "cron", "param_order": 1}]);
    let order = restart.order(execution(given), 7, "SCT7".into(), &caller(), 5).unwrap();
    assert_eq!(order.project_id.as_str(), "p-a", "the ticket is the caller's");
    assert_eq!(order.script.script_uuid, restart.script.script_uuid);
    assert_eq!(order.script.content, restart.script.content.as_str());
    let values: Vec<(&str, &str)> = order.script.params.iter().map(|p| (p.name.as_str(), p.value.as_str())).collect();
    assert_eq!(values, [("service_name", "cron"), ("settle_secs", "2")], "defaults fill what is not given");
}

#[test]
fn a_sensitive_parameter_stays_sensitive_in_the_ticket() {
    let http = all().iter().find(|p| p.script.name.as_str() == "check_http_endpoint").unwrap();
    let given = json!([{"param_name": "url", "param_value": "http://127.0.0.1:1/", "param_order": 1},
                       {"param_name": "bearer_token", "param_value": "tok", "param_order": 2}]);
    let order = http.order(execution(given), 1, "SCT1".into(), &caller(), 0).unwrap();
    let token = order.script.params.iter().find(|p| p.name == "bearer_token").unwrap();
    assert!(token.sensitive && token.value == "tok");
    assert_eq!(order.secrets(), ["tok"]);
}
