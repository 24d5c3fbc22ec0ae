"""War rooms through the official SDK: `create_war_room` for an incident of
the tenant with engineers as members, `list_war_rooms` with filters, paging
and counts; another tenant lists none of them; an unknown member is refused."""
import uuid

import pytest
from huaweicloudsdkcoc.v1 import (
    CreateCocIncidentRequest,
    CreateExternalIncidentRequest,
    CreateWarRoomRequest,
    CreateWarRoomRequestBody,
    ListTenantWarRoomRequestBody,
    ListWarRoomsRequest,
    ScheduleGroupInfo,
)
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from conftest import client_for, create_credential, sync_engineers


def tenant(endpoint, *engineers):
    key = create_credential(uuid.uuid4().hex)
    sync_engineers(endpoint, key["project_id"], *engineers)
    return client_for(endpoint, key["access_key"], key["secret_key"], key["project_id"])


def incident(client, title, level="level_10"):
    body = CreateExternalIncidentRequest(
        region=["cn-north-4"], enterprise_project=["0"], current_cloud_service=["app-1"], incident_level=level,
        is_service_interrupt="true", incident_type="inc_type_p_function_issues", incident_title=title,
        incident_description="checkout fails", incident_source="incident_source_manual",
        incident_assignee=["u-lead"], creator="u-lead", start_time=1704067200000,
    )
    return client.create_coc_incident(CreateCocIncidentRequest(body=body)).data.incident_num


def war_room(client, num, name, participants):
    body = CreateWarRoomRequestBody(
        war_room_name=name, description="restore checkout", region_code_list=["cn-north-4"],
        application_id_list=["app-1"], incident_number=num,
        schedule_group=[ScheduleGroupInfo(role_id="sre", scene_id="payments")], participant=participants,
        war_room_admin="u-lead", application_names=["shop"], region_names=["CN North-Beijing4"],
        enterprise_project_id="0", notification_type="NULL_GROUP",
    )
    return client.create_war_room(CreateWarRoomRequest(body=body))


def listed(client, **filters):
    return client.list_war_rooms(ListWarRoomsRequest(body=ListTenantWarRoomRequestBody(**filters))).data


def test_war_rooms_are_opened_and_listed_within_their_tenant(endpoint):
    client = tenant(endpoint, "u-lead", "u-dev")
    first = incident(client, "checkout down")
    second = incident(client, "search slow", level="level_30")
    created = war_room(client, first, "checkout room", ["u-dev"])
    assert created.error_code == "0"
    assert created.data.startswith("WR")
    war_room(client, second, "search room", [])

    everything = listed(client)
    assert [r["title"] for r in everything["list"]] == ["search room", "checkout room"]
    assert (everything["total"], everything["running_num"], everything["closed_num"]) == (2, 2, 0)
    room = everything["list"][1]
    assert room["id"] == created.data
    assert room["admin"] == "u-lead" and room["recover_member"] == ["u-dev"]
    assert room["incident"]["incident_id"] == first
    assert room["war_room_status"]["id"] == "RUNNING"

    assert [r["title"] for r in listed(client, limit=1, offset=1)["list"]] == ["checkout room"]
    assert [r["title"] for r in listed(client, incident_levels=["level_30"])["list"]] == ["search room"]
    assert [r["title"] for r in listed(client, current_users=["u-dev"])["list"]] == ["checkout room"]
    assert [r["title"] for r in listed(client, incident_num=first)["list"]] == ["checkout room"]
    assert listed(client, statistic_flag=True) == {"total_num": 2, "running_num": 2, "closed_num": 0}

    stranger = tenant(endpoint)
    assert listed(stranger)["list"] == []
    assert listed(stranger, war_room_nums=[created.data])["list"] == []


def test_an_unknown_member_or_a_second_room_for_an_incident_is_refused(endpoint):
    client = tenant(endpoint, "u-lead")
    num = incident(client, "queue stuck")
    with pytest.raises(ClientRequestException) as refused:
        war_room(client, num, "room", ["u-stranger"])
    assert refused.value.status_code == 400
    assert "participant[0]" in refused.value.error_msg
    war_room(client, num, "room", [])
    with pytest.raises(ClientRequestException) as again:
        war_room(client, num, "room again", [])
    assert again.value.status_code == 409
