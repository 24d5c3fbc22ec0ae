//! How each Lambda function is built (see the README, "Deploy to AWS"): SAM
//! builds every function in its own package, so the package must serve its own
//! route with a compile-time endpoint and enable exactly the AWS adapters its
//! IAM policies in template.yaml let it use: a function with no queue
//! permission does not carry the SQS client, one with KMS permissions can open
//! the secrets it must.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use coc_shared::routes::ROUTES;
use serde_yaml::Value;

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace")
}

fn template() -> Value {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml")).expect("template.yaml");
    serde_yaml::from_str(&text).expect("template.yaml is YAML")
}

/// Every function resource of the template, by its binary.
fn functions(template: &Value) -> Vec<(String, &Value)> {
    let resources = template["Resources"].as_mapping().expect("Resources");
    resources
        .values()
        .filter(|resource| resource["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|resource| {
            let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str().expect("a Binary").to_owned();
            (binary, resource)
        })
        .collect()
}

/// The IAM actions a function's policies allow.
fn actions(resource: &Value) -> BTreeSet<String> {
    let mut actions = BTreeSet::new();
    for policy in resource["Properties"]["Policies"].as_sequence().into_iter().flatten() {
        for statement in policy["Statement"].as_sequence().into_iter().flatten() {
            for action in statement["Action"].as_sequence().into_iter().flatten() {
                actions.insert(action.as_str().unwrap_or_default().to_owned());
            }
        }
    }
    actions
}

fn manifest(binary: &str) -> String {
    let manifest = workspace_root().join("functions").join(binary).join("Cargo.toml");
    std::fs::read_to_string(&manifest).unwrap_or_else(|_| panic!("{} is missing", manifest.display()))
}

/// The coc-runtime features a function's package enables.
fn runtime_features(binary: &str) -> BTreeSet<String> {
    let text = manifest(binary);
    let line = text
        .lines()
        .find(|line| line.trim_start().starts_with("coc-runtime"))
        .unwrap_or_else(|| panic!("functions/{binary}/Cargo.toml does not depend on coc-runtime"));
    let list = line.split_once("features = [").map(|(_, rest)| rest.split(']').next().unwrap_or_default());
    list.unwrap_or_default()
        .split(',')
        .map(|f| f.trim().trim_matches('"').to_owned())
        .filter(|f| !f.is_empty())
        .collect()
}

#[test]
fn each_function_enables_the_adapters_its_policies_allow_and_no_other() {
    let template = template();
    let functions = functions(&template);
    assert!(functions.len() > ROUTES.len(), "the API functions and the queue and schedule ones");
    for (binary, resource) in functions {
        let allowed = actions(resource);
        let mut wanted = BTreeSet::from(["lambda".to_owned()]);
        if allowed.iter().any(|a| a.starts_with("kms:")) {
            wanted.insert("kms".to_owned());
        }
        if allowed.iter().any(|a| a.starts_with("sqs:")) {
            wanted.insert("sqs".to_owned());
        }
        if allowed.iter().any(|a| a.starts_with("sns:")) {
            wanted.insert("sns".to_owned());
        }
        if allowed.iter().any(|a| a.starts_with("sms-voice:")) {
            wanted.insert("sms-voice".to_owned());
        }
        if allowed.iter().any(|a| a.starts_with("s3:")) {
            wanted.insert("s3".to_owned());
        }
        // Mail and chat robots leave over the network, not through an AWS
        // API a policy names: only the notification consumer links them.
        if binary == "notify-queue" {
            wanted.extend(["smtp".to_owned(), "robots".to_owned()]);
        }
        // Confirming an SNS subscription is an HTTPS GET of SNS's own URL.
        if binary == "report-cloudwatch-event" {
            wanted.insert("robots".to_owned());
        }
        assert_eq!(
            runtime_features(&binary),
            wanted,
            "{binary}: coc-runtime features against its policies {allowed:?}"
        );
    }
}

