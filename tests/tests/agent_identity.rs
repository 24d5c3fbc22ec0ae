//! Each agent has its own identity, on every backend: registering returns a
//! credential for that agent alone; agent endpoints accept only it, for the
//! agent's own jobs; users' keys are refused there and agents' credentials
//! everywhere else; activations are limited in uses and lifetime; revocation
//! stops an agent at once.

use serde_json::{json, Value};

use coc_shared::auth::agents::{self, ActivationRequest};
use coc_shared::clock::now_ms;
use coc_tests::{backends, serve, Backend, Client};

fn host(agent_sn: &str) -> Value {
    json!({"agent_sn": agent_sn, "resource_id": format!("res-{agent_sn}"), "region_id": "local"})
}

async fn clients() -> Vec<(Backend, Client)> {
    let mut all = Vec::new();
    for backend in backends().await {
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "p-ident").await;
        all.push((backend, client));
    }
    all
}

async fn registered(client: &Client, agent_sn: &str) -> Client {
    let reply = client.register_agent(&host(agent_sn)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["agent_sn"], agent_sn);
    assert_eq!(reply.body["data"]["project_id"], client.project.as_str());
    client.agent(agent_sn)
}

/// Registers with an activation's headers instead of a signature.
async fn register_with(client: &Client, activation: &Value, agent_sn: &str) -> coc_tests::Reply {
    let body = host(agent_sn).to_string().into_bytes();
    let mut headers = client.unauthenticated().signed_headers("POST", "/v1/agents", &body, now_ms());
    let id = activation["activation_id"].as_str().unwrap_or_default();
    let code = activation["activation_code"].as_str().unwrap_or_default();
    headers.insert("x-activation-id", id.parse().unwrap());
    headers.insert("x-activation-code", code.parse().unwrap());
    client.send_raw("POST", "/v1/agents", headers, body).await
}

