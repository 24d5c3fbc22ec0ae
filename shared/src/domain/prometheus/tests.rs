//! The mapping of Alertmanager's documented sample payload (version 4, as in
//! the `webhook_config` documentation) onto alarm reports.

use serde_json::{json, Value};

use super::*;
use crate::domain::alarm::{AlarmReport, AlarmStatus};
use crate::domain::incident::AlarmLevel;

/// Alertmanager's sample notification: one firing blackbox probe alert.
fn sample() -> Value {
    json!({
      "receiver": "sms",
      "status": "firing",
      "alerts": [{
          "status": "firing",
          "labels": {
            "alertname": "ProbeFailure", "instance": "https://server.example.org", "job": "http_checks",
            "monitor": "master", "severity": "critical"
          },
          "annotations": {
            "description": "Instance https://server.example.org has been down for over 5m. Job: http_checks",
            "summary": "BlackBox Probe Failure: https://server.example.org"
          },
          "startsAt": "2023-02-06T13:08:45.828Z",
          "endsAt": "0001-01-01T00:00:00Z",
          "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0&g0.tab=1",
          "fingerprint": "1a30ba71cca2921f"
      }],
      "groupLabels": {"alertname": "ProbeFailure"},
      "commonLabels": {
        "alertname": "ProbeFailure", "instance": "https://server.example.org", "job": "http_checks",
        "monitor": "master", "severity": "critical"
      },
      "commonAnnotations": {
        "description": "Instance https://server.example.org has been down for over 5m. Job: http_checks",
        "summary": "BlackBox Probe Failure: https://server.example.org"
      },
      "externalURL": "http://prometheus.example.org:9093",
      "version": "4",
      "groupKey": "{}/{severity=\"critical\"}:{alertname=\"ProbeFailure\"}",
      "truncatedAlerts": 0
    })
}

fn reports(body: &Value) -> Vec<AlarmReport> {
    let notification = Notification::parse(body).expect("a valid notification");
    notification.reports(&LabelNames::default()).unwrap().iter().map(|e| AlarmReport::parse(e).unwrap()).collect()
}

#[test]
fn the_documented_sample_is_one_critical_alarm_named_by_its_alertname() {
    let [report] = reports(&sample()).try_into().unwrap();
    assert_eq!(report.alarm_id, "1a30ba71cca2921f");
    assert_eq!(report.alarm_name, "ProbeFailure");
    assert_eq!(report.alarm_level, AlarmLevel::Critical);
    assert_eq!(report.alarm_status, AlarmStatus::Alarm);
    assert_eq!(report.time, 1_675_688_925_828);
    assert_eq!(report.resource_name.as_deref(), Some("https://server.example.org"));
    assert_eq!(report.resource_id.as_deref(), Some("https://server.example.org"));
    assert_eq!(report.application_id, "http_checks");
    assert_eq!(report.alarm_desc, "BlackBox Probe Failure: https://server.example.org");
    assert_eq!(report.alarm_source, "Prometheus Alertmanager");
    let url = "http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0&g0.tab=1";
    assert_eq!(report.url.as_deref(), Some(url));
    let additional = report.additional.unwrap();
    assert_eq!(additional["generatorURL"], url);
    assert_eq!(additional["labels"]["monitor"], "master");
    assert_eq!(additional["externalURL"], "http://prometheus.example.org:9093");
    assert_eq!(additional["endsAt"], Value::Null, "Go's zero time means still firing");
}

#[test]
fn a_resolved_alert_is_an_ok_report_of_the_same_alarm_at_its_end() {
    let mut body = sample();
    body["status"] = json!("resolved");
    body["alerts"][0]["status"] = json!("resolved");
    body["alerts"][0]["endsAt"] = json!("2023-02-06T13:18:45Z");
    let [report] = reports(&body).try_into().unwrap();
    assert_eq!(report.alarm_id, "1a30ba71cca2921f");
    assert_eq!(report.alarm_status, AlarmStatus::Ok);
    assert_eq!(report.time, 1_675_689_525_000);
}

#[test]
fn severity_labels_map_onto_alarm_levels() {
    for (value, level) in [
        ("critical", AlarmLevel::Critical),
        ("Critical", AlarmLevel::Critical),
        ("page", AlarmLevel::Critical),
        ("error", AlarmLevel::Major),
        ("high", AlarmLevel::Major),
        ("major", AlarmLevel::Major),
        ("warning", AlarmLevel::Minor),
        ("WARN", AlarmLevel::Minor),
        ("info", AlarmLevel::Info),
        ("low", AlarmLevel::Info),
        ("whatever", AlarmLevel::Major),
    ] {
        assert_eq!(severity(Some(value)), level, "{value}");
    }
    assert_eq!(severity(None), AlarmLevel::Major);
}

