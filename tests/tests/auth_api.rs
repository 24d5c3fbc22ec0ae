//! Authentication over HTTP on every backend: SDK-HMAC-SHA256 signatures and
//! X-Auth-Token tokens decide who a request acts for; everything else is a 401.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::json;

use coc_shared::auth::signature::{sha256_hex, sign_headers, AccessKey, UNSIGNED_PAYLOAD};
use coc_shared::auth::{Credential, PublicHosts, TokenRecord};
use coc_shared::clock::now_ms;
use coc_shared::domain::tenant::ProjectId;
use coc_shared::repositories::credentials;
use coc_tests::{backends, script_body, serve, Client, Reply};

const SCRIPTS: &str = "/v1/job/scripts";

fn assert_unauthorized(reply: &Reply, what: &str) {
    assert_eq!(reply.status, 401, "{what}: {}", reply.body);
    assert_eq!(reply.error_code(), "COC.00040401", "{what}");
    assert!(!reply.error_msg().is_empty(), "{what}");
    assert!(reply.headers.contains_key("x-request-id"), "{what}: errors carry X-Request-Id");
}

/// The headers of a request signed, like the SDK signs, for `host` and over `extra` headers too.
fn signed_for(client: &Client, host: &str, extra: &[(&str, &str)], method: &str, path: &str, body: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json;charset=utf-8"));
    headers.insert("host", HeaderValue::from_str(host).unwrap());
    headers.insert("x-project-id", HeaderValue::from_str(&client.project).unwrap());
    for (name, value) in extra {
        headers.insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value).unwrap());
    }
    let credential = client.credential.as_ref().unwrap();
    let key = AccessKey { id: &credential.access_key, secret: &credential.secret_key };
    let (path, query) = path.split_once('?').map_or((path, None), |(p, q)| (p, Some(q)));
    sign_headers(&mut headers, key, method, path, query, body, now_ms());
    headers
}

