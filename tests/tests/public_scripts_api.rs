//! The public script library over HTTP, on every backend: the list's filters,
//! paging and bad queries, a script's detail, and an execution making a ticket
//! in the caller's tenant only, from the library's script as it is.

use serde_json::{json, Value};

use coc_shared::domain::public_script;
use coc_tests::{backends, serve, Client};

const PUBLIC: &str = "/v1/job/public-scripts";
const ORDERS: &str = "/v1/job/script/orders";

/// A local server per backend, with a client of tenant `p-pub` and one registered agent, a1.
async fn clients() -> Vec<(&'static str, Client, coc_tests::Backend)> {
    let mut all = Vec::new();
    for backend in backends().await {
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "p-pub").await;
        register(&client, "a1").await;
        all.push((backend.name, client, backend));
    }
    all
}

async fn register(client: &Client, agent_sn: &str) {
    let body = json!({"agent_sn": agent_sn, "resource_id": format!("res-{agent_sn}"), "region_id": "local",
                      "host_name": format!("host-{agent_sn}"), "fixed_ip": "10.0.0.1", "os_type": "linux"});
    let reply = client.register_agent(&body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

fn uuid_of(name: &str) -> String {
    public_script::all().iter().find(|p| p.script.name.as_str() == name).unwrap().script.script_uuid.clone()
}

fn execution(agent_sn: &str, project: &str, params: Value) -> Value {
    json!({
        "execute_param": {"timeout": 60, "success_rate": 100, "execute_user": "root", "script_params": params},
        "execute_batches": [{"batch_index": 1, "rotation_strategy": "CONTINUE", "target_instances": [
            {"resource_id": format!("res-{agent_sn}"), "agent_sn": agent_sn, "project_id": project, "region_id": "local"}]}]
    })
}

async fn list(client: &Client, query: &str) -> Value {
    let reply = client.get(&format!("{PUBLIC}?{query}")).await;
    assert_eq!(reply.status, 200, "{query}: {}", reply.body);
    reply.body["data"].clone()
}

fn names(page: &Value) -> Vec<String> {
    page["data"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_filters_and_pages_the_library() {
    let library = public_script::all();
    for (backend, client, _keep) in clients().await {
        let everything = list(&client, "limit=100").await;
        assert_eq!(everything["total"], library.len(), "{backend}");
        let rows = everything["data"].as_array().unwrap();
        assert_eq!(rows.len(), library.len());
        let first = &rows[0];
        assert_eq!(first["id"], 1);
        assert_eq!(first["script_uuid"], "PSC2026120100000000000001");
        assert_eq!(first["name"], "disk_usage_report");
        assert_eq!(first["type"], "SHELL");
        assert_eq!(first["status"], "APPROVED");
        assert_eq!(first["gmt_created"], public_script::GMT_CREATED);
        assert!(!first["description"].as_str().unwrap().is_empty());
        assert_eq!(first["properties"], json!({"risk_level": "LOW", "version": "1.0.0"}));
        assert!(first.get("content").is_none(), "{backend}: the list shows no content");

        // Pages follow the id of the last row (marker), the total counts every match.
        let page1 = list(&client, "limit=5").await;
        let page2 = list(&client, "limit=5&marker=5").await;
        assert_eq!(page1["total"], library.len());
        let ids = |page: &Value| {
            page["data"].as_array().unwrap().iter().map(|s| s["id"].as_u64().unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(ids(&page1), [1, 2, 3, 4, 5]);
        assert_eq!(ids(&page2), [6, 7, 8, 9, 10]);
        assert_eq!(list(&client, &format!("limit=5&marker={}", library.len())).await["data"], json!([]));

        let exact = list(&client, "limit=100&name=rotate_log").await;
        assert_eq!(names(&exact), ["rotate_log"]);
        assert_eq!(exact["total"], 1);
        assert_eq!(list(&client, "limit=100&name=rotate").await["total"], 0, "{backend}: name is exact");
        let like = list(&client, "limit=100&name_like=CHECK").await;
        assert!(names(&like).iter().all(|n| n.starts_with("check_")) && names(&like).len() >= 5, "{like}");
        let inner = list(&client, "limit=100&name_like=disk").await;
        assert_eq!(names(&inner), ["disk_usage_report"], "{backend}: name_like is the start of the name");
        let high = list(&client, "limit=100&risk_level=HIGH").await;
        assert_eq!(names(&high), ["clean_old_logs", "restart_systemd_service"]);
        let high_page = list(&client, "limit=1&marker=2&risk_level=HIGH").await;
        assert_eq!(
            (names(&high_page), high_page["total"].clone()),
            (vec!["restart_systemd_service".to_owned()], json!(2))
        );
        assert_eq!(list(&client, "limit=100&type=SHELL").await["total"], library.len());
        assert_eq!(list(&client, "limit=100&type=PYTHON").await["total"], 0);
        let both = list(&client, "limit=100&risk_level=MEDIUM&name_like=rot").await;
        assert_eq!(names(&both), ["rotate_log"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_list_query_is_a_400_naming_the_field() {
    for (backend, client, _keep) in clients().await {
        let long = "a".repeat(65);
        let like = "a".repeat(33);
        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=ten", "limit"),
            ("limit=10&marker=-1", "marker"),
            ("limit=10&marker=x", "marker"),
            ("limit=10&risk_level=EXTREME", "risk_level"),
            ("limit=10&type=RUBY", "type"),
            (&format!("limit=10&name={long}"), "name"),
            (&format!("limit=10&name_like={like}"), "name_like"),
        ] {
            let reply = client.get(&format!("{PUBLIC}?{query}")).await;
            assert_eq!(reply.status, 400, "{backend}: {query}: {}", reply.body);
            assert!(reply.error_msg().contains(field), "{backend}: {query}: {}", reply.error_msg());
        }
        assert_eq!(client.get(&format!("{PUBLIC}?limit=100&marker=0")).await.status, 200);
        let unlimited = client.get(PUBLIC).await;
        assert_eq!(unlimited.status, 200, "{backend}: limit is optional: {}", unlimited.body);
        assert_eq!(unlimited.body["data"]["data"].as_array().unwrap().len(), public_script::all().len());
        assert_eq!(client.unauthenticated().get(&format!("{PUBLIC}?limit=10")).await.status, 401);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_shows_its_content_and_typed_parameters() {
    for (backend, client, _keep) in clients().await {
        let uuid = uuid_of("rotate_log");
        let reply = client.get(&format!("{PUBLIC}/{uuid}")).await;
        assert_eq!(reply.status, 200, "{backend}: {}", reply.body);
        let d = &reply.body["data"];
        assert_eq!(d["script_uuid"], uuid.as_str());
        assert_eq!(d["name"], "rotate_log");
        assert_eq!(d["type"], "SHELL");
        assert_eq!(d["content"], include_str!("../../shared/public-scripts/rotate_log.sh"));
        assert_eq!(d["properties"], json!({"risk_level": "MEDIUM", "version": "1.0.0"}));
        assert_eq!(d["gmt_created"], public_script::GMT_CREATED);
        let params = d["script_params"].as_array().unwrap();
        let shown: Vec<(&str, &str, u64)> = params
            .iter()
            .map(|p| {
                (
                    p["param_name"].as_str().unwrap(),
                    p["param_value"].as_str().unwrap(),
                    p["param_order"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(shown, [("log_file", "", 1), ("keep", "5", 2), ("compress", "true", 3)]);
        assert!(params.iter().all(|p| p["sensitive"] == false && !p["param_description"].as_str().unwrap().is_empty()));
        assert_eq!(d["required_params"], json!(["log_file"]));

        let http = client.get(&format!("{PUBLIC}/{}", uuid_of("check_http_endpoint"))).await;
        let token = &http.body["data"]["script_params"][3];
        assert_eq!((token["param_name"].as_str(), token["sensitive"].as_bool()), (Some("bearer_token"), Some(true)));

        let missing = client.get(&format!("{PUBLIC}/PSC2026120100000000009999")).await;
        assert_eq!(missing.status, 404, "{backend}: {}", missing.body);
        assert!(missing.error_msg().contains("PSC2026120100000000009999"));
        // A tenant's script is not a public one, nor the other way round.
        let tenant = client.post("/v1/job/scripts", &coc_tests::script_body("mine")).await.data_str();
        assert_eq!(client.get(&format!("{PUBLIC}/{tenant}")).await.status, 404);
        assert_eq!(client.get(&format!("/v1/job/scripts/{uuid}")).await.status, 404);
        assert_eq!(
            client.get(&format!("{PUBLIC}/{}", "a".repeat(26))).await.status,
            400,
            "{backend}: past the uuid limit"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_execution_is_a_ticket_of_the_callers_tenant_only() {
    for (backend, client, _keep) in clients().await {
        let restart = uuid_of("restart_systemd_service");
        let params = json!([{"param_name": "service_name", "param_value": "cron", "param_order": 1}]);
        let reply = client.post(&format!("{PUBLIC}/{restart}"), &execution("a1", "p-pub", params.clone())).await;
        assert_eq!(reply.status, 200, "{backend}: {}", reply.body);
        let execute_uuid = reply.data_str();
        assert!(execute_uuid.starts_with("SCT"), "{execute_uuid}");

        let ticket = client.get(&format!("{ORDERS}/{execute_uuid}")).await;
        assert_eq!(ticket.status, 200, "{backend}: {}", ticket.body);
        let properties = &ticket.body["data"]["properties"];
        assert_eq!(properties["script_uuid"], restart.as_str());
        assert_eq!(properties["script_name"], "restart_systemd_service");
        assert_eq!(properties["script_version_name"], "1.0.0");
        let listed = client.get(&format!("{ORDERS}?limit=10")).await;
        assert_eq!(listed.status, 200, "{}", listed.body);
        assert!(listed.body.to_string().contains(&execute_uuid), "{backend}: the tenant lists its ticket");
        // Nothing was copied into the tenant's own scripts.
        assert_eq!(client.get("/v1/job/scripts?limit=10").await.body["data"]["total"], 0, "{backend}");

        // The agent gets the library's script, with the value given and the defaults.
        let jobs = client.agent("a1").get("/v1/agents/a1/jobs?wait_seconds=5").await;
        assert_eq!(jobs.status, 200, "{}", jobs.body);
        let job = &jobs.body["data"][0];
        assert_eq!(job["execute_uuid"], execute_uuid.as_str());
        assert_eq!(job["content"], include_str!("../../shared/public-scripts/restart_systemd_service.sh"), "{job}");
        assert!(job.to_string().contains("cron"), "{job}");

        // Another tenant sees neither the ticket nor the agent, but has the same library.
        let other = client.in_project("p-other").await;
        assert_eq!(other.get(&format!("{ORDERS}/{execute_uuid}")).await.status, 404, "{backend}");
        assert!(!other.get(&format!("{ORDERS}?limit=10")).await.body.to_string().contains(&execute_uuid));
        assert_eq!(list(&other, "limit=100").await["total"], public_script::all().len());
        let foreign = other.post(&format!("{PUBLIC}/{restart}"), &execution("a1", "p-other", params.clone())).await;
        assert_eq!(foreign.status, 400, "{backend}: a1 is not p-other's: {}", foreign.body);
        assert!(foreign.error_msg().contains("agent_sn"), "{}", foreign.error_msg());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameters_are_checked_like_a_tenant_scripts_and_secrets_stay_hidden() {
    for (backend, client, _keep) in clients().await {
        let restart = uuid_of("restart_systemd_service");
        let post = |uuid: String, params: Value| {
            let client = client.clone();
            async move { client.post(&format!("{PUBLIC}/{uuid}"), &execution("a1", "p-pub", params)).await }
        };
        let none = post(restart.clone(), json!([])).await;
        assert_eq!(none.status, 400, "{backend}: {}", none.body);
        assert!(
            none.error_msg().contains("service_name") && none.error_msg().contains("required"),
            "{}",
            none.error_msg()
        );
        let empty =
            post(restart.clone(), json!([{"param_name": "service_name", "param_value": "", "param_order": 1}])).await;
        assert_eq!(empty.status, 400, "{backend}: {}", empty.body);
        let unknown = post(
            restart.clone(),
            json!([{"param_name": "service_name", "param_value": "cron", "param_order": 1},
                                                   {"param_name": "other", "param_value": "x", "param_order": 2}]),
        )
        .await;
        assert_eq!(unknown.status, 400, "{backend}: {}", unknown.body);
        assert!(unknown.error_msg().contains("no parameter named other"), "{}", unknown.error_msg());
        let bad_value =
            post(restart.clone(), json!([{"param_name": "service_name", "param_value": "a;b", "param_order": 1}]))
                .await;
        assert_eq!(bad_value.status, 400, "{backend}: {}", bad_value.body);
        assert!(bad_value.error_msg().contains("param_value"), "{}", bad_value.error_msg());
        let missing = post("PSC2026120100000000009999".into(), json!([])).await;
        assert_eq!(missing.status, 404, "{backend}: {}", missing.body);
        let no_body = client.post(&format!("{PUBLIC}/{restart}"), &json!({})).await;
        assert_eq!(no_body.status, 400, "{backend}: {}", no_body.body);
        assert_eq!(
            client.get(&format!("{ORDERS}?limit=10")).await.body["data"]["total"],
            0,
            "{backend}: no ticket made"
        );

        // A sensitive value reaches the agent and no view.
        let http = uuid_of("check_http_endpoint");
        let reply = post(
            http,
            json!([{"param_name": "url", "param_value": "http://127.0.0.1:1/", "param_order": 1},
                                      {"param_name": "bearer_token", "param_value": "tok-s3cr3t", "param_order": 2}]),
        )
        .await;
        assert_eq!(reply.status, 200, "{backend}: {}", reply.body);
        let execute_uuid = reply.data_str();
        let ticket = client.get(&format!("{ORDERS}/{execute_uuid}")).await;
        assert!(!ticket.body.to_string().contains("tok-s3cr3t"), "{backend}: {}", ticket.body);
        let jobs = client.agent("a1").get("/v1/agents/a1/jobs?wait_seconds=5").await;
        assert!(jobs.body.to_string().contains("tok-s3cr3t"), "{backend}: the agent needs it: {}", jobs.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_and_a_script_read_nothing_but_the_callers_key() {
    use std::sync::Arc;

    use coc_shared::App;
    use coc_tests::CountingStore;

    for backend in backends().await {
        let store = Arc::new(CountingStore::new(backend.store.clone()));
        let client =
            Client::new(&serve(App::new(store.clone(), backend.queue.clone())).await, store.clone(), "p-mem").await;
        for path in [format!("{PUBLIC}?limit=100&name_like=check"), format!("{PUBLIC}/{}", uuid_of("tail_log"))] {
            store.take_reads();
            let reply = client.get(&path).await;
            assert_eq!(reply.status, 200, "{}: {path}: {}", backend.name, reply.body);
            let reads = store.take_reads();
            assert!(reads.iter().all(|r| r.call == "get" && r.items <= 1), "{}: {path} read {reads:?}", backend.name);
            assert!(reads.len() <= 2, "{}: {path}: only the credential: {reads:?}", backend.name);
        }
    }
}
