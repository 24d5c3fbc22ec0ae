//! The patch baseline endpoints over HTTP, on every backend: CRUD, the built-in
//! defaults and the one default per family, unique names under concurrency,
//! tenant isolation, paging, and every 400 with nothing written.

use serde_json::{json, Value};

use coc_shared::domain::tenant::ProjectId;
use coc_shared::repositories::patch_baselines;
use coc_tests::{backends, serve, Backend, Client, Reply};

const BASELINES: &str = "/v1/patch/baselines";

async fn clients() -> Vec<(&'static str, Client, Backend)> {
    let mut all = Vec::new();
    for backend in backends().await {
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "project-a").await;
        all.push((backend.name, client, backend));
    }
    all
}

fn body(name: &str, os: &str, is_default: bool) -> Value {
    json!({
        "name": name, "description": "web servers", "operating_system": os, "is_default": is_default,
        "approval_rules": [
            {"classifications": ["Security"], "severities": ["Critical", "Important"], "approve_after_days": 3, "compliance_level": "CRITICAL"},
            {"security_only": true, "approve_after_days": 0, "compliance_level": "HIGH"}
        ],
        "approved_patches": ["openssl"], "rejected_patches": ["telnet"], "approved_compliance_level": "MEDIUM",
    })
}

async fn create(client: &Client, body: &Value) -> Value {
    let reply = client.post(BASELINES, body).await;
    assert_eq!(reply.status, 200, "create failed: {}", reply.body);
    reply.body["data"].clone()
}

async fn get(client: &Client, id: &str) -> Reply {
    client.get(&format!("{BASELINES}/{id}")).await
}

async fn is_default(client: &Client, id: &str) -> bool {
    let reply = get(client, id).await;
    assert_eq!(reply.status, 200, "{id}: {}", reply.body);
    reply.body["data"]["is_default"].as_bool().unwrap()
}

async fn list(client: &Client, query: &str) -> Value {
    let reply = client.get(&format!("{BASELINES}?{query}")).await;
    assert_eq!(reply.status, 200, "{query}: {}", reply.body);
    reply.body
}

