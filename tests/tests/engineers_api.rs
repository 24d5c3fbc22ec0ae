//! O&M engineers over HTTP, on every backend: synchronization from the
//! tenant's access keys, federated users (added once, even when racing),
//! validation of every contact field with nothing written on refusal, the
//! webhook host policy (SSRF), masked keys, tenant isolation, and the list's
//! paging, filters and count.

use std::sync::Arc;

use serde_json::{json, Value};

use coc_shared::domain::engineer::webhook::AllowedHosts;
use coc_shared::domain::tenant::ProjectId;
use coc_shared::ports::Store;
use coc_shared::repositories::engineers;
use coc_tests::{backends, serve, Backend, Client, Reply};

const ENGINEERS: &str = "/v1/engineers";
const DINGTALK: &str = "https://oapi.dingtalk.com/robot/send?access_token=abc";
const LARK: &str = "https://open.feishu.cn/open-apis/bot/v2/hook/abc";

async fn client(backend: &Backend, project: &str) -> Client {
    client_with(backend, project, AllowedHosts::none()).await
}

async fn client_with(backend: &Backend, project: &str, hosts: AllowedHosts) -> Client {
    let app = backend.app().with_webhook_hosts(hosts);
    Client::new(&serve(app).await, backend.store.clone(), project).await
}

fn federated(name: &str) -> Value {
    json!({"user_name": name, "alias": format!("{name} alias"), "identity_provider": "corp-idp"})
}

async fn add(client: &Client, name: &str) -> Value {
    let reply = client.post(ENGINEERS, &federated(name)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"].clone()
}

fn assert_refused(reply: &Reply, field: &str, context: &str) {
    assert_eq!(reply.status, 400, "{context}: {}", reply.body);
    assert!(reply.error_msg().contains(field), "{context}: the refusal must name {field}: {}", reply.error_msg());
}

async fn count(client: &Client, query: &str) -> u64 {
    let reply = client.get(&format!("{ENGINEERS}?{query}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["count"].as_u64().expect("a count")
}

#[tokio::test]
async fn sync_makes_an_engineer_of_every_user_and_keeps_edits() {
    for backend in backends().await {
        let alice = client(&backend, "p-sync").await;
        let bob = alice.as_user("u-bob", "bob").await;
        let _bobs_second_key = alice.as_user("u-bob", "bob").await;
        let _other_tenant = alice.in_project("p-sync-other").await;
        let agent = alice
            .register_agent(&json!({"agent_sn": "ag-1", "resource_id": "res-1", "region_id": "local"}))
            .await;
        assert_eq!(agent.status, 200, "{}", agent.body);

        let first = bob.post(&format!("{ENGINEERS}/sync"), &json!({})).await;
        assert_eq!(first.status, 200, "{}: {}", backend.name, first.body);
        assert_eq!(first.body["data"], json!({"added": 2, "kept": 0, "complete": true}), "{}", backend.name);
        let edited = alice.put(&format!("{ENGINEERS}/u-alice"), &json!({"alias": "Alice on call"})).await;
        assert_eq!(edited.status, 200, "{}", edited.body);

        let again = alice.post(&format!("{ENGINEERS}/sync"), &json!({})).await;
        assert_eq!(again.body["data"], json!({"added": 0, "kept": 2, "complete": true}), "{}", backend.name);
        let kept = alice.get(&format!("{ENGINEERS}/u-alice")).await;
        assert_eq!(kept.body["data"]["alias"], "Alice on call", "{}: sync keeps edits", backend.name);
        assert_eq!(kept.body["data"]["source"], "IAM");
        assert_eq!(kept.body["data"]["user_name"], "alice");

        let _carol = alice.as_user("u-carol", "carol").await;
        let third = alice.post(&format!("{ENGINEERS}/sync"), &json!({})).await;
        assert_eq!(third.body["data"], json!({"added": 1, "kept": 2, "complete": true}), "{}", backend.name);
        let list = alice.get(ENGINEERS).await;
        let ids: Vec<&str> = list.body["data"].as_array().unwrap().iter().map(|e| e["user_id"].as_str().unwrap()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(sorted, ["u-alice", "u-bob", "u-carol"], "{}: agents and other tenants are no users", backend.name);
        assert_eq!(list.body["count"], 3);
    }
}

#[tokio::test]
async fn federated_users_are_validated_and_added_once() {
    for backend in backends().await {
        let client = client(&backend, "p-fed").await;
        let added = add(&client, "sso.dana@corp").await;
        assert_eq!(added["user_id"], "sso.dana@corp");
        assert_eq!(added["source"], "FEDERATED");
        assert_eq!(added["identity_provider"], "corp-idp");
        assert_eq!(added["alias"], "sso.dana@corp alias");

        let twice = client.post(ENGINEERS, &federated("sso.dana@corp")).await;
        assert_refused(&twice, "user_name", "a second add");
        assert!(twice.error_msg().contains("already"), "{}", twice.error_msg());

        let refusals = [
            (json!({"user_name": "has space", "identity_provider": "idp"}), "user_name"),
            (json!({"user_name": "a".repeat(65), "identity_provider": "idp"}), "user_name"),
            (json!({"user_name": "", "identity_provider": "idp"}), "user_name"),
            (json!({"user_name": "eve"}), "identity_provider"),
            (json!({"user_name": "eve", "identity_provider": "idp/evil"}), "identity_provider"),
            (json!({"user_name": "eve", "identity_provider": "idp", "alias": "x".repeat(65)}), "alias"),
            (json!({"user_name": "eve", "identity_provider": "idp", "mobile": "+8613800000000"}), "mobile"),
        ];
        for (body, field) in refusals {
            assert_refused(&client.post(ENGINEERS, &body).await, field, &format!("{}: {body}", backend.name));
        }
        assert_eq!(count(&client, "").await, 1, "{}: refusals write nothing", backend.name);
    }
}

#[tokio::test]
async fn racing_adds_of_one_federated_user_land_once() {
    for backend in backends().await {
        let client = client(&backend, "p-race").await;
        let attempts = (0..8).map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.post(ENGINEERS, &federated("sso.racer")).await.status })
        });
        let mut statuses = Vec::new();
        for attempt in attempts {
            statuses.push(attempt.await.unwrap());
        }
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{}: {statuses:?}", backend.name);
        assert!(statuses.iter().all(|s| *s == 200 || *s == 400), "{}: {statuses:?}", backend.name);
        assert_eq!(count(&client, "").await, 1, "{}", backend.name);
        assert_eq!(count(&client, "source=FEDERATED").await, 1, "{}", backend.name);
    }
}

