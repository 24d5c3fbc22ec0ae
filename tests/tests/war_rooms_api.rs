//! War rooms through the HTTP server, on both store adapters: opening one
//! for an incident of the tenant tells each member (in the transaction that
//! opens it) and the message reaches their robot; members must be engineers;
//! one room per incident, even when two requests race; the list walks the
//! index newest first with filters, paging and counts, within the tenant.

use std::time::Duration;

use serde_json::{json, Value};

use coc_shared::domain::notification::{EventKind, Notification};
use coc_shared::domain::tenant::ProjectId;
use coc_shared::ports::Store;
use coc_shared::repositories::notifications;
use coc_tests::notify_fixtures::{robot_tenants, RobotTenant as Setup};
use coc_tests::{Client, Reply};

const PROJECT: &str = "p-warroom";
const PUBLIC_URL: &str = "https://coc.example.com";
const CREATE: &str = "/v1/external/warrooms";
const LIST: &str = "/v1/external/warrooms/list";

async fn setups() -> Vec<Setup> {
    robot_tenants(PROJECT, PUBLIC_URL).await
}

async fn incident(client: &Client, title: &str, level: &str) -> String {
    let body = json!({
        "region": ["cn-north-4"], "current_cloud_service": ["app-1"], "incident_level": level,
        "is_service_interrupt": "true", "incident_type": "inc_type_p_networking_issues",
        "incident_title": title, "incident_description": "tunnel drops", "start_time": 1_700_000_000_000_i64,
        "incident_source": "incident_source_manual", "incident_assignee": ["u-oncall"], "creator": "u-alice"
    });
    let reply = client.post("/v1/external/incident/create", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"]["incident_num"].as_str().unwrap().to_owned()
}

fn room(num: &str, name: &str, participants: &[&str]) -> Value {
    json!({
        "war_room_name": name, "description": "restore the VPN", "incident_number": num,
        "application_id_list": ["app-1"], "application_names": ["shop"],
        "region_code_list": ["cn-north-4"], "region_names": ["CN North-Beijing4"],
        "schedule_group": [{"role_id": "sre", "scene_id": "network"}], "war_room_admin": "u-oncall",
        "participant": participants, "enterprise_project_id": "0", "notification_type": "NULL_GROUP",
    })
}

async fn open(client: &Client, num: &str, name: &str, participants: &[&str]) -> String {
    let reply = client.post(CREATE, &room(num, name, participants)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["error_code"], "0");
    reply.data_str()
}

async fn notified(store: &dyn Store) -> Vec<Notification> {
    let project = ProjectId::parse(PROJECT).unwrap();
    notifications::list(store, &project, None, 100).await.unwrap().rows
}

async fn rows(store: &dyn Store, prefix: &str) -> usize {
    store.query_prefix(&format!("PROJECT#{PROJECT}"), prefix).await.unwrap().len()
}

fn titles(reply: &Reply) -> Vec<String> {
    let list = reply.body["data"]["list"].as_array().unwrap_or_else(|| panic!("no list in {}", reply.body));
    list.iter().map(|r| r["title"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_a_war_room_tells_every_member_and_the_robot_receives_it() {
    for Setup { name, client, store, robots, .. } in setups().await {
        let num = incident(&client, "VPN flapping", "level_10").await;
        let before = notified(store.as_ref()).await.len();
        // The admin again among the participants, and one member with nowhere to be told.
        let id = open(&client, &num, "VPN war room", &["u-second", "u-oncall", "u-quiet"]).await;
        assert!(id.starts_with("WR"), "{name}: {id}");
        let detail = client.get(&format!("/v1/external/incident/{num}")).await;
        assert_eq!(detail.body["data"]["warroom_id"], id.as_str(), "{name}: the incident names its room");

        let mut told: Vec<Notification> = notified(store.as_ref()).await;
        told.truncate(told.len() - before);
        let mut recipients: Vec<&str> = told.iter().map(|n| n.user_id.as_deref().unwrap()).collect();
        recipients.sort();
        assert_eq!(recipients, ["u-oncall", "u-second"], "{name}: each member with a contact method, once");
        let link = format!("{PUBLIC_URL}/v1/external/incident/{num}");
        for notification in &told {
            assert_eq!(notification.message.kind, EventKind::WarRoomCreated, "{name}");
            assert_eq!(notification.message.link.as_deref(), Some(link.as_str()), "{name}");
            for said in ["VPN war room", num.as_str(), "u-oncall", "u-second", "u-quiet"] {
                assert!(notification.message.text.contains(said), "{name}: says {said}: {}", notification.message.text);
            }
        }
        let delivered = |lines: &[Value]| {
            ["/wecom/u-oncall", "/wecom/u-second"].iter().all(|path| {
                lines.iter().any(|l| l["path"] == *path && l["text"].as_str().is_some_and(|t| t.contains(&id)))
            })
        };
        let received = robots.wait_for(Duration::from_secs(20), delivered).await;
        assert!(delivered(&received), "{name}: both robots receive the room: {received:?}");
        assert!(!received.iter().any(|l| l["path"] == "/wecom/u-alice"), "{name}: the creator is no member");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_members_incidents_and_fields_are_refused_with_nothing_written() {
    for Setup { name, client, store, .. } in setups().await {
        let num = incident(&client, "disk full", "level_20").await;
        let store = store.as_ref();
        let refused = client.post(CREATE, &room(&num, "w", &["u-second", "u-stranger"])).await;
        assert_eq!(refused.status, 400, "{name}: {}", refused.body);
        for said in ["participant[1]", "u-stranger", "not an O&M engineer"] {
            assert!(refused.error_msg().contains(said), "{name}: {}", refused.error_msg());
        }
        let mut body = room(&num, "w", &[]);
        body["war_room_admin"] = json!("u-nobody");
        let refused = client.post(CREATE, &body).await;
        assert!(refused.status == 400 && refused.error_msg().contains("war_room_admin"), "{name}: {}", refused.body);
        let refused = client.post(CREATE, &room("IM000000000000000000000000", "w", &[])).await;
        assert_eq!(refused.status, 400, "{name}: {}", refused.body);
        assert!(refused.error_msg().contains("incident_number"), "{name}: {}", refused.error_msg());
        let mut body = room(&num, "w", &[]);
        body["war_room_name"] = json!("x".repeat(256));
        assert!(client.post(CREATE, &body).await.error_msg().contains("war_room_name"), "{name}");
        let crowd = ["u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9", "u10"];
        assert!(client.post(CREATE, &room(&num, "w", &crowd)).await.error_msg().contains("participant"), "{name}");
        assert_eq!(rows(store, "WARROOM").await, 0, "{name}: no room, no claim");
        assert!(notified(store).await.iter().all(|n| n.message.kind != EventKind::WarRoomCreated), "{name}");

        // Another tenant's incident is not one to open a room for.
        let other = client.in_project("p-warroom-other").await;
        let refused = other.post(CREATE, &room(&num, "w", &[])).await;
        assert_eq!(refused.status, 400, "{name}: {}", refused.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_has_one_war_room_even_when_two_requests_race() {
    for Setup { name, client, store, .. } in setups().await {
        let num = incident(&client, "race", "level_30").await;
        let (first, second) = (room(&num, "a", &[]), room(&num, "b", &[]));
        let (a, b) = tokio::join!(client.post(CREATE, &first), client.post(CREATE, &second));
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{name}: {} / {}", a.body, b.body);
        assert_eq!(rows(store.as_ref(), "WARROOM#").await, 1, "{name}");
        let again = client.post(CREATE, &room(&num, "c", &[])).await;
        assert_eq!(again.status, 409, "{name}: {}", again.body);
        assert!(again.error_msg().contains(&num), "{name}: {}", again.error_msg());
        let listed = client.post(LIST, &json!({"statistic_flag": true})).await;
        assert_eq!(listed.body["data"]["total_num"], 1, "{name}: the count holds one: {}", listed.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_filters_pages_and_counts_newest_first_within_the_tenant() {
    for Setup { name, client, .. } in setups().await {
        let mut ids = Vec::new();
        for (title, level) in [("alpha", "level_10"), ("beta", "level_20"), ("gamma", "level_10")] {
            let num = incident(&client, title, level).await;
            ids.push((num.clone(), open(&client, &num, &format!("{title} room"), &["u-second"]).await));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let all = client.post(LIST, &json!({})).await;
        assert_eq!(all.status, 200, "{name}: {}", all.body);
        assert_eq!(titles(&all), ["gamma room", "beta room", "alpha room"], "{name}");
        let data = &all.body["data"];
        assert_eq!(
            (data["total"].clone(), data["running_num"].clone(), data["closed_num"].clone()),
            (json!(3), json!(3), json!(0))
        );
        let first = &data["list"][0];
        assert_eq!(first["war_room_status"]["id"], "RUNNING", "{name}");
        assert_eq!(first["incident"]["incident_id"], ids[2].0.as_str(), "{name}");
        assert_eq!(first["regions"], json!([{"code": "cn-north-4", "name": "CN North-Beijing4"}]), "{name}");
        assert_eq!(first["impacted_application"], json!([{"id": "app-1", "name": "shop"}]), "{name}");
        assert_eq!((first["admin"].clone(), first["recover_member"].clone()), (json!("u-oncall"), json!(["u-second"])));

        let page = client.post(LIST, &json!({"limit": 2, "offset": 1})).await;
        assert_eq!(titles(&page), ["beta room", "alpha room"], "{name}");
        let filtered = client.post(LIST, &json!({"incident_levels": ["level_10"], "title": "ALPHA"})).await;
        assert_eq!(titles(&filtered), ["alpha room"], "{name}");
        assert_eq!(filtered.body["data"]["total"], 1, "{name}");
        let by_incident = client.post(LIST, &json!({"incident_num": ids[1].0})).await;
        assert_eq!(titles(&by_incident), ["beta room"], "{name}");
        let by_number = client.post(LIST, &json!({"war_room_nums": [ids[0].1, ids[2].1], "title": "ignored"})).await;
        assert_eq!(titles(&by_number), ["gamma room", "alpha room"], "{name}: numbers ignore other filters");
        let members = client.post(LIST, &json!({"current_users": ["u-second"], "status": ["RUNNING"]})).await;
        assert_eq!(titles(&members).len(), 3, "{name}");
        let nobody = client.post(LIST, &json!({"current_users": ["u-alice"]})).await;
        assert!(titles(&nobody).is_empty(), "{name}");
        let stats = client.post(LIST, &json!({"statistic_flag": true, "admin": ["u-oncall"]})).await;
        assert_eq!(stats.body["data"], json!({"total_num": 3, "running_num": 3, "closed_num": 0}), "{name}");

        let refused = client.post(LIST, &json!({"limit": 1001})).await;
        assert!(refused.status == 400 && refused.error_msg().contains("limit"), "{name}: {}", refused.body);
        let refused = client.post(LIST, &json!({"status": ["OPEN"]})).await;
        assert!(refused.status == 400 && refused.error_msg().contains("status[0]"), "{name}: {}", refused.body);

        // Another tenant sees none of them, not even by number.
        let other = client.in_project("p-warroom-other").await;
        let theirs = other.post(LIST, &json!({})).await;
        assert!(titles(&theirs).is_empty(), "{name}: {}", theirs.body);
        assert_eq!(theirs.body["data"]["total"], 0, "{name}");
        let guessed = other.post(LIST, &json!({"war_room_nums": [ids[0].1]})).await;
        assert!(titles(&guessed).is_empty(), "{name}");
        let by_incident = other.post(LIST, &json!({"incident_num": ids[0].0})).await;
        assert!(titles(&by_incident).is_empty(), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_of_the_most_members_tells_each_in_its_one_transaction() {
    for Setup { name, client, store, robots, .. } in setups().await {
        let others: Vec<String> = (1..coc_shared::limits::WAR_ROOM_MEMBERS).map(|i| format!("u-m{i}")).collect();
        let users: Vec<(&str, &str)> = others.iter().map(|u| (u.as_str(), u.as_str())).collect();
        client.sync_engineers(&users).await;
        for user in &others {
            let robot = json!({"wecom_webhook": robots.url(&format!("/wecom/{user}?key=k"))});
            assert_eq!(client.put(&format!("/v1/engineers/{user}"), &robot).await.status, 200, "{name}");
        }
        let num = incident(&client, "all hands", "level_10").await;
        let participants: Vec<&str> = others.iter().map(String::as_str).collect();
        let id = open(&client, &num, "all hands room", &participants).await;
        let told: Vec<_> = notified(store.as_ref())
            .await
            .into_iter()
            .filter(|n| n.message.kind == EventKind::WarRoomCreated && n.message.subject_id == id)
            .collect();
        assert_eq!(told.len(), coc_shared::limits::WAR_ROOM_MEMBERS, "{name}: every member, the admin included");
        let listed = client.post(LIST, &json!({"war_room_nums": [id]})).await;
        assert_eq!(listed.body["data"]["list"][0]["recover_member"].as_array().unwrap().len(), others.len(), "{name}");
    }
}