/// The domain crate is built once for all functions only if none of them can
/// change it: it has no features, and no function names any.
#[test]
fn the_domain_crate_is_the_same_build_in_every_function() {
    let shared = std::fs::read_to_string(workspace_root().join("shared/Cargo.toml")).expect("shared/Cargo.toml");
    assert!(!shared.lines().any(|line| line.trim() == "[features]"), "coc-shared must have no features");
    for (binary, _) in functions(&template()) {
        for line in manifest(&binary).lines().filter(|line| line.trim_start().starts_with("coc-shared")) {
            assert_eq!(line.trim(), "coc-shared.workspace = true", "functions/{binary}/Cargo.toml");
        }
    }
}

#[test]
fn sam_builds_each_function_in_its_own_package() {
    // Run in the package, cargo resolves that package's features alone; at the
    // workspace root every function would get the union of all of them.
    for (binary, resource) in functions(&template()) {
        assert_eq!(
            resource["Properties"]["CodeUri"].as_str(),
            Some(format!("functions/{binary}").as_str()),
            "{binary}: CodeUri"
        );
        assert_eq!(resource["Metadata"]["BuildMethod"].as_str(), Some("rust-cargolambda"), "{binary}: BuildMethod");
    }
}

#[test]
fn each_api_function_serves_its_route_with_a_compile_time_endpoint() {
    for route in ROUTES {
        let main = workspace_root().join("functions").join(route.function).join("src/main.rs");
        let text = std::fs::read_to_string(&main).unwrap_or_else(|_| panic!("{} is missing", main.display()));
        let endpoint = format!("const ENDPOINT: Endpoint = Endpoint::of(Operation::{:?});", route.operation);
        assert!(text.contains(&endpoint), "{} must declare `{endpoint}`", main.display());
        assert!(text.contains("serve(ENDPOINT)"), "{} must serve its ENDPOINT", main.display());
    }
}

/// Each crate of the functions' dependency graphs (as built for Lambda,
/// aarch64) with the features it is built with there.
fn dependency_features(binary: &str) -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = std::process::Command::new(cargo)
        .current_dir(workspace_root().join("functions").join(binary))
        .args(["tree", "-q", "-e", "normal,build", "--target", "aarch64-unknown-linux-gnu", "--prefix", "none"])
        .args(["-f", "{p}|{f}"])
        .output()
        .expect("cargo tree runs");
    assert!(output.status.success(), "cargo tree in functions/{binary}: {}", String::from_utf8_lossy(&output.stderr));
    let mut crates = BTreeMap::<String, BTreeSet<String>>::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Some((package, features)) = line.trim_end_matches(" (*)").split_once('|') else { continue };
        let package = package.trim_end_matches(" (proc-macro)").to_owned();
        let features = features.split(',').filter(|f| !f.is_empty()).map(str::to_owned);
        crates.entry(package).or_default().extend(features);
    }
    crates
}

/// `sam build` compiles a dependency once for all functions only if it has
/// the same features in each function's graph: otherwise cargo builds it
/// again (and everything above it, up to the AWS SDK and coc-shared) for the
/// functions that differ. coc-runtime's unification section keeps them equal;
/// this fails, naming the crate and its feature sets, when a new client or an
/// update turns on a feature for some functions only.
#[test]
fn every_function_shares_one_build_of_each_dependency() {
    // One function of each set of coc-runtime features: within a set, graphs are equal.
    let mut by_features = BTreeMap::new();
    for (binary, _) in functions(&template()) {
        by_features.entry(runtime_features(&binary)).or_insert(binary);
    }
    assert!(by_features.len() >= 5, "the functions' feature sets: {by_features:?}");
    let graphs: Vec<(String, _)> =
        by_features.into_values().map(|binary| (binary.clone(), dependency_features(&binary))).collect();
    let mut seen = BTreeMap::<&str, (&str, &BTreeSet<String>)>::new();
    let mut differing = Vec::new();
    for (binary, crates) in &graphs {
        for (package, features) in crates {
            // Members of this workspace: coc-runtime is meant to differ (it is small), functions are one each.
            if package.contains("(/") {
                continue;
            }
            match seen.get(package.as_str()) {
                None => {
                    seen.insert(package, (binary, features));
                }
                Some((first, first_features)) if *first_features != features => {
                    differing.push(format!("{package}: {first_features:?} in {first}, {features:?} in {binary}"));
                }
                Some(_) => {}
            }
        }
    }
    assert!(differing.is_empty(), "built more than once by sam build:\n  {}", differing.join("\n  "));
}