#[test]
fn configured_label_names_pick_severity_resource_and_service() {
    let mut body = sample();
    body["alerts"][0]["labels"] = json!({"alertname": "x", "priority": "info", "host": "db-1", "team": "dba"});
    body["commonLabels"] = json!({});
    let names = LabelNames { severity: "priority".into(), resource: "host".into(), service: "team".into() };
    let events = Notification::parse(&body).unwrap().reports(&names).unwrap();
    let report = AlarmReport::parse(&events[0]).unwrap();
    assert_eq!(report.alarm_level, AlarmLevel::Info);
    assert_eq!(report.resource_name.as_deref(), Some("db-1"));
    assert_eq!(report.application_id, "dba");
}

#[test]
fn an_alert_without_fingerprint_gets_one_from_its_labels() {
    let mut body = sample();
    body["alerts"][0].as_object_mut().unwrap().remove("fingerprint");
    let first = reports(&body).remove(0).alarm_id;
    assert_eq!(first.len(), 16);
    assert_eq!(reports(&body).remove(0).alarm_id, first, "the same labels, the same alarm");
    body["alerts"][0]["labels"]["instance"] = json!("other");
    assert_ne!(reports(&body).remove(0).alarm_id, first);
}

#[test]
fn a_bare_alert_still_makes_a_valid_report() {
    // Alertmanager's API takes alerts with no alertname, annotations or links.
    let body = json!({"alerts": [{"status": "firing", "labels": {"a": "b"}, "startsAt": "2024-01-01T00:00:00Z"}]});
    let [report] = reports(&body).try_into().unwrap();
    assert_eq!(report.alarm_name, "Prometheus alert");
    assert_eq!(report.alarm_desc, "Prometheus alert");
    assert_eq!(report.application_id, "prometheus");
    assert_eq!(report.resource_name, None);
    assert_eq!(report.alarm_level, AlarmLevel::Major);
}

#[test]
fn long_label_values_are_cut_to_the_report_and_kept_whole_in_additional() {
    let mut body = sample();
    let long = "x".repeat(1000);
    body["alerts"][0]["labels"]["alertname"] = json!(long);
    body["alerts"][0]["generatorURL"] = json!(format!("http://p/{long}"));
    let [report] = reports(&body).try_into().unwrap();
    assert_eq!(report.alarm_name.chars().count(), 255);
    assert_eq!(report.url, None, "a cut link leads nowhere");
    let additional = report.additional.unwrap();
    assert_eq!(additional["labels"]["alertname"], json!(long));
    assert_eq!(additional["generatorURL"], json!(format!("http://p/{long}")));
}

#[test]
fn every_problem_is_reported_with_its_field() {
    let body = json!({
        "status": "burning",
        "alerts": [
            {"status": "pending", "labels": {"a": 1}, "startsAt": "yesterday"},
            {"status": "firing", "labels": {}, "endsAt": "2024-01-01T00:00:00Z"},
        ],
        "truncatedAlerts": -1,
    });
    let problems = Notification::parse(&body).unwrap_err();
    for expected in [
        "status must be firing or resolved",
        "alerts[0].status must be firing or resolved",
        "alerts[0].labels.a must be a string",
        "alerts[0].startsAt must be an RFC 3339 time",
        "alerts[1].startsAt must not be null",
        "truncatedAlerts must be a whole number",
    ] {
        assert!(problems.contains(expected), "{expected:?} missing from {problems}");
    }
}

#[test]
fn counts_of_alerts_and_labels_are_bounded() {
    let mut body = sample();
    body["alerts"] = json!([]);
    assert!(Notification::parse(&body).unwrap_err().contains("alerts: 1 to 200 alerts"));
    let mut body = sample();
    let labels: serde_json::Map<String, Value> = (0..65).map(|i| (format!("l{i}"), json!("v"))).collect();
    body["alerts"][0]["labels"] = Value::Object(labels.clone());
    assert!(Notification::parse(&body).unwrap_err().contains("alerts[0].labels: at most 64 entries"));
    let at_limit: serde_json::Map<String, Value> = labels.into_iter().take(64).collect();
    body["alerts"][0]["labels"] = Value::Object(at_limit);
    assert!(Notification::parse(&body).is_ok());
    body["alerts"][0]["labels"] = json!({"x".repeat(129): "v"});
    assert!(Notification::parse(&body).unwrap_err().contains("alerts[0].labels: a name must be 1 to 128"));
    for missing in ["alerts", "body"] {
        let body = if missing == "body" { json!([]) } else { json!({}) };
        assert!(Notification::parse(&body).is_err(), "{missing}");
    }
}