fn names(page: &Value) -> Vec<String> {
    page["baselines"].as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tenant_has_the_built_in_defaults() {
    for (backend, client, _keep) in clients().await {
        let page = list(&client, "").await;
        assert_eq!(page["count"], 5, "{backend}: {page}");
        assert_eq!(
            names(&page),
            [
                "COC-DebianDefaultPatchBaseline",
                "COC-UbuntuDefaultPatchBaseline",
                "COC-HuaweiCloudEulerOSDefaultPatchBaseline",
                "COC-EulerOSDefaultPatchBaseline",
                "COC-CentOSDefaultPatchBaseline"
            ]
        );
        let debian = get(&client, "PB-default-debian").await;
        assert_eq!(debian.status, 200, "{backend}");
        let d = &debian.body["data"];
        assert_eq!((d["is_default"].as_bool(), d["built_in"].as_bool()), (Some(true), Some(true)));
        assert_eq!(d["operating_system"], "Debian");
        assert_eq!(d["rule_type"], "standard");
        assert_eq!(d["approval_rules"][0]["security_only"], true);
        let centos = &get(&client, "PB-default-centos").await.body["data"];
        assert_eq!(centos["approval_rules"][0]["classifications"], json!(["Security"]));
        assert_eq!(centos["approval_rules"][0]["severities"], json!(["Critical", "Important"]));

        for (method, path) in [("PUT", "PB-default-debian"), ("DELETE", "PB-default-centos")] {
            let reply = match method {
                "PUT" => client.put(&format!("{BASELINES}/{path}"), &body("x", "Debian", false)).await,
                _ => client.delete(&format!("{BASELINES}/{path}")).await,
            };
            assert_eq!(reply.status, 403, "{backend}: {method} {path}: {}", reply.body);
            assert!(reply.error_msg().contains("built-in"), "{backend}: {}", reply.error_msg());
        }
        assert_eq!(get(&client, "PB-nothing").await.status, 404);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_read_update_delete() {
    for (backend, client, keep) in clients().await {
        let created = create(&client, &body("web-生产", "Ubuntu", false)).await;
        let id = created["id"].as_str().unwrap().to_owned();
        assert!(id.starts_with("PB-") && !id.starts_with("PB-default-"), "{backend}: {id}");
        assert_eq!(created["built_in"], false);
        let shown = get(&client, &id).await.body["data"].clone();
        assert_eq!(shown["name"], "web-生产");
        assert_eq!(shown["operating_system"], "Ubuntu");
        assert_eq!(shown["approval_rules"][0]["approve_after_days"], 3);
        assert_eq!(shown["approval_rules"][0]["compliance_level"], "CRITICAL");
        assert_eq!(shown["approval_rules"][1]["classifications"], json!([]));
        assert_eq!(shown["approved_patches"], json!(["openssl"]));
        assert_eq!(shown["rejected_patches"], json!(["telnet"]));
        assert_eq!(shown["approved_compliance_level"], "MEDIUM");
        assert_eq!(shown["is_default"], false);
        assert_eq!(shown["version"], 1);

        let mut changed = body("web-renamed", "CentOS", false);
        changed["approved_patches"] = json!([]);
        let updated = client.put(&format!("{BASELINES}/{id}"), &changed).await;
        assert_eq!(updated.status, 200, "{backend}: {}", updated.body);
        let shown = get(&client, &id).await.body["data"].clone();
        assert_eq!(shown["name"], "web-renamed");
        assert_eq!(shown["operating_system"], "CentOS");
        assert_eq!(shown["approved_patches"], json!([]));
        assert_eq!(shown["version"], 2);
        assert_eq!(list(&client, "operating_system=CentOS").await["count"], 2, "{backend}: moved between families");
        assert_eq!(list(&client, "operating_system=Ubuntu").await["count"], 1);
        // The old name is free again, the new one taken.
        create(&client, &body("web-生产", "Ubuntu", false)).await;
        let taken = client.post(BASELINES, &body("web-renamed", "Debian", false)).await;
        assert_eq!(taken.status, 400, "{backend}");
        assert!(taken.error_msg().contains("name"), "{}", taken.error_msg());

        let deleted = client.delete(&format!("{BASELINES}/{id}")).await;
        assert_eq!(deleted.status, 200, "{backend}: {}", deleted.body);
        assert_eq!(deleted.data_str(), id);
        assert_eq!(get(&client, &id).await.status, 404);
        assert_eq!(client.delete(&format!("{BASELINES}/{id}")).await.status, 404, "{backend}: already gone");
        assert_eq!(client.put(&format!("{BASELINES}/{id}"), &changed).await.status, 404);
        create(&client, &body("web-renamed", "Debian", false)).await;
        let project = ProjectId::parse("project-a").unwrap();
        assert_eq!(patch_baselines::stored_count(keep.store.as_ref(), &project).await.unwrap(), 2, "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_default_per_family_and_the_built_in_is_the_fallback() {
    for (backend, client, keep) in clients().await {
        let project = ProjectId::parse("project-a").unwrap();
        let defaults_of = |store: std::sync::Arc<dyn coc_shared::ports::Store>| {
            let project = project.clone();
            async move {
                patch_baselines::defaults(store.as_ref(), &project)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|b| (b.operating_system, b.id))
                    .collect::<std::collections::HashMap<_, _>>()
            }
        };
        let first = create(&client, &body("debian-a", "Debian", true)).await["id"].as_str().unwrap().to_owned();
        assert!(is_default(&client, &first).await, "{backend}");
        assert!(!is_default(&client, "PB-default-debian").await, "{backend}: the tenant's own replaces the built-in");
        assert!(is_default(&client, "PB-default-ubuntu").await, "{backend}: other families keep theirs");
        assert_eq!(defaults_of(keep.store.clone()).await["Debian"], first);

        let second = create(&client, &body("debian-b", "Debian", true)).await["id"].as_str().unwrap().to_owned();
        assert!(is_default(&client, &second).await);
        assert!(!is_default(&client, &first).await, "{backend}: one default per family");
        let page = list(&client, "operating_system=Debian").await;
        let marked: Vec<&Value> =
            page["baselines"].as_array().unwrap().iter().filter(|b| b["is_default"] == true).collect();
        assert_eq!(marked.len(), 1, "{backend}: {page}");
        assert_eq!(marked[0]["id"], second.as_str());

        // Moving the default to another family leaves Debian on the built-in.
        let moved = client.put(&format!("{BASELINES}/{second}"), &body("debian-b", "Ubuntu", true)).await;
        assert_eq!(moved.status, 200, "{backend}: {}", moved.body);
        assert!(is_default(&client, "PB-default-debian").await, "{backend}");
        assert!(!is_default(&client, "PB-default-ubuntu").await);
        let defaults = defaults_of(keep.store.clone()).await;
        assert_eq!((defaults["Debian"].as_str(), defaults["Ubuntu"].as_str()), ("PB-default-debian", second.as_str()));

        // Deleting the default falls back to the built-in.
        assert_eq!(client.delete(&format!("{BASELINES}/{second}")).await.status, 200);
        assert!(is_default(&client, "PB-default-ubuntu").await, "{backend}");
        assert_eq!(defaults_of(keep.store.clone()).await["Ubuntu"], "PB-default-ubuntu");
        assert_eq!(defaults_of(keep.store.clone()).await.len(), 5);

        // Unmarking works too.
        let unmarked = client.put(&format!("{BASELINES}/{first}"), &body("debian-a", "Debian", false)).await;
        assert_eq!(unmarked.status, 200);
        let marked = client.put(&format!("{BASELINES}/{first}"), &body("debian-a", "Debian", true)).await;
        assert_eq!(marked.status, 200);
        assert!(is_default(&client, &first).await);
        let unmarked = client.put(&format!("{BASELINES}/{first}"), &body("debian-a", "Debian", false)).await;
        assert_eq!(unmarked.status, 200);
        assert!(is_default(&client, "PB-default-debian").await, "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_of_one_name_make_one_baseline() {
    for (backend, client, _keep) in clients().await {
        let attempts = (0..8).map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.post(BASELINES, &body("same", "Debian", true)).await.status })
        });
        let mut statuses = Vec::new();
        for attempt in attempts {
            statuses.push(attempt.await.unwrap());
        }
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{backend}: {statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 400).count(), 7, "{backend}: {statuses:?}");
        assert_eq!(list(&client, "").await["count"], 6, "{backend}");
        assert_eq!(list(&client, "name=same").await["count"], 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_see_only_their_own() {
    for (backend, client, _keep) in clients().await {
        let id = create(&client, &body("mine", "Debian", true)).await["id"].as_str().unwrap().to_owned();
        let other = client.in_project("project-b").await;
        assert_eq!(get(&other, &id).await.status, 404, "{backend}");
        assert_eq!(other.put(&format!("{BASELINES}/{id}"), &body("theirs", "Debian", false)).await.status, 404);
        assert_eq!(other.delete(&format!("{BASELINES}/{id}")).await.status, 404);
        assert_eq!(list(&other, "").await["count"], 5, "{backend}: only the built-ins");
        assert!(is_default(&other, "PB-default-debian").await, "{backend}: a default is per tenant");
        create(&other, &body("mine", "Debian", false)).await;
        assert_eq!(get(&client, &id).await.body["data"]["name"], "mine", "{backend}: unchanged");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_page_filter_and_count() {
    for (backend, client, _keep) in clients().await {
        for i in 0..12 {
            let os = if i % 2 == 0 { "Debian" } else { "CentOS" };
            create(&client, &body(&format!("b{i:02}"), os, false)).await;
        }
        let first = list(&client, "offset=1&limit=10").await;
        assert_eq!(first["count"], 17, "{backend}");
        let first_names = names(&first);
        assert_eq!(first_names.len(), 10);
        assert!(first_names[..5].iter().all(|n| n.starts_with("COC-")), "built-ins first: {first_names:?}");
        assert_eq!(first_names[5..], ["b00", "b01", "b02", "b03", "b04"], "{backend}: then by name");
        let second = names(&list(&client, "offset=2&limit=10").await);
        assert_eq!(second, ["b05", "b06", "b07", "b08", "b09", "b10", "b11"], "{backend}");
        assert!(names(&list(&client, "offset=3&limit=10").await).is_empty());
        assert_eq!(names(&list(&client, "").await).len(), 10, "{backend}: the default page is 10");

        let debian = list(&client, "operating_system=Debian&limit=100").await;
        assert_eq!(debian["count"], 7, "{backend}: the built-in and six of ours");
        assert_eq!(names(&debian), ["COC-DebianDefaultPatchBaseline", "b00", "b02", "b04", "b06", "b08", "b10"]);
        let page2 = names(&list(&client, "operating_system=Debian&limit=3&offset=2").await);
        assert_eq!(page2, ["b04", "b06", "b08"], "{backend}");

        let named = list(&client, "name=B1&limit=100").await;
        assert_eq!(names(&named), ["b10", "b11"], "{backend}: a case-insensitive substring");
        assert_eq!(named["count"], 2);
        let centos_default = list(&client, "name=default&operating_system=CentOS").await;
        assert_eq!(names(&centos_default), ["COC-CentOSDefaultPatchBaseline"]);
        assert_eq!(centos_default["count"], 1);
    }
}

/// Each case breaks one rule of a valid body; the answer is a 400 naming the field.
fn invalid_bodies() -> Vec<(&'static str, Value)> {
    let with = |field: &str, value: Value| {
        let mut b = body("bad", "Debian", false);
        b[field] = value;
        b
    };
    let rule = |patch: Value| {
        let mut r = json!({"approve_after_days": 1, "compliance_level": "LOW"});
        for (k, v) in patch.as_object().unwrap() {
            r[k] = v.clone();
        }
        with("approval_rules", json!([r]))
    };
    let without = |field: &str| {
        let mut b = body("bad", "Debian", false);
        b.as_object_mut().unwrap().remove(field);
        b
    };
    let many = |n: usize, item: fn(usize) -> Value| Value::Array((0..n).map(item).collect());
    vec![
        ("name", without("name")),
        ("name", with("name", json!(""))),
        ("name", with("name", json!("a".repeat(129)))),
        ("name", with("name", json!("with space"))),
        ("name", with("name", json!("semi;colon"))),
        ("name", with("name", json!(7))),
        ("description", with("description", json!("d".repeat(257)))),
        ("operating_system", without("operating_system")),
        ("operating_system", with("operating_system", json!("Windows"))),
        ("operating_system", with("operating_system", json!("debian"))),
        ("is_default", with("is_default", json!("yes"))),
        (
            "approval_rules",
            with("approval_rules", many(11, |_| json!({"approve_after_days": 1, "compliance_level": "LOW"}))),
        ),
        ("approval_rules", with("approval_rules", json!({}))),
        ("approve_after_days", rule(json!({"approve_after_days": 361}))),
        ("approve_after_days", rule(json!({"approve_after_days": -1}))),
        ("approve_after_days", rule(json!({"approve_after_days": 1.5}))),
        ("approve_after_days", with("approval_rules", json!([{"compliance_level": "LOW"}]))),
        ("compliance_level", rule(json!({"compliance_level": "SEVERE"}))),
        ("compliance_level", with("approval_rules", json!([{"approve_after_days": 1}]))),
        ("classifications", rule(json!({"classifications": many(21, |i| json!(format!("c{i}")))}))),
        ("classifications", rule(json!({"classifications": [""]}))),
        ("classifications", rule(json!({"classifications": ["c".repeat(65)]}))),
        ("severities", rule(json!({"severities": many(21, |i| json!(format!("s{i}")))}))),
        ("severities", rule(json!({"severities": ["s".repeat(65)]}))),
        ("security_only", rule(json!({"security_only": "true"}))),
        ("unknown", rule(json!({"unknown": 1}))),
        ("approved_patches", with("approved_patches", many(201, |i| json!(format!("p{i}"))))),
        ("approved_patches", with("approved_patches", json!(["two words"]))),
        ("approved_patches", with("approved_patches", json!(["p".repeat(129)]))),
        ("rejected_patches", with("rejected_patches", json!([""]))),
        ("rejected_patches", with("rejected_patches", many(201, |i| json!(format!("p{i}"))))),
        ("approved_compliance_level", with("approved_compliance_level", json!("low"))),
        ("colour", with("colour", json!("blue"))),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_request_is_a_400_naming_the_field_and_writes_nothing() {
    for (backend, client, keep) in clients().await {
        let id = create(&client, &body("kept", "Debian", true)).await["id"].as_str().unwrap().to_owned();
        let before = get(&client, &id).await.body["data"].clone();
        for (field, bad) in invalid_bodies() {
            for reply in [client.post(BASELINES, &bad).await, client.put(&format!("{BASELINES}/{id}"), &bad).await] {
                assert_eq!(reply.status, 400, "{backend}: {field}: {bad} → {}", reply.body);
                assert_eq!(reply.error_code(), "COC.00040601", "{backend}: {field}");
                assert!(reply.error_msg().contains(field), "{backend}: {field}: {}", reply.error_msg());
            }
        }
        let not_json = client.send("POST", BASELINES, Some("{not json".into())).await;
        assert_eq!(not_json.status, 400, "{backend}");
        assert_eq!(client.send("POST", BASELINES, None).await.status, 400);
        for query in
            ["limit=0", "limit=101", "offset=0", "offset=x", "operating_system=Windows", "name=", "limit=1&limit=2"]
        {
            let reply = client.get(&format!("{BASELINES}?{query}")).await;
            assert_eq!(reply.status, 400, "{backend}: {query}: {}", reply.body);
            let field = query.split('=').next().unwrap();
            assert!(reply.error_msg().contains(field), "{backend}: {query}: {}", reply.error_msg());
        }
        assert_eq!(get(&client, &"x".repeat(65)).await.status, 400, "{backend}: an over-long id");
        let project = ProjectId::parse("project-a").unwrap();
        assert_eq!(patch_baselines::stored_count(keep.store.as_ref(), &project).await.unwrap(), 1, "{backend}");
        assert_eq!(get(&client, &id).await.body["data"], before, "{backend}: nothing written");
        assert_eq!(client.send("PATCH", BASELINES, None).await.status, 405);
    }
}
