//! Tags of scripts and resources, resource counts, agent syncs, instance
//! batches and imported hosts over HTTP, on every backend (issue #15 part 4).

use coc_shared::auth::signature::{sign_headers, AccessKey};
use coc_shared::clock::now_ms;
use coc_tests::{backends, script_body, serve, Backend, Client, Reply};
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{json, Value};

const SCRIPTS: &str = "/v1/job/scripts";
const SCRIPT_TAGS: &str = "/v1/script/coc:script";
const IMPORT: &str = "/v1/other-resources/import";
const BOUNDARY: &str = "a1b2c3d4e5f6";

async fn clients() -> Vec<(&'static str, Client, Backend)> {
    let mut all = Vec::new();
    for backend in backends().await {
        let base = serve(backend.app()).await;
        let client = Client::new(&base, backend.store.clone(), "project-tags").await;
        all.push((backend.name, client, backend));
    }
    all
}

fn tags(pairs: &[(&str, &str)]) -> Value {
    json!({ "tags": pairs.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>() })
}

async fn create_script(client: &Client, name: &str) -> String {
    let reply = client.post(SCRIPTS, &script_body(name)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.data_str()
}

async fn set_script_tags(client: &Client, uuid: &str, pairs: &[(&str, &str)]) -> Reply {
    client.post(&format!("{SCRIPT_TAGS}/{uuid}/tags/update"), &tags(pairs)).await
}

async fn script_names(client: &Client, query: &str) -> (Vec<String>, u64) {
    let reply = client.get(&format!("{SCRIPTS}?limit=100&{query}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let names =
        reply.body["data"]["data"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_owned()).collect();
    (names, reply.body["data"]["total"].as_u64().unwrap())
}

async fn catalogue(client: &Client) -> Value {
    let reply = client.get(&format!("{SCRIPT_TAGS}/tags?limit=100")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_tags_are_set_replaced_listed_and_filtered_per_tenant() {
    for (backend, client, _keep) in clients().await {
        let a = create_script(&client, "alpha").await;
        let b = create_script(&client, "beta").await;
        create_script(&client, "gamma").await;
        let set = set_script_tags(&client, &a, &[("env", "prod"), ("team", "ops")]).await;
        assert_eq!(set.status, 200, "{backend}: {}", set.body);
        assert_eq!(set.data_str(), a);
        assert_eq!(set_script_tags(&client, &b, &[("env", "dev")]).await.status, 200);

        let cat = catalogue(&client).await;
        assert_eq!(cat["total"], 2, "{backend}: {cat}");
        assert_eq!(cat["tags"][0], json!({"key": "env", "values": ["dev", "prod"]}), "{backend}");
        assert_eq!(cat["tags"][1], json!({"key": "team", "values": ["ops"]}));
        let paged = client.get(&format!("{SCRIPT_TAGS}/tags?limit=1&offset=1")).await;
        assert_eq!(paged.body["data"]["tags"], json!([{"key": "team", "values": ["ops"]}]), "{backend}");

        assert_eq!(script_names(&client, "tag=env.prod").await, (vec!["alpha".to_owned()], 1), "{backend}");
        assert_eq!(script_names(&client, "tag_key=env").await, (vec!["alpha".into(), "beta".into()], 2));
        assert_eq!(script_names(&client, "tag_key=env&name_like=bet").await.0, vec!["beta".to_owned()]);
        assert_eq!(script_names(&client, "tag=env.none").await, (vec![], 0));

        // Replacing: the old tags leave the index and the catalogue.
        assert_eq!(set_script_tags(&client, &a, &[("env", "stage")]).await.status, 200);
        assert_eq!(script_names(&client, "tag=env.prod").await.0, Vec::<String>::new(), "{backend}");
        assert_eq!(script_names(&client, "tag_key=team").await.0, Vec::<String>::new());
        assert_eq!(script_names(&client, "tag=env.stage").await.0, vec!["alpha".to_owned()]);
        let cat = catalogue(&client).await;
        assert_eq!(cat, json!({"tags": [{"key": "env", "values": ["dev", "stage"]}], "total": 1}), "{backend}");
        // An edit of the script keeps its tags.
        let detail = client.get(&format!("{SCRIPTS}/{a}")).await;
        assert_eq!(detail.status, 200);

        // Another tenant sees none of it, and cannot tag the script.
        let other = client.in_project("project-other").await;
        assert_eq!(catalogue(&other).await, json!({"tags": [], "total": 0}), "{backend}");
        assert_eq!(script_names(&other, "tag_key=env").await, (vec![], 0));
        assert_eq!(set_script_tags(&other, &a, &[("x", "y")]).await.status, 404, "{backend}");

        // Deleting a script takes its tags away.
        assert_eq!(client.delete(&format!("{SCRIPTS}/{b}")).await.status, 200);
        assert_eq!(catalogue(&client).await["tags"], json!([{"key": "env", "values": ["stage"]}]), "{backend}");
        assert_eq!(script_names(&client, "tag_key=env").await.0, vec!["alpha".to_owned()]);

        // Clearing.
        assert_eq!(set_script_tags(&client, &a, &[]).await.status, 200);
        assert_eq!(catalogue(&client).await["total"], 0, "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tags_are_refused_naming_the_field() {
    for (backend, client, _keep) in clients().await {
        let a = create_script(&client, "alpha").await;
        let eleven: Vec<(String, String)> = (0..11).map(|n| (format!("k{n}"), "v".to_owned())).collect();
        let eleven: Vec<(&str, &str)> = eleven.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let long_key = "k".repeat(129);
        let long_value = "v".repeat(256);
        let key_128 = "k".repeat(128);
        let value_255 = "v".repeat(255);
        for (pairs, field) in [
            (eleven.clone(), "tags"),
            (vec![(long_key.as_str(), "v")], "tags[0].key"),
            (vec![("k", long_value.as_str())], "tags[0].value"),
            (vec![("a", "1"), ("a", "2")], "tags"),
            (vec![("a.b", "1")], "tags[0].key"),
            (vec![("", "1")], "tags[0].key"),
        ] {
            let reply = set_script_tags(&client, &a, &pairs).await;
            assert_eq!(reply.status, 400, "{backend}: {pairs:?}");
            assert!(reply.error_msg().starts_with(&format!("{field}:")), "{backend}: {}", reply.error_msg());
        }
        let at_limits = set_script_tags(&client, &a, &[(key_128.as_str(), value_255.as_str())]).await;
        assert_eq!(at_limits.status, 200, "{backend}: {}", at_limits.body);
        let ten = &eleven[..10];
        assert_eq!(set_script_tags(&client, &a, ten).await.status, 200, "{backend}");
        let wrong_type = client.post(&format!("/v1/script/coc:job/{a}/tags/update"), &tags(&[("a", "b")])).await;
        assert_eq!(wrong_type.status, 400);
        assert!(wrong_type.error_msg().starts_with("resource_type:"), "{}", wrong_type.error_msg());
        let unknown = set_script_tags(&client, "SC-nope", &[("a", "b")]).await;
        assert_eq!(unknown.status, 404, "{backend}");
        let bad_filter = client.get(&format!("{SCRIPTS}?limit=10&tag=novalue")).await;
        assert_eq!(bad_filter.status, 400);
        assert!(bad_filter.error_msg().starts_with("tag:"));
        let bad_page = client.get(&format!("{SCRIPT_TAGS}/tags?limit=0")).await;
        assert_eq!(bad_page.status, 400);
        assert!(bad_page.error_msg().starts_with("limit:"));
    }
}

async fn register(client: &Client, agent_sn: &str) {
    let body = json!({"agent_sn": agent_sn, "resource_id": format!("res-{agent_sn}"), "region_id": "cn-north-4",
                      "host_name": format!("host-{agent_sn}"), "fixed_ip": "10.0.0.1", "os_type": "linux"});
    let reply = client.register_agent(&body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

async fn resource_ids(client: &Client, query: &str) -> Vec<String> {
    let reply = client.get(&format!("/v1/resources?limit=100&{query}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
}

async fn count(client: &Client, query: &str) -> u64 {
    let reply = client.get(&format!("/v1/resources/count?{query}")).await;
    assert_eq!(reply.status, 200, "{query}: {}", reply.body);
    reply.body["data"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_tags_filter_lists_and_counts() {
    for (backend, client, _keep) in clients().await {
        for sn in ["agent-1", "agent-2", "agent-3"] {
            register(&client, sn).await;
        }
        let added = client.post("/v1/resources/agent-1/tags", &tags(&[("env", "prod")])).await;
        assert_eq!(added.status, 200, "{backend}: {}", added.body);
        assert_eq!(added.body["data"], json!({"id": "agent-1"}));
        // Create adds: a key there takes the new value, the others stay.
        client.post("/v1/resources/agent-1/tags", &tags(&[("team", "db")])).await;
        client.post("/v1/resources/agent-2/tags", &tags(&[("env", "dev")])).await;
        client.post("/v1/resources/agent-2/tags", &tags(&[("env", "prod")])).await;
        let listed = client.get("/v1/resources/agent-1/tags").await;
        assert_eq!(listed.status, 200);
        assert_eq!(listed.body, json!({"tags": [{"key": "env", "value": "prod"}, {"key": "team", "value": "db"}]}));

        let ecs = "provider=ecs&type=cloudservers";
        assert_eq!(resource_ids(&client, &format!("{ecs}&tag=env.prod")).await, ["agent-1", "agent-2"], "{backend}");
        let page = client.get(&format!("/v1/resources?{ecs}&tag=env.prod&limit=1&marker=agent-1")).await;
        assert_eq!(page.body["data"].as_array().unwrap().len(), 1, "{backend}: {}", page.body);
        assert_eq!(page.body["data"][0]["id"], "agent-2");
        assert_eq!(resource_ids(&client, &format!("{ecs}&tag_key=team")).await, ["agent-1"]);
        assert_eq!(resource_ids(&client, &format!("{ecs}&tag=env.dev")).await, Vec::<String>::new(), "{backend}");
        let rows = client.get(&format!("/v1/resources?{ecs}&limit=10&tag_key=team")).await;
        assert_eq!(
            rows.body["data"][0]["tags"],
            json!([{"key": "env", "value": "prod"}, {"key": "team", "value": "db"}])
        );

        assert_eq!(count(&client, "").await, 3, "{backend}");
        assert_eq!(count(&client, ecs).await, 3);
        assert_eq!(count(&client, &format!("{ecs}&tag=env.prod")).await, 2);
        assert_eq!(count(&client, "tag_key=team").await, 1);
        assert_eq!(count(&client, &format!("{ecs}&agent_state=ONLINE")).await, 3);
        assert_eq!(count(&client, &format!("{ecs}&agent_state=OFFLINE")).await, 0);
        assert_eq!(count(&client, "provider=ecs&type=servers").await, 0);
        let unsupported = client.get("/v1/resources/count?name=x").await;
        assert_eq!(unsupported.status, 400);
        assert!(unsupported.error_msg().starts_with("name:"), "{}", unsupported.error_msg());
        let bad_state = client.get("/v1/resources/count?agent_state=SLEEPY").await;
        assert!(bad_state.error_msg().starts_with("agent_state:"));
        let multi = client.get("/v1/resources/multi-count").await;
        assert_eq!(multi.status, 200);
        assert_eq!(multi.body["data"][0], json!({"resource_type": "cloudservers", "count": 3}), "{backend}");
        assert_eq!(client.get("/v1/resources/multi-count?region_id=x").await.status, 400);

        // A revoked agent leaves the counts and the tag index.
        assert_eq!(client.delete("/v1/agents/agent-2").await.status, 200, "{backend}");
        assert_eq!(count(&client, ecs).await, 2);
        assert_eq!(count(&client, "tag=env.prod").await, 1, "{backend}");
        assert_eq!(resource_ids(&client, &format!("{ecs}&tag=env.prod")).await, ["agent-1"]);

        // Tenants are apart; bad tags are refused.
        let other = client.in_project("project-other").await;
        assert_eq!(count(&other, "").await, 0);
        assert_eq!(other.get("/v1/resources/agent-1/tags").await.status, 404, "{backend}");
        assert_eq!(other.post("/v1/resources/agent-1/tags", &tags(&[("a", "b")])).await.status, 404);
        let too_many: Vec<(String, String)> = (0..10).map(|n| (format!("k{n}"), "v".to_owned())).collect();
        let too_many: Vec<(&str, &str)> = too_many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let refused = client.post("/v1/resources/agent-1/tags", &tags(&too_many)).await;
        assert_eq!(refused.status, 400, "{backend}: 2 + 10 tags");
        assert!(refused.error_msg().starts_with("tags:"), "{}", refused.error_msg());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_are_batched_automatically() {
    for (backend, client, _keep) in clients().await {
        let targets: Vec<Value> =
            (0..25).map(|n| json!({"resource_id": format!("r{n}"), "agent_sn": format!("a{n}")})).collect();
        let reply = client
            .post("/v1/instances/batches", &json!({"batch_strategy": "AUTO_BATCH", "target_instances": targets}))
            .await;
        assert_eq!(reply.status, 200, "{backend}: {}", reply.body);
        let batches = reply.body["data"].as_array().unwrap();
        let sizes: Vec<usize> = batches.iter().map(|b| b["target_instances"].as_array().unwrap().len()).collect();
        assert_eq!(sizes, [1, 2, 4, 8, 10]);
        assert_eq!(batches[0]["batch_index"], 1);
        assert_eq!(batches[0]["target_instances"][0], json!({"resource_id": "r0", "agent_sn": "a0"}));
        assert_eq!(batches[4]["target_instances"][9]["resource_id"], "r24");
        for (body, field) in [
            (json!({"batch_strategy": "MANUAL_BATCH", "target_instances": [{"resource_id": "r"}]}), "batch_strategy"),
            (json!({"batch_strategy": "AUTO_BATCH", "target_instances": []}), "target_instances"),
            (
                json!({"batch_strategy": "AUTO_BATCH", "target_instances": [{"resource_id": "r"}, {"resource_id": "r"}]}),
                "target_instances[1].resource_id",
            ),
            (json!({"batch_strategy": "AUTO_BATCH", "target_instances": [{}]}), "target_instances[0].resource_id"),
        ] {
            let refused = client.post("/v1/instances/batches", &body).await;
            assert_eq!(refused.status, 400, "{backend}: {body}");
            assert!(refused.error_msg().starts_with(&format!("{field}:")), "{}", refused.error_msg());
        }
        let many: Vec<Value> = (0..201).map(|n| json!({"resource_id": format!("r{n}")})).collect();
        let refused = client
            .post("/v1/instances/batches", &json!({"batch_strategy": "AUTO_BATCH", "target_instances": many}))
            .await;
        assert_eq!(refused.status, 400);
    }
}

/// The body requests_toolbelt (the SDK's encoder) makes for the import form.
fn import_form(file: &[u8], other_type: &str, region_id: &str) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in [("type", other_type), ("region_id", region_id)] {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"hosts.csv\"\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn import(client: &Client, file: &str, other_type: &str) -> Reply {
    let body = import_form(file.as_bytes(), other_type, "cn-north-4");
    let credential = client.credential.as_ref().expect("a signing client");
    let mut headers = HeaderMap::new();
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    headers.insert("content-type", HeaderValue::from_str(&content_type).unwrap());
    headers.insert("host", HeaderValue::from_str(client.base.trim_start_matches("http://")).unwrap());
    headers.insert("x-project-id", HeaderValue::from_str(&client.project).unwrap());
    headers.insert("x-sdk-content-sha256", HeaderValue::from_static("UNSIGNED-PAYLOAD"));
    let key = AccessKey { id: &credential.access_key, secret: &credential.secret_key };
    sign_headers(&mut headers, key, "POST", IMPORT, None, &body, now_ms());
    client.send_raw("POST", IMPORT, headers, body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_are_imported_row_by_row_and_listed_and_counted() {
    for (backend, client, _keep) in clients().await {
        let file = "name,ip,os_type,os_version\nweb-1,10.1.0.1,linux,22.04\nweb-2,10.1.0.2,linux,\nbad,10.1.0.999,linux,\ndb,10.1.0.3,windows,2019\n";
        let reply = import(&client, file, "vm").await;
        assert_eq!(reply.status, 200, "{backend}: {}", reply.body);
        assert_eq!(reply.body["success"], 3);
        assert_eq!(reply.body["total"], 4);
        let errors = reply.body["error_list"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{backend}: {errors:?}");
        assert!(errors[0].as_str().unwrap().starts_with("line 4: ip"), "{errors:?}");

        // Importing again: each address once per type.
        let again = import(&client, "name,ip,os_type\nweb-1,10.1.0.1,linux\nnew,10.1.0.4,linux\n", "VM").await;
        assert_eq!(again.body["success"], 1, "{backend}: {}", again.body);
        assert!(again.body["error_list"][0].as_str().unwrap().contains("imported already"));
        assert_eq!(import(&client, "name,ip,os_type\nsw,10.1.0.1,linux\n", "Middleware").await.body["success"], 1);

        let listed = client.get("/v1/resources?provider=other&type=vm&limit=100").await;
        assert_eq!(listed.status, 200);
        let rows = listed.body["data"].as_array().unwrap();
        assert_eq!(rows.len(), 4, "{backend}: {rows:?}");
        assert!(rows.iter().all(|r| r["agent_state"].is_null() && r["type"] == "vm" && r["region_id"] == "cn-north-4"));
        let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
        for name in ["web-1", "web-2", "db", "new"] {
            assert!(names.contains(&name), "{backend}: {names:?}");
        }
        let page = client.get("/v1/resources?provider=other&type=vm&limit=2").await;
        let last = page.body["data"][1]["id"].as_str().unwrap().to_owned();
        let next = client.get(&format!("/v1/resources?provider=other&type=vm&limit=10&marker={last}")).await;
        assert_eq!(next.body["data"].as_array().unwrap().len(), 2, "{backend}");

        // Tags on an imported host.
        let db = rows.iter().find(|r| r["name"] == "db").unwrap()["id"].as_str().unwrap().to_owned();
        assert_eq!(client.post(&format!("/v1/resources/{db}/tags"), &tags(&[("role", "db")])).await.status, 200);
        let tagged = client.get("/v1/resources?provider=other&type=vm&limit=10&tag=role.db").await;
        assert_eq!(tagged.body["data"].as_array().unwrap().len(), 1, "{backend}: {}", tagged.body);
        assert_eq!(count(&client, "provider=other&tag=role.db").await, 1);

        let other_count = |query: &'static str| {
            let client = client.clone();
            async move {
                let reply = client.get(&format!("/v1/other-resources/count{query}")).await;
                assert_eq!(reply.status, 200, "{}", reply.body);
                reply.body["data"].as_str().unwrap().to_owned()
            }
        };
        assert_eq!(other_count("").await, "5", "{backend}");
        assert_eq!(other_count("?type=vm").await, "4");
        assert_eq!(other_count("?type=Middleware").await, "1");
        assert_eq!(client.get("/v1/other-resources/count?ip=1").await.status, 400);
        assert_eq!(count(&client, "").await, 5, "{backend}: no agents, 5 imported");
        assert_eq!(count(&client, "provider=other&type=PM").await, 0);
        assert_eq!(count(&client, "agent_state=null").await, 5);
        let multi = client.get("/v1/resources/multi-count").await;
        assert_eq!(multi.body["data"][1], json!({"resource_type": "vm", "count": 4}), "{backend}");

        // A file that cannot be read whole stores nothing.
        for (file, other_type, field) in [
            ("name,ip\nx,10.2.0.1\n", "vm", "file"),
            ("name,ip,os_type\n", "vm", "file"),
            ("name,ip,os_type\nx,10.2.0.1,linux\n", "tablet", "type"),
        ] {
            let refused = import(&client, file, other_type).await;
            assert_eq!(refused.status, 400, "{backend}: {file}");
            assert!(refused.error_msg().starts_with(&format!("{field}:")), "{}", refused.error_msg());
        }
        assert_eq!(other_count("").await, "5");
        let rows: String = (0..501).map(|n| format!("h{n},10.3.{}.{},linux\n", n / 250, n % 250)).collect();
        assert_eq!(import(&client, &format!("name,ip,os_type\n{rows}"), "vm").await.status, 400);

        // The other tenant sees none of them.
        let other = client.in_project("project-other").await;
        let reply = other.get("/v1/other-resources/count").await;
        assert_eq!(reply.body["data"], "0", "{backend}");
        assert_eq!(other.get(&format!("/v1/resources/{db}/tags")).await.status, 404);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_check_what_they_refresh() {
    for (backend, client, _keep) in clients().await {
        register(&client, "agent-9").await;
        let reply = client
            .post(
                "/v1/resources/uniagent/sync",
                &json!({"resource_infos": [{"id": "agent-9", "region_id": "cn-north-4"}]}),
            )
            .await;
        assert_eq!(reply.status, 200, "{backend}: {}", reply.body);
        assert!(reply.data_str().starts_with("SYNC"));
        let unknown = client
            .post("/v1/resources/uniagent/sync", &json!({"resource_infos": [{"id": "agent-9"}, {"id": "nope"}]}))
            .await;
        assert_eq!(unknown.status, 400);
        assert!(unknown.error_msg().starts_with("resource_infos[1].id:"), "{}", unknown.error_msg());
        let none = client.post("/v1/resources/uniagent/sync", &json!({"resource_infos": []})).await;
        assert_eq!(none.status, 400);
        let other = client.in_project("project-other").await;
        let theirs = other.post("/v1/resources/uniagent/sync", &json!({"resource_infos": [{"id": "agent-9"}]})).await;
        assert_eq!(theirs.status, 400, "{backend}: another tenant's agent is unknown");

        let sync = client.post("/v1/resources/sync", &json!({"provider": "ecs", "type": "cloudservers"})).await;
        assert_eq!(sync.status, 200, "{}", sync.body);
        assert_eq!(sync.body, json!({}));
        let bad = client.post("/v1/resources/sync", &json!({"provider": "rds", "type": "instances"})).await;
        assert_eq!(bad.status, 400);
        assert!(bad.error_msg().starts_with("provider:"));
    }
}

/// A tag filter reads the tag's index partition and the rows it names, in
/// the list's order: never a row without the tag, never a whole partition.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_filters_read_only_tagged_rows() {
    use std::sync::Arc;

    use coc_shared::App;
    use coc_tests::CountingStore;
    for backend in backends().await {
        let name = backend.name;
        let store = Arc::new(CountingStore::new(backend.store.clone()));
        let base = serve(App::new(store.clone(), backend.queue.clone())).await;
        let client = Client::new(&base, store.clone(), "project-reads").await;
        for i in 0..45 {
            let uuid = create_script(&client, &format!("s{i:02}")).await;
            if i % 3 == 0 {
                assert_eq!(
                    set_script_tags(&client, &uuid, &[("env", "prod"), ("n", &i.to_string())]).await.status,
                    200
                );
            }
        }
        store.take_reads();
        let reply = client.get(&format!("{SCRIPTS}?limit=10&tag=env.prod")).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        let reads = store.take_reads();
        let rows = reply.body["data"]["data"].as_array().unwrap();
        let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
        let expected: Vec<String> = (0..10).map(|i| format!("s{:02}", i * 3)).collect();
        assert_eq!(names, expected, "{name}");
        assert_eq!(reply.body["data"]["total"], 15, "{name}");
        assert!(reads.iter().all(|r| r.call != "query_prefix"), "{name}: {reads:?}");
        let index_items: usize = reads.iter().filter(|r| r.call == "query_index").map(|r| r.items).sum();
        assert!(index_items <= 10, "{name}: {reads:?}");
        // The rows, the catalogue, and the caller's credential: no untagged script.
        let gets = reads.iter().filter(|r| r.call == "get").count();
        assert!(gets <= 10 + 3, "{name}: {gets} gets: {reads:?}");

        // Paging by marker walks the 15 once.
        let last = rows.last().unwrap()["id"].as_u64().unwrap();
        let next = client.get(&format!("{SCRIPTS}?limit=10&tag=env.prod&marker={last}")).await;
        assert_eq!(next.body["data"]["data"].as_array().unwrap().len(), 5, "{name}");
    }
}

/// Agents registered before `COUNT#AGENT` was kept: not counted, revoked
/// without a negative count, counted by `coc-admin reindex` or by registering again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_from_before_the_count_are_counted_by_reindex() {
    use coc_shared::domain::tenant::ProjectId;
    use coc_shared::repositories::{jobs, reindex::reindex};
    for (backend, client, keep) in clients().await {
        let project = ProjectId::parse("project-tags".to_owned()).unwrap();
        for sn in ["old-1", "old-2", "old-3"] {
            register(&client, sn).await;
            // As an older version stored it: no `counted`, not in the count.
            let stored = jobs::get_agent_versioned(keep.store.as_ref(), &project, sn).await.unwrap().unwrap();
            let mut old = stored.value.clone();
            old.counted = false;
            let ops = vec![jobs::agent_put_op(&old, Some(stored.version)).unwrap(), jobs::agent_count_op(&project, -1)];
            keep.store.write(ops).await.unwrap();
        }
        assert_eq!(count(&client, "").await, 0, "{backend}");
        assert_eq!(client.delete("/v1/agents/old-3").await.status, 200);
        assert_eq!(count(&client, "").await, 0, "{backend}: an uncounted agent is not uncounted");
        register(&client, "old-2").await;
        assert_eq!(count(&client, "").await, 1, "{backend}: registering again counts it");
        let done = reindex(keep.store.as_ref(), &project).await.unwrap();
        assert_eq!((done.agents_read, done.agents_indexed), (2, 1), "{backend}");
        assert_eq!(count(&client, "").await, 2, "{backend}");
        let again = reindex(keep.store.as_ref(), &project).await.unwrap();
        assert_eq!(again.agents_indexed, 0, "{backend}: a second run changes nothing");
    }
}

/// Tag changes of different records race on the tenant's catalogue: each
/// lands whole (a lost race starts over), and the catalogue counts every use.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_tag_changes_all_land_in_the_catalogue() {
    for (backend, client, _keep) in clients().await {
        let mut uuids = Vec::new();
        for i in 0..5 {
            uuids.push(create_script(&client, &format!("race{i}")).await);
        }
        let runs: Vec<_> = uuids
            .iter()
            .enumerate()
            .map(|(i, uuid)| {
                let (client, uuid) = (client.clone(), uuid.clone());
                tokio::spawn(async move {
                    set_script_tags(&client, &uuid, &[("shared", "yes"), ("own", &format!("v{i}"))]).await.status
                })
            })
            .collect();
        for run in runs {
            assert_eq!(run.await.unwrap(), 200, "{backend}");
        }
        assert_eq!(script_names(&client, "tag=shared.yes").await.1, 5, "{backend}");
        let cat = catalogue(&client).await;
        assert_eq!(cat["tags"][0], json!({"key": "own", "values": ["v0", "v1", "v2", "v3", "v4"]}), "{backend}");
    }
}
