"""The v2 incident operations through the official SDK: list, actions, tasks,
histories, and the ticket-history list."""
import uuid

from huaweicloudsdkcoc.v1 import (
    CreateCocIncidentRequest,
    CreateExternalIncidentRequest,
    ExecuteActionParamsV2,
    HandleIncidentRequest,
    ListCocTicketOperationHistoriesRequest,
    ListIncidentsHistoriesRequest,
    ListIncidentsRequest,
    ListTicketParams,
    ListTicketParamsV2,
    ListTicketParamsWithPageV2,
    ObjectFilter,
    ObjectFilterV2,
    ShowIncidentTaskRequest,
)

from conftest import client_for, create_credential, sync_engineers


def _tenant(endpoint):
    key = create_credential(uuid.uuid4().hex)
    sync_engineers(endpoint, key["project_id"], "u-1", "u-2")
    return client_for(endpoint, key["access_key"], key["secret_key"], key["project_id"])


def _create(client, title, assignee="u-1"):
    body = CreateExternalIncidentRequest(
        current_cloud_service=["app-1"], incident_level="level_30", is_service_interrupt="false",
        incident_type="inc_type_p_function_issues", incident_title=title, incident_description="d",
        incident_source="incident_source_manual", incident_assignee=[assignee], creator="u-0",
    )
    created = client.create_coc_incident(CreateCocIncidentRequest(body=body))
    assert created.error_code == "GOM.00000000"
    return created.data.incident_num


def _list(client, **params):
    answer = client.list_incidents(ListIncidentsRequest(body=ListTicketParamsWithPageV2(**params)))
    assert answer.error_code == "GOM.00000000"
    return answer.data["total"], [row["ticket_id"] for row in answer.data["list"]]


def test_open_incidents_are_listed_filtered_and_paged(endpoint):
    client = _tenant(endpoint)
    first, second = _create(client, "db down"), _create(client, "vpn flapping", assignee="u-2")
    assert _list(client) == (2, [second, first])
    assert _list(client, page=2, per_page=1) == (2, [first])
    mine = [ObjectFilterV2(field="assignee", operator="=", values=["u-1"])]
    assert _list(client, string_filters=mine) == (1, [first])
    like = [ObjectFilterV2(field="title", operator="like", values=["VPN"])]
    assert _list(client, string_filters=like) == (1, [second])

    tasks = client.show_incident_task(ShowIncidentTaskRequest(incident_id=first)).data
    assert [op.key for op in tasks[0].operations] == ["acceptedIncident1", "rejectedIncident1", "unAcceptedForward"]
    task_id = tasks[0].operations[0].task_id
    done = client.handle_incident(HandleIncidentRequest(
        incident_id=first, body=ExecuteActionParamsV2(task_id=task_id, action="acceptedIncident1", params={})))
    assert done.error_code == "GOM.00000000"
    triggered = [ObjectFilterV2(field="work_flow_status", operator="in", values=["INCIDENT_STATUS_TRIGGERED"])]
    assert _list(client, string_filters=triggered) == (1, [second])

    # The same task again: it has moved on.
    try:
        client.handle_incident(HandleIncidentRequest(
            incident_id=first, body=ExecuteActionParamsV2(task_id=task_id, action="rejectedIncident1", params={})))
        raise AssertionError("a stale task was taken")
    except Exception as refused:  # ClientRequestException
        assert refused.status_code == 400
        assert "task_id" in refused.error_msg

    # Another tenant sees nothing.
    assert _list(_tenant(endpoint)) == (0, [])


def test_an_incident_timeline_through_both_history_operations(endpoint):
    client = _tenant(endpoint)
    num = _create(client, "timeline")
    client.handle_incident(HandleIncidentRequest(
        incident_id=num, body=ExecuteActionParamsV2(action="unAcceptedForward", params={"virtual_send_assignee": "u-2"})))
    client.handle_incident(HandleIncidentRequest(
        incident_id=num, body=ExecuteActionParamsV2(action="acceptedIncident1", params={})))

    history = client.list_incidents_histories(ListIncidentsHistoriesRequest(incident_id=num, body=ListTicketParamsV2())).data
    assert history.total == 3
    assert [h.action for h in history.info] == ["create", "unAcceptedForward", "acceptedIncident1"]
    assert history.info[2].status == "INCIDENT_STATUS_ACKNOWLEDGED"
    assert history.info[1].action_name_en == "Forward"
    assert any(e.prop_id == "assignee" and e.biz_id == "u-2" for e in history.info[1].enum_data_list)

    by_ticket = [ObjectFilter(field="ticket_id", operator="=", values=[num])]
    answer = client.list_coc_ticket_operation_histories(ListCocTicketOperationHistoriesRequest(
        ticket_type="incident", body=ListTicketParams(string_filters=by_ticket)))
    assert answer.error_code == "GOM.00000000"
    assert answer.data["total"] == 3
    try:
        client.list_coc_ticket_operation_histories(ListCocTicketOperationHistoriesRequest(
            ticket_type="issues_mgmt", body=ListTicketParams(string_filters=by_ticket)))
        raise AssertionError("issue tickets have no histories here")
    except Exception as refused:  # ClientRequestException
        assert refused.status_code == 400
        assert "ticket_type" in refused.error_msg