#[tokio::test]
async fn modify_checks_every_field_and_writes_nothing_it_refuses() {
    for backend in backends().await {
        let client = client(&backend, "p-modify").await;
        add(&client, "erin").await;
        let path = format!("{ENGINEERS}/erin");
        let before = client.get(&path).await.body["data"].clone();
        let refusals = [
            (json!({"mobile": "13800000000"}), "mobile"),
            (json!({"mobile": "+0138000000"}), "mobile"),
            (json!({"mobile": "+1234567"}), "mobile"),
            (json!({"mobile": "+1234567890123456"}), "mobile"),
            (json!({"email": "not-an-address"}), "email"),
            (json!({"email": "ops@localhost"}), "email"),
            (json!({"email": "a..b@example.com"}), "email"),
            (json!({"alias": "x".repeat(65)}), "alias"),
            (json!({"dingtalk_key": "SECabc"}), "dingtalk_key"),
            (json!({"lark_key": "k"}), "lark_key"),
            (json!({"dingtalk_webhook": DINGTALK, "dingtalk_key": "has space"}), "dingtalk_key"),
            (json!({"user_name": "renamed"}), "user_name"),
            // A good field with a bad one: all or nothing.
            (json!({"alias": "Erin", "email": "erin@example.com", "mobile": "nope"}), "mobile"),
        ];
        for (body, field) in refusals {
            assert_refused(&client.put(&path, &body).await, field, &format!("{}: {body}", backend.name));
        }
        assert_eq!(client.get(&path).await.body["data"], before, "{}: nothing was written", backend.name);

        let saved = client
            .put(&path, &json!({"alias": "Erin", "mobile": "+8613800001234", "email": "erin@example.com"}))
            .await;
        assert_eq!(saved.status, 200, "{}", saved.body);
        assert_eq!(saved.body["data"]["mobile"], "+8613800001234");
        assert_eq!(saved.body["data"]["email"], "erin@example.com");
        // Null and "" clear; an absent field stays.
        let cleared = client.put(&path, &json!({"alias": null, "email": ""})).await;
        assert_eq!(cleared.status, 200, "{}", cleared.body);
        assert_eq!(cleared.body["data"]["alias"], Value::Null);
        assert_eq!(cleared.body["data"]["email"], Value::Null);
        assert_eq!(cleared.body["data"]["mobile"], "+8613800001234");

        assert_eq!(client.put(&format!("{ENGINEERS}/nobody"), &json!({"alias": "x"})).await.status, 404);
    }
}

