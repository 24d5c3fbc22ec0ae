"""Incidents and alarm reporting through the official SDK."""
import json
import uuid

from huaweicloudsdkcoc.v1 import (
    CreateCocIncidentRequest,
    CreateExternalIncidentRequest,
    CreateReportCustomEventRequest,
    HandleCocIncidentRequest,
    HandleExternalIncidentRequest,
    ReportCustomEventRequestBody,
    ShowCocIncidentDetailRequest,
)

from conftest import client_for, create_credential, sync_engineers
from test_auth_sdk import send, signed_request


def test_an_incident_from_creation_to_completion(endpoint):
    key = create_credential(uuid.uuid4().hex)
    sync_engineers(endpoint, key["project_id"], "u-1")
    client = client_for(endpoint, key["access_key"], key["secret_key"], key["project_id"])
    body = CreateExternalIncidentRequest(
        region=["cn-north-4"], enterprise_project=["0"], current_cloud_service=["app-1"], incident_level="level_30",
        is_service_interrupt="false", incident_type="inc_type_p_function_issues", incident_title="login fails",
        incident_description="500 on /login", incident_source="incident_source_manual", incident_assignee=["u-1"],
        creator="u-0", start_time=1704067200000,
    )
    created = client.create_coc_incident(CreateCocIncidentRequest(body=body))
    assert created.error_code == "GOM.00000000"
    assert created.provider_code == "049"
    num = created.data.incident_num

    steps = [
        ("acceptedIncident1", {}),
        ("commitSolution1", {"mtm_type": "inc_type_p_config_issues", "is_service_interrupt": False, "cause": "bad flag", "solution": "flag off"}),
        ("confirm", {"virtual_confirm_result": True, "virtual_confirm_comment": "verified"}),
    ]
    for operate_key, parameter in steps:
        answer = client.handle_coc_incident(HandleCocIncidentRequest(body=HandleExternalIncidentRequest(
            incident_num=num, operator="u-1", operate_key=operate_key, parameter=parameter)))
        assert answer.error_code == "GOM.00000000", operate_key

    detail = client.show_coc_incident_detail(ShowCocIncidentDetailRequest(incident_num=num)).data
    assert detail.status == "INCIDENT_STATUS_COMPLETED"
    assert detail.is_service_interrupt is False
    assert detail.warroom_id.startswith("WR")
    assert isinstance(detail.handle_time, int)
    assert any(e.filed_key == "work_flow_status" and e.name_en == "COMPLETED" for e in detail.enum_data_list)

    # An illegal step is a 400 that the SDK raises, with the envelope's code.
    try:
        client.handle_coc_incident(HandleCocIncidentRequest(body=HandleExternalIncidentRequest(
            incident_num=num, operator="u-1", operate_key="acceptedIncident1", parameter={})))
        raise AssertionError("accepted a completed incident")
    except Exception as refused:  # ClientRequestException
        assert refused.status_code == 400
        assert refused.error_code == "GOM.00007257"


def test_alarms_reported_through_the_sdk_open_an_incident(endpoint):
    key = create_credential(uuid.uuid4().hex)
    sync_engineers(endpoint, key["project_id"])
    client = client_for(endpoint, key["access_key"], key["secret_key"], key["project_id"])
    made = send(endpoint, signed_request(endpoint, key, "POST", "/v1/integrations",
                                          body=json.dumps({"name": "zabbix", "alarm_level_threshold": "Major"})))
    assert made.status_code == 200, made.text
    integration_key = made.json()["data"]["integration_key"]

    report = ReportCustomEventRequestBody(
        alarm_id="zbx-1", alarm_name="Disk almost full", alarm_level="Critical", time=1709118444540, name_space="prod",
        region_id="cn-north-4", application_id="app-7", resource_name="db-1", resource_id="vm-9", alarm_desc="95% used",
        url="https://zabbix.example/1", alarm_status="alarm", alarm_source="zabbix", additional={"team": "dba"},
    )
    for _ in range(3):
        answer = client.create_report_custom_event(CreateReportCustomEventRequest(integration_key=integration_key, body=report))
        assert answer.error_code == "COC.00000000"
        assert answer.error_msg == "success"

    integration_id = made.json()["data"]["integration_id"]
    alarms = send(endpoint, signed_request(endpoint, key, "GET", f"/v1/integrations/{integration_id}/alarms")).json()["data"]
    assert [(a["alarm_id"], a["occurrences"], a["alarm_status"]) for a in alarms] == [("zbx-1", 3, "alarm")]
    incident = client.show_coc_incident_detail(ShowCocIncidentDetailRequest(incident_num=alarms[0]["incident_num"])).data
    assert incident.incident_source == "incident_source_alarm"
    assert incident.incident_title == "Disk almost full"

    try:
        client.create_report_custom_event(CreateReportCustomEventRequest(integration_key="nope", body=report))
        raise AssertionError("an unknown key was accepted")
    except Exception as refused:
        assert refused.status_code == 401
        assert refused.error_code == "common.01010001"
