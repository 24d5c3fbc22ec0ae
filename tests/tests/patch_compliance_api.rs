//! `GET /v1/patch/instance/compliant` and `…/{instance_compliant_id}` over
//! HTTP on every backend: the reference's response shapes, paging by page
//! number, filters, every 400 in the error shape, 404, and tenant isolation.
//! Reports are seeded with `patch_reports::save`, as the inventory endpoint
//! saves them; no host is registered, as for a host deleted since its scan.

use serde_json::{json, Value};

use coc_shared::domain::patch::{ComplianceItem, ComplianceLevel, PatchStatus};
use coc_shared::domain::tenant::ProjectId;
use coc_shared::repositories::patch_reports::{self, report_id};
use coc_tests::patch_fixtures::{compliant_items, installed_order, items, report};
use coc_tests::{backends, serve, Backend, Client};

const REPORTS: &str = "/v1/patch/instance/compliant";

async fn clients(project: &str) -> Vec<(&'static str, Client, Backend)> {
    let mut all = Vec::new();
    for backend in backends().await {
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), project).await;
        all.push((backend.name, client, backend));
    }
    all
}

async fn save(backend: &Backend, project: &str, instance: &str, time: i64, rows: &[ComplianceItem]) {
    let p = ProjectId::parse(project).unwrap();
    let mut r = report(instance, "bl-ubuntu", time, "SO1");
    r.eip = if instance == "h1" { "203.0.113.9".into() } else { String::new() };
    patch_reports::save(backend.store.as_ref(), &p, &r, rows).await.unwrap();
}

