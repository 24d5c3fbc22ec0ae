"""Alertmanager's webhook through the official SDK's create_report_prometheus_event."""

import uuid

from huaweicloudsdkcoc.v1 import CreateReportPrometheusEventRequest

from conftest import call_api, client_for, create_credential, sync_engineers


def notification(status, ends_at="0001-01-01T00:00:00Z"):
    return {
        "version": "4", "status": status, "receiver": "coc", "groupKey": '{}:{alertname="DiskFull"}',
        "groupLabels": {"alertname": "DiskFull"}, "commonLabels": {"alertname": "DiskFull", "severity": "critical"},
        "commonAnnotations": {"summary": "disk full"}, "externalURL": "http://alertmanager:9093", "truncatedAlerts": 0,
        "alerts": [{
            "status": status,
            "labels": {"alertname": "DiskFull", "instance": "db-1:9100", "job": "node", "severity": "critical"},
            "annotations": {"summary": "disk full"},
            "startsAt": "2024-05-01T10:00:00Z", "endsAt": ends_at,
            "generatorURL": "http://prometheus:9090/graph", "fingerprint": "5ad1f8c0d3b2a190",
        }],
    }


def test_alertmanager_notifications_through_the_sdk(endpoint):
    key = create_credential(uuid.uuid4().hex)
    sync_engineers(endpoint, key["project_id"])
    made = call_api(endpoint, key, "POST", "/v1/integrations", {"name": "prometheus"})
    assert made.status_code == 200, made.text
    integration = made.json()["data"]
    client = client_for(endpoint, key["access_key"], key["secret_key"], key["project_id"])

    def report(body, integration_key=integration["integration_key"]):
        return client.create_report_prometheus_event(
            CreateReportPrometheusEventRequest(integration_key=integration_key, body=body))

    for _ in range(2):
        answer = report(notification("firing"))
        assert answer.error_code == "COC.00000000"
        assert answer.error_msg == "success"
    alarms_path = f"/v1/integrations/{integration['integration_id']}/alarms"
    alarms = call_api(endpoint, key, "GET", alarms_path).json()["data"]
    assert [(a["alarm_id"], a["alarm_name"], a["alarm_level"], a["occurrences"], a["alarm_status"]) for a in alarms] == [
        ("5ad1f8c0d3b2a190", "DiskFull", "Critical", 2, "alarm")]
    assert alarms[0]["incident_num"], "a Critical alarm opens an incident"

    report(notification("resolved", ends_at="2024-05-01T10:05:00Z"))
    alarms = call_api(endpoint, key, "GET", alarms_path).json()["data"]
    assert [(a["alarm_id"], a["alarm_status"]) for a in alarms] == [("5ad1f8c0d3b2a190", "ok")]

    bad = notification("firing")
    bad["alerts"][0]["startsAt"] = "yesterday"
    try:
        report(bad)
        raise AssertionError("a bad notification was accepted")
    except Exception as refused:
        assert refused.status_code == 400
        assert refused.error_code == "COC.00000001"
        assert "alerts[0].startsAt" in refused.error_msg
    try:
        report(notification("firing"), integration_key="nope")
        raise AssertionError("an unknown key was accepted")
    except Exception as refused:
        assert refused.status_code == 401
        assert refused.error_code == "common.01010001"