async fn activation(client: &Client, body: Value) -> Value {
    let reply = client.post("/v1/agent-activations", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn agent_endpoints_accept_only_the_agents_own_credential() {
    for (backend, user) in clients().await {
        let name = backend.name;
        let a1 = registered(&user, "a1").await;
        let a2 = registered(&user, "a2").await;
        assert_eq!(a1.get("/v1/agents/a1/jobs").await.status, 200, "{name}");

        let beat = json!({"running": []});
        let report = json!({"attempt": 1, "exit_code": 0, "log": ""});
        for (who, client) in [("a user's key", &user), ("agent a2", &a2)] {
            assert_eq!(client.get("/v1/agents/a1/jobs").await.status, 403, "{name}: {who} polls a1");
            assert_eq!(client.post("/v1/agents/a1/heartbeat", &beat).await.status, 403, "{name}: {who}");
            let reply = client.post("/v1/agents/a1/jobs/SCT1/1", &report).await;
            assert_eq!(reply.status, 403, "{name}: {who} reports for a1: {}", reply.body);
        }
        let token = user.post("/v1/auth/tokens", &json!({})).await;
        assert_eq!(token.status, 201, "{}", token.body);
        let token = token.headers["x-subject-token"].to_str().unwrap().to_owned();
        let mut headers = user.unauthenticated().signed_headers("GET", "/v1/agents/a1/jobs", b"", now_ms());
        headers.insert("x-auth-token", token.parse().unwrap());
        assert_eq!(user.send_raw("GET", "/v1/agents/a1/jobs", headers, vec![]).await.status, 403, "{name}: token");

        // An agent's credential is good for nothing else.
        assert_eq!(a1.get("/v1/job/scripts?limit=10").await.status, 403, "{name}");
        assert_eq!(a1.post("/v1/auth/tokens", &json!({})).await.status, 403, "{name}: no token for an agent");
        assert_eq!(a1.post("/v1/agent-activations", &json!({})).await.status, 403, "{name}");
        assert_eq!(a1.post("/v1/agents", &host("a3")).await.status, 403, "{name}: agents do not register agents");
        assert_eq!(a1.delete("/v1/agents/a2").await.status, 403, "{name}");
        let other_tenant = a1.claiming_project("p-other");
        assert_eq!(other_tenant.get("/v1/agents/a1/jobs").await.status, 403, "{name}: the key decides the tenant");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revoking_or_registering_again_stops_the_old_credential_at_once() {
    for (backend, user) in clients().await {
        let name = backend.name;
        let first = registered(&user, "a1").await;
        let second = registered(&user, "a1").await;
        assert_eq!(first.get("/v1/agents/a1/jobs").await.status, 401, "{name}: replaced by the new registration");
        assert_eq!(second.get("/v1/agents/a1/jobs").await.status, 200, "{name}");

        let revoked = user.delete("/v1/agents/a1").await;
        assert_eq!(revoked.status, 200, "{name}: {}", revoked.body);
        assert_eq!(second.get("/v1/agents/a1/jobs").await.status, 401, "{name}: revoked");
        assert_eq!(second.post("/v1/agents/a1/heartbeat", &json!({"running": []})).await.status, 401, "{name}");
        assert_eq!(user.delete("/v1/agents/a1").await.status, 404, "{name}: nothing left to revoke");
        let resources = user.get("/v1/resources?provider=ecs&type=cloudservers&limit=10").await;
        assert_eq!(resources.body["data"], json!([]), "{name}: a revoked agent is no host of the tenant");
        let other = user.in_project("p-other").await;
        registered(&other, "b1").await;
        assert_eq!(user.delete("/v1/agents/b1").await.status, 404, "{name}: another tenant's agent is out of reach");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn activations_are_limited_in_uses_and_lifetime() {
    for (backend, user) in clients().await {
        let name = backend.name;
        let two = activation(&user, json!({"max_registrations": 2, "expires_in_seconds": 600})).await;
        assert_eq!(two["max_registrations"], 2);
        let reply = register_with(&user, &two, "h1").await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        let h1 = user.with_agent_credential(&reply.body["data"]);
        assert_eq!(h1.get("/v1/agents/h1/jobs").await.status, 200, "{name}: the activation's tenant");
        assert_eq!(register_with(&user, &two, "h1").await.status, 409, "{name}: no taking over a known agent");
        assert_eq!(register_with(&user, &two, "h2").await.status, 200, "{name}");
        let used_up = register_with(&user, &two, "h3").await;
        assert_eq!(used_up.status, 403, "{name}: {}", used_up.body);

        let mut wrong = two.clone();
        wrong["activation_code"] = json!("NOTTHECODE");
        assert_eq!(register_with(&user, &wrong, "h4").await.status, 401, "{name}");

        // Made two days ago with the shortest lifetime: long expired.
        let operator = user.credential.as_ref().unwrap().caller();
        let wanted = ActivationRequest { max_registrations: Some(5), expires_in_seconds: Some(60) };
        let old = agents::create_activation(backend.store.as_ref(), &operator, &wanted, now_ms() - 2 * 86_400_000)
            .await
            .unwrap();
        let old = json!({"activation_id": old.activation.activation_id, "activation_code": old.code});
        let expired = register_with(&user, &old, "h5").await;
        assert_eq!(expired.status, 403, "{name}: {}", expired.body);
        assert!(expired.body["error_msg"].as_str().unwrap().contains("expired"), "{}", expired.body);

        for (body, field) in [
            (json!({"max_registrations": 0}), "max_registrations"),
            (json!({"max_registrations": 1001}), "max_registrations"),
            (json!({"expires_in_seconds": 59}), "expires_in_seconds"),
            (json!({"expires_in_seconds": 2_592_001}), "expires_in_seconds"),
        ] {
            let reply = user.post("/v1/agent-activations", &body).await;
            assert_eq!(reply.status, 400, "{name}: {body}");
            assert!(reply.body["error_msg"].as_str().unwrap().contains(field), "{}", reply.body);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_last_use_of_an_activation_goes_to_exactly_one_agent() {
    for (backend, user) in clients().await {
        let name = backend.name;
        let once = activation(&user, json!({"max_registrations": 1})).await;
        let mut racers = tokio::task::JoinSet::new();
        for i in 0..6 {
            let (user, once) = (user.clone(), once.clone());
            racers.spawn(async move { register_with(&user, &once, &format!("race{i}")).await.status });
        }
        let statuses: Vec<u16> = racers.join_all().await;
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{name}: {statuses:?}");
        assert!(statuses.iter().all(|s| *s == 200 || *s == 403 || *s == 409), "{name}: {statuses:?}");
        let hosts = user.get("/v1/resources?provider=ecs&type=cloudservers&limit=10").await;
        assert_eq!(hosts.body["data"].as_array().unwrap().len(), 1, "{name}: one agent registered");
    }
}