fn item_with(n: usize, status: PatchStatus, level: ComplianceLevel, installed_time: Option<i64>) -> ComplianceItem {
    ComplianceItem {
        title: format!("pkg{n}"),
        installed_version: "1".into(),
        available_version: "2".into(),
        classification: "Security".into(),
        severity_level: "Important".into(),
        compliance_level: level,
        patch_status: status,
        installed_time,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_have_the_references_shape() {
    for (name, client, backend) in clients("p-shape").await {
        let rows = vec![
            item_with(1, PatchStatus::Installed, ComplianceLevel::Unspecified, Some(1_713_864_585_000)),
            item_with(2, PatchStatus::Missing, ComplianceLevel::Critical, None),
            item_with(3, PatchStatus::PendingReboot, ComplianceLevel::High, Some(1_713_864_586_000)),
            item_with(4, PatchStatus::InstalledOther, ComplianceLevel::Low, Some(1_713_864_587_000)),
        ];
        save(&backend, "p-shape", "h2", 1_715_308_575_000, &rows).await;
        let id = report_id("h2", "bl-ubuntu");
        let reply =
            client.get(&format!("{REPORTS}?offset=1&limit=10&compliant_status=non_compliant&report_scene=ECS")).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        let zero = json!({"critical_count": 0, "high_count": 0, "informational_count": 0, "low_count": 0,
                          "medium_count": 0, "unspecified_count": 0});
        let mut compliant = zero.clone();
        compliant["unspecified_count"] = json!(1);
        compliant["low_count"] = json!(1);
        let mut non_compliant = zero.clone();
        non_compliant["critical_count"] = json!(1);
        non_compliant["high_count"] = json!(1);
        let expected = json!({
            "count": 1,
            "instance_compliant": [{
                "baseline_id": "bl-ubuntu",
                "baseline_name": "baseline bl-ubuntu",
                "cce_info_id": null,
                "compliant_summary": {"compliant_count": 2, "severity_summary": compliant},
                "eip": null,
                "enterprise_project_id": "0",
                "execution_summary": {"job_id": "SO1-h2", "order_id": "SO1", "report_time": 1_715_308_575_000_i64},
                "group": null,
                "id": id,
                "instance_id": "h2",
                "ip": "10.0.0.7",
                "name": "host-h2",
                "node_id": "",
                "non_compliant_summary": {"non_compliant_count": 2, "severity_summary": non_compliant},
                "operating_system": "Ubuntu",
                "region": "cn-north-4",
                "report_scene": "ECS",
                "rule_type": "standard",
                "status": "non_compliant",
            }],
        });
        assert_eq!(reply.body, expected, "{name}");

        let reply = client.get(&format!("{REPORTS}/{id}?offset=1&limit=10&sort_key=installed_time&sort_dir=asc")).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        assert_eq!(reply.body["count"], 4, "{name}");
        let first = &reply.body["compliance_items"][0];
        assert_eq!(
            first,
            &json!({
                "classification": "Security",
                "compliance_level": "CRITICAL",
                "instance_id": "h2",
                "patch_detail": {"installed_time": null, "patch_baseline_id": "bl-ubuntu",
                                 "patch_baseline_name": "baseline bl-ubuntu", "patch_status": "MISSING"},
                "severity_level": "Important",
                "title": "pkg2",
            }),
            "{name}: not installed sorts first"
        );
        let statuses: Vec<&str> = reply.body["compliance_items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["patch_detail"]["patch_status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["MISSING", "INSTALLED", "PENDING_REBOOT", "INSTALLED_OTHER"], "{name}");
        let reply = client.get(&format!("{REPORTS}/{id}?patch_status=PENDING_REBOOT")).await;
        assert_eq!(reply.body["count"], 1, "{name}");
        assert_eq!(reply.body["compliance_items"][0]["patch_detail"]["installed_time"], 1_713_864_586_000_i64);

        // The eip shows when the host has one.
        save(&backend, "p-shape", "h1", 1, &compliant_items("c", 2)).await;
        let reply = client.get(&format!("{REPORTS}?instance_id=h1")).await;
        assert_eq!(reply.body["instance_compliant"][0]["eip"], "203.0.113.9", "{name}");
        assert_eq!(reply.body["instance_compliant"][0]["status"], "compliant", "{name}");
    }
}

fn ids_of(body: &Value, list: &str, field: &str) -> Vec<String> {
    body[list].as_array().unwrap().iter().map(|r| r[field].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offset_is_a_page_number_and_lists_follow_sort_and_filters() {
    for (name, client, backend) in clients("p-pages").await {
        for n in 0..7 {
            let rows = if n % 2 == 0 { items(&format!("h{n}"), 3) } else { compliant_items(&format!("h{n}"), 2) };
            save(&backend, "p-pages", &format!("h{n}"), 1_000 + n, &rows).await;
        }
        let page = |query: String| {
            let client = client.clone();
            async move {
                let reply = client.get(&format!("{REPORTS}?{query}")).await;
                assert_eq!(reply.status, 200, "{query}: {}", reply.body);
                (reply.body["count"].as_u64().unwrap(), ids_of(&reply.body, "instance_compliant", "instance_id"))
            }
        };
        assert_eq!(
            page("limit=3".into()).await,
            (7, vec!["h6".into(), "h5".into(), "h4".into()]),
            "{name}: newest first"
        );
        assert_eq!(page("limit=3&offset=2".into()).await.1, ["h3", "h2", "h1"], "{name}: page 2");
        assert_eq!(page("limit=3&offset=3".into()).await.1, ["h0"], "{name}");
        assert!(page("limit=3&offset=4".into()).await.1.is_empty(), "{name}");
        assert_eq!(page("limit=2&offset=2&sort_key=report_time&sort_dir=asc".into()).await.1, ["h2", "h3"], "{name}");
        assert_eq!(
            page("compliant_status=compliant&sort_dir=asc".into()).await,
            (3, vec!["h1".into(), "h3".into(), "h5".into()])
        );
        assert_eq!(page("name=HOST-H4".into()).await.1, ["h4"], "{name}");
        for query in [
            "ip=10.0.0.7",
            "region=cn-north-4",
            "operating_system=Ubuntu",
            "order_id=SO1",
            "report_scene=ECS",
            "enterprise_project_id=0",
        ] {
            assert_eq!(page(query.into()).await.0, 7, "{name}: {query}");
        }
        for query in [
            "ip=10.0.0.8",
            "eip=203.0.113.1",
            "group=web",
            "report_scene=CCE",
            "cce_info_id=c1",
            "enterprise_project_id=ep-1",
            "instance_id=h9",
        ] {
            assert_eq!(page(query.into()).await, (0, Vec::new()), "{name}: {query}");
        }

        // Items: page numbers over installed-time order, both ways.
        let rows = items("pkg", 25);
        save(&backend, "p-pages", "hx", 9_000, &rows).await;
        let id = report_id("hx", "bl-ubuntu");
        let order = installed_order(&rows);
        let reply = client.get(&format!("{REPORTS}/{id}?limit=10&offset=2&sort_dir=asc")).await;
        assert_eq!(reply.body["count"], 25);
        assert_eq!(ids_of(&reply.body, "compliance_items", "title"), order[10..20].to_vec(), "{name}");
        let reply = client.get(&format!("{REPORTS}/{id}?limit=10&offset=3")).await;
        let mut tail: Vec<String> = order[..5].to_vec();
        tail.reverse();
        assert_eq!(ids_of(&reply.body, "compliance_items", "title"), tail, "{name}: desc by default");
        let reply = client.get(&format!("{REPORTS}/{id}?limit=100&compliance_level=HIGH&classification=Bugfix")).await;
        let expected: Vec<_> = rows
            .iter()
            .filter(|i| i.compliance_level == ComplianceLevel::High && i.classification == "Bugfix")
            .collect();
        assert_eq!(reply.body["count"], expected.len(), "{name}");
        let reply = client.get(&format!("{REPORTS}/{id}?title=PKG-0001&severity_level=Moderate")).await;
        let mut expected: Vec<String> = order
            .iter()
            .filter(|t| t.contains("pkg-0001"))
            .filter(|t| rows.iter().any(|r| &&r.title == t && r.severity_level == "Moderate"))
            .cloned()
            .collect();
        expected.reverse();
        assert!(!expected.is_empty());
        assert_eq!(reply.body["count"], expected.len(), "{name}");
        assert_eq!(ids_of(&reply.body, "compliance_items", "title"), expected, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_queries_are_400s_naming_the_parameter_and_unknown_reports_404() {
    for (name, client, backend) in clients("p-bad").await {
        save(&backend, "p-bad", "h1", 1, &items("pkg", 4)).await;
        let id = report_id("h1", "bl-ubuntu");
        let items_path = format!("{REPORTS}/{id}");
        let cases: Vec<(String, &str)> = vec![
            (format!("{REPORTS}?sort_key=name"), "sort_key"),
            (format!("{REPORTS}?sort_key=installed_time"), "sort_key"),
            (format!("{REPORTS}?sort_dir=up"), "sort_dir"),
            (format!("{REPORTS}?offset=0"), "offset"),
            (format!("{REPORTS}?offset=1000001"), "offset"),
            (format!("{REPORTS}?offset=x"), "offset"),
            (format!("{REPORTS}?limit=0"), "limit"),
            (format!("{REPORTS}?limit=101"), "limit"),
            (format!("{REPORTS}?compliant_status=partly"), "compliant_status"),
            (format!("{REPORTS}?report_scene=VM"), "report_scene"),
            (format!("{REPORTS}?name={}", "n".repeat(129)), "name"),
            (format!("{items_path}?sort_key=report_time"), "sort_key"),
            (format!("{items_path}?sort_dir=DESC"), "sort_dir"),
            (format!("{items_path}?offset=0"), "offset"),
            (format!("{items_path}?limit=101"), "limit"),
            (format!("{items_path}?patch_status=INSTALLED_LATER"), "patch_status"),
            (format!("{items_path}?compliance_level=SEVERE"), "compliance_level"),
            (format!("{items_path}?title="), "title"),
        ];
        for (path, field) in cases {
            let reply = client.get(&path).await;
            assert_eq!(reply.status, 400, "{name}: {path}: {}", reply.body);
            assert!(reply.error_msg().contains(field), "{name}: {path}: {}", reply.body);
            assert!(!reply.error_code().is_empty(), "{name}: {path}: {}", reply.body);
        }
        let reply = client.get(&format!("{REPORTS}/{}", "0".repeat(32))).await;
        assert_eq!(reply.status, 404, "{name}: {}", reply.body);
        assert!(!reply.error_code().is_empty() && !reply.error_msg().is_empty(), "{name}: {}", reply.body);
        let reply = client.post(REPORTS, &json!({})).await;
        assert_eq!(reply.status, 405, "{name}: {}", reply.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_sees_only_its_own_reports() {
    for (name, client, backend) in clients("p-mine").await {
        save(&backend, "p-mine", "h1", 1, &items("pkg", 4)).await;
        save(&backend, "p-theirs", "h2", 1, &items("pkg", 4)).await;
        let stranger = client.in_project("p-theirs").await;
        let mine = client.get(REPORTS).await;
        assert_eq!(
            (mine.body["count"].as_u64(), ids_of(&mine.body, "instance_compliant", "instance_id")),
            (Some(1), vec!["h1".into()]),
            "{name}"
        );
        let theirs = stranger.get(REPORTS).await;
        assert_eq!(ids_of(&theirs.body, "instance_compliant", "instance_id"), ["h2"], "{name}");
        let my_id = report_id("h1", "bl-ubuntu");
        assert_eq!(stranger.get(&format!("{REPORTS}/{my_id}")).await.status, 404, "{name}");
        // Claiming the other project with one's own key changes nothing.
        assert_eq!(
            client
                .claiming_project("p-theirs")
                .get(&format!("{REPORTS}/{}", report_id("h2", "bl-ubuntu")))
                .await
                .status
                / 100,
            4,
            "{name}"
        );
        assert_eq!(client.unauthenticated().get(REPORTS).await.status, 401, "{name}");
    }
}
