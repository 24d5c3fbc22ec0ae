"""The script operations of the official SDK, unchanged except for the endpoint."""
import uuid

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcoc.v1 import (
    AcceptScriptRequest,
    AddScriptModel,
    ApprovalJobScriptModel,
    CreateScriptRequest,
    DeleteScriptRequest,
    EditScriptModel,
    GetScriptRequest,
    ListScriptsRequest,
    ReviewerInfo,
    ScriptParamDefine,
    ScriptPropertiesModel,
    UpdateScriptRequest,
)

from conftest import sync_engineers


def project():
    return uuid.uuid4().hex


def new_script(name, reviewers=None):
    return AddScriptModel(
        name=name,
        type="SHELL",
        content="echo ${who}",
        description="greets someone",
        properties=ScriptPropertiesModel(risk_level="MEDIUM", version="1.0.0", reviewers=reviewers, protocol="EMAIL"),
        script_params=[
            ScriptParamDefine(param_name="who", param_value="world", param_description="whom", param_order=1, sensitive=False),
            ScriptParamDefine(param_name="key", param_value="hunter2", param_description="secret", param_order=2, sensitive=True),
        ],
    )


def test_script_lifecycle(make_client):
    client = make_client(project())
    created = client.create_script(CreateScriptRequest(body=new_script("sdk_hello")))
    assert created.status_code == 200
    script_uuid = created.data
    assert isinstance(script_uuid, str) and script_uuid.startswith("SC") and len(script_uuid) == 25

    detail = client.get_script(GetScriptRequest(script_uuid=script_uuid)).data
    assert detail.name == "sdk_hello"
    assert detail.type == "SHELL"
    assert detail.status == "APPROVED"
    assert detail.properties.risk_level == "MEDIUM"
    assert detail.properties.protocol == "EMAIL"
    assert [p.param_name for p in detail.script_params] == ["who", "key"]
    assert detail.script_params[1].param_value == "*****************"
    assert isinstance(detail.gmt_created, int)

    page = client.list_scripts(ListScriptsRequest(limit=10, name_like="hello")).data
    assert page.total == 1
    assert page.data[0].script_uuid == script_uuid
    assert isinstance(page.data[0].id, int)

    edit = EditScriptModel(description="greets loudly", content="echo ${who}!", script_params=detail.script_params)
    updated = client.update_script(UpdateScriptRequest(script_uuid=script_uuid, body=edit))
    assert updated.data == script_uuid
    after = client.get_script(GetScriptRequest(script_uuid=script_uuid)).data
    assert after.content == "echo ${who}!"
    assert after.script_params[1].param_value == "*****************"

    deleted = client.delete_script(DeleteScriptRequest(script_uuid=script_uuid))
    assert deleted.data == script_uuid
    with pytest.raises(ClientRequestException) as missing:
        client.get_script(GetScriptRequest(script_uuid=script_uuid))
    assert missing.value.status_code == 404
    assert missing.value.error_code == "COC.00040404"


def test_errors_reach_the_sdk_with_code_message_and_request_id(make_client):
    client = make_client(project())
    client.create_script(CreateScriptRequest(body=new_script("twice")))
    with pytest.raises(ClientRequestException) as duplicate:
        client.create_script(CreateScriptRequest(body=new_script("twice")))
    assert duplicate.value.status_code == 400
    assert duplicate.value.error_code == "COC.00040601"
    assert duplicate.value.error_msg == "Exist script with same name: twice"
    assert duplicate.value.request_id

    with pytest.raises(ClientRequestException) as bad:
        client.list_scripts(ListScriptsRequest(limit=500))
    assert bad.value.status_code == 400
    assert "limit" in bad.value.error_msg