#[tokio::test]
async fn webhooks_reach_only_vendor_hosts_or_allow_listed_ones() {
    for backend in backends().await {
        let hosts = AllowedHosts::parse("127.0.0.1:18099").unwrap();
        let client = client_with(&backend, "p-ssrf", hosts).await;
        add(&client, "frank").await;
        let path = format!("{ENGINEERS}/frank");
        let refusals = [
            ("wecom_webhook", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"),
            ("wecom_webhook", "https://evil.example/cgi-bin/webhook/send"),
            ("wecom_webhook", "https://qyapi.weixin.qq.com.evil.example/x"),
            ("dingtalk_webhook", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"),
            ("dingtalk_webhook", "https://169.254.169.254/latest/meta-data/"),
            ("dingtalk_webhook", "https://[::1]/robot"),
            ("dingtalk_webhook", "https://user:pw@oapi.dingtalk.com/robot/send"),
            ("dingtalk_webhook", "https://oapi.dingtalk.com@127.0.0.1:18099/robot"),
            ("lark_webhook", "https://localhost/hook"),
            ("lark_webhook", "https://127.0.0.1/hook"),
            ("lark_webhook", "http://127.0.0.1:18098/hook"),
            ("lark_webhook", "http://u@127.0.0.1:18099/hook"),
            ("lark_webhook", "file:///etc/passwd"),
        ];
        for (field, url) in refusals {
            let reply = client.put(&path, &json!({ field: url })).await;
            assert_refused(&reply, field, &format!("{}: {url}", backend.name));
        }
        let vendors = client
            .put(&path, &json!({"wecom_webhook": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
                                "dingtalk_webhook": DINGTALK, "lark_webhook": LARK}))
            .await;
        assert_eq!(vendors.status, 200, "{}", vendors.body);
        let local = client.put(&path, &json!({"lark_webhook": "http://127.0.0.1:18099/hook"})).await;
        assert_eq!(local.status, 200, "{}: an allow-listed receiver: {}", backend.name, local.body);
        assert_eq!(local.body["data"]["lark_webhook"], "http://127.0.0.1:18099/hook");
    }
}

/// Whether any stored item of the engineer holds `text`.
async fn stored_holds(store: &Arc<dyn Store>, project: &str, user_id: &str, text: &str) -> bool {
    let project = ProjectId::parse(project).unwrap();
    let engineer = engineers::get(store.as_ref(), &project, user_id).await.unwrap().expect("stored");
    serde_json::to_string(&engineer.value).unwrap().contains(text)
}

#[tokio::test]
async fn signing_keys_are_sealed_and_read_back_masked() {
    for backend in backends().await {
        let client = client(&backend, "p-keys").await;
        add(&client, "gina").await;
        let path = format!("{ENGINEERS}/gina");
        let secret = "SEC0123456789abcdef-never-shown";
        let saved =
            client.put(&path, &json!({"dingtalk_webhook": DINGTALK, "dingtalk_key": secret, "lark_webhook": LARK})).await;
        assert_eq!(saved.status, 200, "{}", saved.body);
        assert_eq!(saved.body["data"]["dingtalk_key"], "******");
        assert_eq!(saved.body["data"]["lark_key"], Value::Null);
        let read = client.get(&path).await;
        assert_eq!(read.body["data"]["dingtalk_key"], "******");
        assert!(!read.body.to_string().contains(secret), "{}", backend.name);
        assert!(!stored_holds(&backend.store, "p-keys", "gina", secret).await, "{}: sealed at rest", backend.name);

        // Another edit leaves the key; removing the robot removes it.
        let alias = client.put(&path, &json!({"alias": "G"})).await;
        assert_eq!(alias.body["data"]["dingtalk_key"], "******");
        let removed = client.put(&path, &json!({"dingtalk_webhook": null})).await;
        assert_eq!(removed.status, 200, "{}", removed.body);
        assert_eq!(removed.body["data"]["dingtalk_key"], Value::Null);
        assert_eq!(removed.body["data"]["dingtalk_webhook"], Value::Null);
    }
}

#[tokio::test]
async fn another_tenants_engineers_are_invisible_and_untouchable() {
    for backend in backends().await {
        let owner = client(&backend, "p-owner").await;
        add(&owner, "hank").await;
        let stranger = owner.in_project("p-stranger").await;
        let path = format!("{ENGINEERS}/hank");
        assert_eq!(stranger.get(&path).await.status, 404, "{}", backend.name);
        assert_eq!(stranger.put(&path, &json!({"alias": "mine"})).await.status, 404);
        assert_eq!(stranger.delete(&path).await.status, 404);
        assert_eq!(stranger.get(&format!("{path}/subscriptions")).await.status, 404);
        assert_eq!(stranger.post(&format!("{path}/subscriptions"), &json!({"channels": ["EMAIL"]})).await.status, 404);
        assert_eq!(count(&stranger, "").await, 0);
        // The stranger may have an engineer of the same name: a different one.
        add(&stranger, "hank").await;
        assert_eq!(stranger.put(&path, &json!({"alias": "theirs"})).await.status, 200);
        let untouched = owner.get(&path).await;
        assert_eq!(untouched.body["data"]["alias"], "hank alias", "{}", backend.name);
        assert_eq!(count(&owner, "").await, 1);
    }
}

#[tokio::test]
async fn the_list_pages_in_creation_order_with_filters_and_counts() {
    for backend in backends().await {
        let client = client(&backend, "p-list").await;
        for name in ["ops-a1", "OPS-a2", "dev-b1", "ops-a3", "dev-b2"] {
            add(&client, name).await;
        }
        client.post(&format!("{ENGINEERS}/sync"), &json!({})).await;

        let mut seen: Vec<Value> = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let query = match &marker {
                Some(m) => format!("{ENGINEERS}?limit=2&marker={}", m.replace('#', "%23")),
                None => format!("{ENGINEERS}?limit=2"),
            };
            let page = client.get(&query).await;
            assert_eq!(page.status, 200, "{}", page.body);
            assert_eq!(page.body["count"], 6, "{}", backend.name);
            seen.extend(page.body["data"].as_array().unwrap().iter().cloned());
            match page.body["next_marker"].as_str() {
                Some(next) => marker = Some(next.to_owned()),
                None => break,
            }
        }
        let ids: Vec<&str> = seen.iter().map(|e| e["user_id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 6, "{}: {ids:?}", backend.name);
        let order: Vec<(i64, &str)> = seen.iter().map(|e| (e["create_time"].as_i64().unwrap(), e["user_id"].as_str().unwrap())).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted, "{}: oldest first", backend.name);

        assert_eq!(count(&client, "source=FEDERATED").await, 5);
        assert_eq!(count(&client, "source=IAM").await, 1);
        let ops = client.get(&format!("{ENGINEERS}?user_name=OPS-A")).await;
        let names: Vec<&str> = ops.body["data"].as_array().unwrap().iter().map(|e| e["user_name"].as_str().unwrap()).collect();
        assert_eq!(names, ["ops-a1", "OPS-a2", "ops-a3"], "{}: case-insensitive", backend.name);
        assert_eq!(ops.body["count"], 3);
        assert_eq!(count(&client, "user_name=b2&source=FEDERATED").await, 1);
        assert_eq!(count(&client, "user_name=ops&source=IAM").await, 0);
        assert_refused(&client.get(&format!("{ENGINEERS}?source=LDAP")).await, "source", "bad source");
        assert_refused(&client.get(&format!("{ENGINEERS}?marker=nope")).await, "marker", "bad marker");
        assert_refused(&client.get(&format!("{ENGINEERS}?limit=0")).await, "limit", "bad limit");
        assert_refused(&client.get(&format!("{ENGINEERS}?user_name={}", "x".repeat(65))).await, "user_name", "long");
    }
}

#[tokio::test]
async fn deleting_an_engineer_uncounts_it() {
    for backend in backends().await {
        let client = client(&backend, "p-delete").await;
        add(&client, "ivan").await;
        add(&client, "jane").await;
        let path = format!("{ENGINEERS}/ivan");
        let deleted = client.delete(&path).await;
        assert_eq!(deleted.status, 200, "{}", deleted.body);
        assert_eq!(deleted.body["data"], "ivan");
        assert_eq!(client.get(&path).await.status, 404);
        assert_eq!(client.delete(&path).await.status, 404);
        assert_eq!(count(&client, "").await, 1, "{}", backend.name);
        assert_eq!(count(&client, "source=FEDERATED").await, 1);
        // The user can be added again.
        add(&client, "ivan").await;
        assert_eq!(count(&client, "").await, 2);
    }
}
