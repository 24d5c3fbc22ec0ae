//! template.yaml must deploy exactly the routes the code serves: one function
//! per route, with the route's method and path, built from the binary in
//! `functions/<name>`.

use std::collections::BTreeSet;
use std::path::Path;

use coc_shared::routes::ROUTES;
use serde_yaml::Value;

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace")
}

/// (method, path, binary) of every HttpApi event in the template.
fn template_routes() -> BTreeSet<(String, String, String)> {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml")).expect("template.yaml");
    let template: Value = serde_yaml::from_str(&text).expect("template.yaml is YAML");
    let mut routes = BTreeSet::new();
    for (_, resource) in template["Resources"].as_mapping().expect("Resources") {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap_or_default().to_owned();
        let Some(events) = resource["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for (_, event) in events {
            if event["Type"].as_str() == Some("HttpApi") {
                let props = &event["Properties"];
                routes.insert((
                    props["Method"].as_str().expect("Method").to_uppercase(),
                    props["Path"].as_str().expect("Path").to_owned(),
                    binary.clone(),
                ));
            }
        }
    }
    routes
}

#[test]
fn template_declares_exactly_the_routes_the_code_serves() {
    let code: BTreeSet<_> =
        ROUTES.iter().map(|r| (r.method.to_string(), r.path.to_owned(), r.function.to_owned())).collect();
    let template = template_routes();
    let missing: Vec<_> = code.difference(&template).collect();
    let extra: Vec<_> = template.difference(&code).collect();
    assert!(missing.is_empty() && extra.is_empty(), "not in template.yaml: {missing:?}\nnot in the code: {extra:?}");
}

#[test]
fn every_routed_function_has_its_binary_crate() {
    for route in ROUTES {
        let manifest = workspace_root().join("functions").join(route.function).join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap_or_else(|_| panic!("{} is missing", manifest.display()));
        assert!(
            text.contains(&format!("name = \"{}\"", route.function)),
            "{} names another package",
            manifest.display()
        );
    }
}

/// The KMS actions a function's policies allow on the secrets key.
fn kms_actions(template: &Value, binary: &str) -> BTreeSet<String> {
    let mut actions = BTreeSet::new();
    for (_, resource) in template["Resources"].as_mapping().expect("Resources") {
        if resource["Metadata"]["BuildProperties"]["Binary"].as_str() != Some(binary) {
            continue;
        }
        for policy in resource["Properties"]["Policies"].as_sequence().into_iter().flatten() {
            for statement in policy["Statement"].as_sequence().into_iter().flatten() {
                // `!GetAtt SecretsKey.Arn` reads as a tagged value: its text names the key.
                if serde_yaml::to_string(&statement["Resource"]).unwrap().contains("SecretsKey") {
                    for action in statement["Action"].as_sequence().into_iter().flatten() {
                        actions.insert(action.as_str().unwrap_or_default().to_owned());
                    }
                }
            }
        }
    }
    actions
}

#[test]
fn functions_that_check_signatures_can_open_secrets_and_only_sealers_can_seal() {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml")).expect("template.yaml");
    let template: Value = serde_yaml::from_str(&text).expect("template.yaml is YAML");
    assert!(text.contains("COC_KMS_KEY_ID: !Ref SecretsKey"), "the functions are told the key");
    for route in ROUTES {
        let actions = kms_actions(&template, route.function);
        let checks_signatures = route.access != coc_shared::routes::Access::Public
            || matches!(route.function, "issue-token" | "register-agent");
        assert_eq!(actions.contains("kms:Decrypt"), checks_signatures, "{}: {actions:?}", route.function);
        let seals = matches!(
            route.function,
            "register-agent"
                | "execute-script"
                | "update-engineer"
                | "handler-alarm"
                | "execute-public-script"
                // A scheduled task's record holds its sealed sensitive parameters; every save seals them.
                | "create-scheduled-task"
                | "update-scheduled-task"
                | "enable-scheduled-task"
                | "disable-scheduled-task"
        );
        assert_eq!(actions.contains("kms:GenerateDataKey"), seals, "{}: {actions:?}", route.function);
    }
    assert!(kms_actions(&template, "authorizer").is_empty(), "the authorizer never opens a secret");
}