def test_review_through_accept_script(make_client, endpoint):
    tenant = project()
    author = make_client(tenant, user_id="u-author", user_name="author")
    reviewer = make_client(tenant, user_id="u-rita", user_name="rita")
    sync_engineers(endpoint, tenant)  # reviewers are engineers
    reviewers = [ReviewerInfo(reviewer_name="rita", reviewer_id="u-rita")]
    script_uuid = author.create_script(CreateScriptRequest(body=new_script("needs_review", reviewers))).data
    assert author.get_script(GetScriptRequest(script_uuid=script_uuid)).data.status == "PENDING_APPROVE"

    with pytest.raises(ClientRequestException) as forbidden:
        author.accept_script(AcceptScriptRequest(script_uuid=script_uuid, body=ApprovalJobScriptModel(status="APPROVED")))
    assert forbidden.value.status_code == 403

    accepted = reviewer.accept_script(
        AcceptScriptRequest(script_uuid=script_uuid, body=ApprovalJobScriptModel(status="APPROVED", comments="ok"))
    )
    assert accepted.data is True
    detail = author.get_script(GetScriptRequest(script_uuid=script_uuid)).data
    assert detail.status == "APPROVED"
    assert detail.creator == "author"


def test_review_is_bound_to_what_was_reviewed(make_client, endpoint):
    tenant = project()
    author = make_client(tenant, user_id="u-author", user_name="author")
    reviewer = make_client(tenant, user_id="u-rita", user_name="rita")
    sync_engineers(endpoint, tenant)  # reviewers are engineers
    reviewers = [
        ReviewerInfo(reviewer_name="rita", reviewer_id="u-rita"),
        ReviewerInfo(reviewer_name="author", reviewer_id="u-author"),
    ]
    script_uuid = author.create_script(CreateScriptRequest(body=new_script("bound_review", reviewers))).data

    def approve(client):
        body = ApprovalJobScriptModel(status="APPROVED")
        return client.accept_script(AcceptScriptRequest(script_uuid=script_uuid, body=body))

    def edit_from(detail, **changes):
        edit = EditScriptModel(
            description=detail.description,
            content=detail.content,
            properties=detail.properties,
            script_params=detail.script_params,
        )
        for name, value in changes.items():
            setattr(edit, name, value)
        return UpdateScriptRequest(script_uuid=script_uuid, body=edit)

    with pytest.raises(ClientRequestException) as own:
        approve(author)
    assert own.value.status_code == 403  # a reviewer, but the author
    assert approve(reviewer).data is True

    # The reviewer sends back what she read with only the risk level changed: allowed, still approved.
    detail = reviewer.get_script(GetScriptRequest(script_uuid=script_uuid)).data
    detail.properties.risk_level = "HIGH"
    reviewer.update_script(edit_from(detail))
    detail = author.get_script(GetScriptRequest(script_uuid=script_uuid)).data
    assert (detail.properties.risk_level, detail.status) == ("HIGH", "APPROVED")

    with pytest.raises(ClientRequestException) as refused:
        reviewer.update_script(edit_from(detail, content="echo rita was here"))
    assert refused.value.status_code == 403
    assert "content" in refused.value.error_msg

    # The author's change of content needs a new approval.
    author.update_script(edit_from(detail, content="echo ${who} changed"))
    assert author.get_script(GetScriptRequest(script_uuid=script_uuid)).data.status == "PENDING_APPROVE"
    assert approve(reviewer).data is True
    assert author.get_script(GetScriptRequest(script_uuid=script_uuid)).data.content == "echo ${who} changed"


def test_projects_are_isolated(make_client):
    owner, stranger = make_client(project()), make_client(project())
    script_uuid = owner.create_script(CreateScriptRequest(body=new_script("mine"))).data
    with pytest.raises(ClientRequestException) as hidden:
        stranger.get_script(GetScriptRequest(script_uuid=script_uuid))
    assert hidden.value.status_code == 404
    with pytest.raises(ClientRequestException):
        stranger.delete_script(DeleteScriptRequest(script_uuid=script_uuid))
    assert stranger.list_scripts(ListScriptsRequest(limit=10)).data.total == 0
    stranger.create_script(CreateScriptRequest(body=new_script("mine")))  # names are per tenant
    assert owner.get_script(GetScriptRequest(script_uuid=script_uuid)).data.name == "mine"