async fn script_count(client: &Client) -> u64 {
    client.get(&format!("{SCRIPTS}?limit=100")).await.body["data"]["total"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_must_match_the_request_exactly() {
    for backend in backends().await {
        let name = backend.name;
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "p-auth").await;
        let body = script_body("signed").to_string().into_bytes();
        let now = now_ms();

        let headers = client.signed_headers("POST", SCRIPTS, &body, now);
        assert_eq!(client.send_raw("POST", SCRIPTS, headers, body.clone()).await.status, 200, "{name}");

        let tampered = script_body("tampered").to_string().into_bytes();
        let headers = client.signed_headers("POST", SCRIPTS, &body, now);
        assert_unauthorized(&client.send_raw("POST", SCRIPTS, headers, tampered).await, "tampered body");

        let headers = client.signed_headers("GET", &format!("{SCRIPTS}?limit=1"), b"", now);
        let reply = client.send_raw("GET", &format!("{SCRIPTS}?limit=2"), headers, Vec::new()).await;
        assert_unauthorized(&reply, "tampered query");

        let headers = client.signed_headers("GET", &format!("{SCRIPTS}/SCa"), b"", now);
        assert_unauthorized(
            &client.send_raw("GET", &format!("{SCRIPTS}/SCb"), headers, Vec::new()).await,
            "tampered path",
        );

        let headers = client.signed_headers("GET", &format!("{SCRIPTS}/SCa"), b"", now);
        assert_unauthorized(
            &client.send_raw("DELETE", &format!("{SCRIPTS}/SCa"), headers, Vec::new()).await,
            "other method",
        );

        let mut headers = client.signed_headers("POST", SCRIPTS, &body, now);
        headers.insert("host", HeaderValue::from_static("elsewhere.example.com"));
        assert_unauthorized(&client.send_raw("POST", SCRIPTS, headers, body.clone()).await, "other host");

        let mut wrong_secret = client.clone();
        if let Some(c) = wrong_secret.credential.as_mut() {
            c.secret_key = "WRONGSECRET00000000000000000000000000000".into();
        }
        assert_unauthorized(&wrong_secret.post(SCRIPTS, &script_body("x")).await, "wrong secret key");

        let mut unknown = client.clone();
        if let Some(c) = unknown.credential.as_mut() {
            c.access_key = "UNKNOWNACCESSKEY0000".into();
        }
        assert_unauthorized(&unknown.get(&format!("{SCRIPTS}?limit=1")).await, "unknown access key");

        for (offset_min, ok) in [(-16, false), (16, false), (-14, true), (14, true)] {
            let at = now_ms() + offset_min * 60_000;
            let path = format!("{SCRIPTS}?limit=1");
            let reply = client.send_raw("GET", &path, client.signed_headers("GET", &path, b"", at), Vec::new()).await;
            if ok {
                assert_eq!(reply.status, 200, "{name}: {offset_min} minutes of skew is allowed");
            } else {
                assert_unauthorized(&reply, &format!("{offset_min} minutes of skew"));
            }
        }

        let mut no_date = client.signed_headers("GET", &format!("{SCRIPTS}?limit=1"), b"", now);
        no_date.remove("x-sdk-date");
        assert_unauthorized(
            &client.send_raw("GET", &format!("{SCRIPTS}?limit=1"), no_date, Vec::new()).await,
            "no date",
        );

        let mut other_algorithm = client.signed_headers("GET", &format!("{SCRIPTS}?limit=1"), b"", now);
        let value = other_algorithm["authorization"].to_str().unwrap().replace("SDK-HMAC-SHA256", "SDK-HMAC-SM3");
        other_algorithm.insert("authorization", HeaderValue::from_str(&value).unwrap());
        assert_unauthorized(
            &client.send_raw("GET", &format!("{SCRIPTS}?limit=1"), other_algorithm, Vec::new()).await,
            "SM3",
        );

        assert_unauthorized(&client.unauthenticated().get(&format!("{SCRIPTS}?limit=1")).await, "no credentials");
        assert_eq!(script_count(&client).await, 1, "{name}: no refused request wrote anything");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_signed_twice_still_verifies() {
    // The SDK signs x-project-id twice when the request and the credentials both set it.
    let backend = coc_tests::sqlite_backend();
    let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "p-dup").await;
    let credential = client.credential.clone().unwrap();
    let path = format!("{SCRIPTS}?limit=1");
    let mut headers = client.signed_headers("GET", &path, b"", now_ms());
    let signed = "content-type;host;x-project-id;x-project-id;x-sdk-date";
    let mut canonical = format!("GET\n{SCRIPTS}/\nlimit=1\n");
    for name in signed.split(';') {
        canonical.push_str(&format!("{name}:{}\n", headers[name].to_str().unwrap()));
    }
    canonical.push_str(&format!("\n{signed}\n{}", coc_shared::auth::signature::sha256_hex(b"")));
    let to_sign = coc_shared::auth::signature::string_to_sign(headers["x-sdk-date"].to_str().unwrap(), &canonical);
    let signature = coc_shared::auth::signature::sign(&credential.secret_key, &to_sign);
    let value =
        format!("SDK-HMAC-SHA256 Access={}, SignedHeaders={signed}, Signature={signature}", credential.access_key);
    headers.insert("authorization", HeaderValue::from_str(&value).unwrap());
    assert_eq!(client.send_raw("GET", &path, headers, Vec::new()).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_act_for_their_key_for_a_day() {
    for backend in backends().await {
        let name = backend.name;
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "p-token").await;
        let issued = client.send("POST", "/v1/auth/tokens", None).await;
        assert_eq!(issued.status, 201, "{name}: {}", issued.body);
        let token = issued.headers["x-subject-token"].to_str().unwrap().to_owned();
        assert_eq!(issued.body["token"]["project"]["id"], "p-token");
        assert_eq!(issued.body["token"]["user"]["name"], "alice");
        assert!(issued.body["token"]["expires_at"].as_str().unwrap().contains('T'));

        let with_token = |token: &str| {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert("x-auth-token", HeaderValue::from_str(token).unwrap());
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            headers
        };
        let body = script_body("by_token").to_string().into_bytes();
        let created = client.send_raw("POST", SCRIPTS, with_token(&token), body).await;
        assert_eq!(created.status, 200, "{name}: {}", created.body);
        let uuid = created.data_str();
        let detail = client.send_raw("GET", &format!("{SCRIPTS}/{uuid}"), with_token(&token), Vec::new()).await;
        assert_eq!(detail.body["data"]["creator"], "alice", "{name}: the token acts as its key's user");

        let again = client.send_raw("POST", "/v1/auth/tokens", with_token(&token), Vec::new()).await;
        assert_unauthorized(&again, "a token cannot mint tokens");
        assert_unauthorized(
            &client.send_raw("GET", &format!("{SCRIPTS}?limit=1"), with_token("coc-forged"), Vec::new()).await,
            "forged token",
        );

        let stale = "coc-expired-token-for-the-test";
        let record = TokenRecord {
            project_id: ProjectId::parse("p-token").unwrap(),
            user_id: "u-alice".into(),
            user_name: "alice".into(),
            issued_by: "x".into(),
            expires_at: now_ms() - 1,
        };
        credentials::insert_token(backend.store.as_ref(), stale, &record).await.unwrap();
        assert_unauthorized(
            &client.send_raw("GET", &format!("{SCRIPTS}?limit=1"), with_token(stale), Vec::new()).await,
            "expired token",
        );

        let mut other_project = with_token(&token);
        other_project.insert("x-project-id", HeaderValue::from_static("p-else"));
        let refused = client.send_raw("GET", &format!("{SCRIPTS}?limit=1"), other_project, Vec::new()).await;
        assert_eq!(refused.status, 403, "{name}: a token cannot speak for another project");
    }
}

#[tokio::test]
async fn stored_keys_decide_the_tenant() {
    let backend = coc_tests::sqlite_backend();
    let base = serve(backend.app()).await;
    let owner = Client::new(&base, backend.store.clone(), "p-owner").await;
    let uuid = owner.post(SCRIPTS, &script_body("owned")).await.data_str();
    // A key of another project, even for a user of the same name, sees nothing of it.
    let credential =
        Credential::generate(ProjectId::parse("p-other").unwrap(), "u-alice".into(), "alice".into(), now_ms());
    credentials::insert(backend.store.as_ref(), &credential).await.unwrap();
    let mut other = owner.claiming_project("p-other");
    other.credential = Some(credential);
    assert_eq!(other.get(&format!("{SCRIPTS}/{uuid}")).await.status, 404);
    assert_eq!(other.put(&format!("{SCRIPTS}/{uuid}"), &json!({"description": "d", "content": "c"})).await.status, 404);
    assert_eq!(owner.get(&format!("{SCRIPTS}/{uuid}")).await.body["data"]["content"], "echo ${greeting} ${token}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_captured_request_cannot_carry_another_body() {
    let backend = coc_tests::sqlite_backend();
    let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "p-replay").await;
    let body = script_body("captured").to_string().into_bytes();
    let captured = client.signed_headers("POST", SCRIPTS, &body, now_ms());
    let evil = script_body("evil").to_string().into_bytes();

    // An X-Sdk-Content-Sha256 the signature does not cover is anyone's to set: it is ignored.
    for claimed in [sha256_hex(&body).as_str(), UNSIGNED_PAYLOAD] {
        let mut replayed = captured.clone();
        replayed.insert("x-sdk-content-sha256", HeaderValue::from_str(claimed).unwrap());
        let reply = client.send_raw("POST", SCRIPTS, replayed, evil.clone()).await;
        assert_unauthorized(&reply, &format!("another body with an unsigned X-Sdk-Content-Sha256: {claimed}"));
    }
    assert_eq!(script_count(&client).await, 0, "no replay wrote anything");

    // Signed, it must be UNSIGNED-PAYLOAD or the hash of the body received.
    let host = client.base.trim_start_matches("http://");
    let sign_with_hash =
        |claimed: &str| signed_for(&client, host, &[("x-sdk-content-sha256", claimed)], "POST", SCRIPTS, &body);
    let reply = client.send_raw("POST", SCRIPTS, sign_with_hash(&sha256_hex(b"another body")), body.clone()).await;
    assert_unauthorized(&reply, "a signed hash of another body");
    assert!(reply.error_msg().contains("X-Sdk-Content-Sha256"), "{}", reply.body);
    let reply = client.send_raw("POST", SCRIPTS, sign_with_hash(&sha256_hex(&body)), body.clone()).await;
    assert_eq!(reply.status, 200, "a signed hash of the body: {}", reply.body);

    // A signed UNSIGNED-PAYLOAD is APIG's "the body is not signed": the signature
    // binds everything but the body, so another body goes through (see the README).
    let headers = sign_with_hash(UNSIGNED_PAYLOAD);
    let reply = client.send_raw("POST", SCRIPTS, headers, script_body("not_signed").to_string().into_bytes()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(script_count(&client).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_must_be_made_for_a_public_host() {
    let backend = coc_tests::sqlite_backend();
    let public = PublicHosts::parse("coc.example.com,coc.example.com:8443").unwrap();
    let client =
        Client::new(&serve(backend.app().with_public_hosts(public)).await, backend.store.clone(), "p-host").await;

    // Signed for the address the test reached the server at, which is not one of its public hosts.
    let reply = client.get(&format!("{SCRIPTS}?limit=1")).await;
    assert_unauthorized(&reply, "signed for another host");
    let own_host = client.base.trim_start_matches("http://");
    assert!(reply.error_msg().contains("host") && reply.error_msg().contains(own_host), "{}", reply.body);
    assert_unauthorized(&client.send("POST", "/v1/auth/tokens", None).await, "a token for another host");

    for host in ["coc.example.com", "COC.example.com:8443"] {
        let body = script_body(&format!("for_{}", host.len())).to_string().into_bytes();
        let headers = signed_for(&client, host, &[], "POST", SCRIPTS, &body);
        let reply = client.send_raw("POST", SCRIPTS, headers, body).await;
        assert_eq!(reply.status, 200, "{host}: {}", reply.body);
    }
    let listed = format!("{SCRIPTS}?limit=100");
    let headers = signed_for(&client, "coc.example.com:443", &[], "GET", &listed, b"");
    assert_unauthorized(&client.send_raw("GET", &listed, headers, Vec::new()).await, "an unlisted port");
    let headers = signed_for(&client, "coc.example.com", &[], "GET", &listed, b"");
    assert_eq!(client.send_raw("GET", &listed, headers, Vec::new()).await.body["data"]["total"], 2);
}
