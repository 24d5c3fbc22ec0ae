"""Patch compliance reports (spec 4.5) through the official SDK, made by a real
scan: two coc-agent processes (COC_AGENT_BIN) on this machine scan its dpkg
database in a patch ticket (`POST /v1/patch/jobs`, ours: sent with a token from
`coc-admin issue-token`), and the SDK's list_instance_compliant and
show_instance_patch_items read the reports with every documented parameter."""
import json
import os
import subprocess
import urllib.request
import uuid

import pytest
from huaweicloudsdkcoc.v1 import (
    GetScriptJobInfoRequest,
    ListInstanceCompliantRequest,
    ListResourcesRequest,
    ShowInstancePatchItemsRequest,
)
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from conftest import _admin, client_for, create_activation, create_credential, wait

STATUSES = ("INSTALLED", "INSTALLED_OTHER", "MISSING", "REJECT", "FAILED", "PENDING_REBOOT")
LEVELS = ("critical", "high", "medium", "low", "informational", "unspecified")


def dpkg_installed():
    """The packages dpkg says are installed (their files all in place)."""
    out = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Status}\t${Package}\n"],
                         capture_output=True, text=True, check=True).stdout
    states = ("installed", "triggers-pending", "triggers-awaited")
    return [line.split("\t")[1] for line in out.splitlines() if line.split("\t")[0] in states]


def start_patch_job(endpoint, key, body):
    token = _admin("issue-token", "--access-key", key["access_key"])["token"]
    request = urllib.request.Request(endpoint + "/v1/patch/jobs", data=json.dumps(body).encode(), method="POST",
                                     headers={"X-Auth-Token": token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)["data"]


@pytest.fixture(scope="module")
def scanned(endpoint, tmp_path_factory):
    """A tenant whose two agents have each scanned this host once."""
    key = create_credential(uuid.uuid4().hex, user_id="ops", user_name="ops")
    project_id = key["project_id"]
    activation = create_activation(project_id, max_registrations=2)
    agents, processes = [], []
    for n in (1, 2):
        agent_sn = f"patch-{n}-" + uuid.uuid4().hex[:6]
        env = dict(os.environ, COC_ENDPOINT=endpoint, COC_ACTIVATION_ID=activation["activation_id"],
                   COC_ACTIVATION_CODE=activation["activation_code"],
                   COC_AGENT_STATE_DIR=str(tmp_path_factory.mktemp(agent_sn)), COC_AGENT_SN=agent_sn,
                   COC_RESOURCE_ID=f"ecs-{agent_sn}", COC_HOST_NAME=f"host-{n}", COC_FIXED_IP=f"192.168.0.{n}",
                   COC_FLOATING_IP=f"100.64.0.{n}", COC_REGION_ID="cn-north-4", COC_HEARTBEAT_SECS="1",
                   RUST_LOG="warn")
        for name in ("COC_AK", "COC_SK", "COC_PROJECT_ID", "COC_AGENT_PATCH_ROOT", "COC_AGENT_APT_OPTIONS"):
            env.pop(name, None)
        processes.append(subprocess.Popen([os.environ.get("COC_AGENT_BIN", "target/debug/coc-agent")], env=env))
        agents.append(agent_sn)
    client = client_for(endpoint, key["access_key"], key["secret_key"], project_id)
    wait(lambda: len(client.list_resources(ListResourcesRequest(provider="ecs", type="cloudservers", limit=10)).data or []) == 2,
         "both agents register", 30)
    targets = [{"resource_id": f"ecs-{sn}", "agent_sn": sn, "project_id": project_id, "region_id": "cn-north-4"}
               for sn in agents]
    # Two batches: the reports are made one after the other, so report_time orders them.
    body = {"operation": "SCAN", "timeout": 600, "execute_batches": [
        {"batch_index": 1, "rotation_strategy": "CONTINUE", "target_instances": [targets[0]]},
        {"batch_index": 2, "rotation_strategy": "CONTINUE", "target_instances": [targets[1]]}]}
    execute_uuid = start_patch_job(endpoint, key, body)
    info = lambda: client.get_script_job_info(GetScriptJobInfoRequest(execute_uuid=execute_uuid)).data
    done = wait(lambda: info().status in ("FINISHED", "ABNORMAL") and info(), "the scan ticket ends", 300)
    assert done.status == "FINISHED", done
    yield {"client": client, "project_id": project_id, "agents": agents, "execute_uuid": execute_uuid,
           "endpoint": endpoint}
    for process in processes:
        process.kill()
        process.wait()


def listed(client, **parameters):
    return client.list_instance_compliant(ListInstanceCompliantRequest(**parameters))


def refused(call):
    with pytest.raises(ClientRequestException) as error:
        call()
    return error.value


def test_each_scanned_host_has_one_report_with_summaries_that_add_up(scanned):
    client, agents = scanned["client"], scanned["agents"]
    page = listed(client, limit=100)
    assert page.count == 2
    reports = {r.instance_id: r for r in page.instance_compliant}
    assert set(reports) == {f"ecs-{sn}" for sn in agents}
    installed = len(dpkg_installed())
    for n, sn in enumerate(agents, start=1):
        report = reports[f"ecs-{sn}"]
        assert report.name == f"host-{n}"
        assert report.ip == f"192.168.0.{n}"
        assert report.eip == f"100.64.0.{n}"
        assert report.region == "cn-north-4"
        assert report.report_scene == "ECS"
        assert report.node_id == ""
        assert report.operating_system == "Debian"
        assert report.baseline_id and report.baseline_name and report.rule_type == "standard"
        assert report.execution_summary.order_id == scanned["execute_uuid"]
        assert report.execution_summary.job_id.startswith(scanned["execute_uuid"] + "-")
        assert report.execution_summary.report_time > 0
        compliant, non_compliant = report.compliant_summary, report.non_compliant_summary
        for summary, count in ((compliant.severity_summary, compliant.compliant_count),
                               (non_compliant.severity_summary, non_compliant.non_compliant_count)):
            assert sum(getattr(summary, f"{level}_count") for level in LEVELS) == count
        assert compliant.compliant_count + non_compliant.non_compliant_count >= installed
        assert report.status == ("compliant" if non_compliant.non_compliant_count == 0 else "non_compliant")
        items = client.show_instance_patch_items(ShowInstancePatchItemsRequest(instance_compliant_id=report.id, limit=1))
        assert items.count == compliant.compliant_count + non_compliant.non_compliant_count


def test_report_list_filters_paging_and_sort(scanned):
    client, agents = scanned["client"], scanned["agents"]
    first, second = (f"ecs-{sn}" for sn in agents)
    by_time = [r.instance_id for r in listed(client, sort_key="report_time", sort_dir="asc", limit=10).instance_compliant]
    assert by_time == [first, second], "batch 1 reported first"
    newest = [r.instance_id for r in listed(client, sort_key="report_time", sort_dir="desc", limit=10).instance_compliant]
    assert newest == [second, first]
    assert [r.instance_id for r in listed(client, sort_dir="asc", limit=1, offset=1).instance_compliant] == [first]
    assert [r.instance_id for r in listed(client, sort_dir="asc", limit=1, offset=2).instance_compliant] == [second]
    assert listed(client, sort_dir="asc", limit=1, offset=2).count == 2, "count is every match, not the page"
    assert listed(client, limit=10, offset=3).instance_compliant == []
    assert len(listed(client).instance_compliant) == 2, "defaults: offset 1, limit 10"
    one = {"instance_id": first, "name": "host-1", "ip": "192.168.0.1", "eip": "100.64.0.1",
           "operating_system": "Debian", "order_id": scanned["execute_uuid"]}
    for parameter, value in one.items():
        page = listed(client, limit=10, **{parameter: value})
        matched = [r.instance_id for r in page.instance_compliant]
        expected = [first, second] if parameter in ("operating_system", "order_id") else [first]
        assert sorted(matched) == sorted(expected), f"{parameter}={value}: {matched}"
        assert page.count == len(expected)
    for parameter, value in (("region", "cn-north-4"), ("report_scene", "ECS")):
        assert listed(client, limit=10, **{parameter: value}).count == 2, parameter
    nothing = {"instance_id": "ecs-none", "name": "nobody", "ip": "10.9.9.9", "eip": "10.9.9.9",
               "operating_system": "CentOS", "region": "eu-west-0", "group": "g1", "order_id": "SCT-none",
               "report_scene": "CCE", "cce_info_id": "cce-1", "enterprise_project_id": "ep-1"}
    for parameter, value in nothing.items():
        assert listed(client, limit=10, **{parameter: value}).count == 0, f"{parameter}={value}"
    statuses = {r.instance_id: r.status for r in listed(client, limit=10).instance_compliant}
    for status in ("compliant", "non_compliant"):
        page = listed(client, limit=10, compliant_status=status)
        assert sorted(r.instance_id for r in page.instance_compliant) == sorted(i for i, s in statuses.items() if s == status)
    # Another tenant sees none of it.
    key = create_credential(uuid.uuid4().hex)
    stranger = client_for(scanned["endpoint"], key["access_key"], key["secret_key"], key["project_id"])
    assert listed(stranger, limit=10).count == 0


def all_items(client, report_id, **parameters):
    items, offset = [], 1
    while True:
        page = client.show_instance_patch_items(ShowInstancePatchItemsRequest(
            instance_compliant_id=report_id, limit=100, offset=offset, **parameters))
        items.extend(page.compliance_items)
        if len(page.compliance_items) < 100:
            return items, page.count
        offset = next_offset(offset, 100)


def next_offset(offset, limit):
    """The offset of the next page (README, "Patch compliance": offset counts pages from 1)."""
    return offset + 1


def test_report_items_are_the_hosts_packages_with_filters_and_sort(scanned):
    client = scanned["client"]
    report = listed(client, instance_id=f"ecs-{scanned['agents'][0]}", limit=1).instance_compliant[0]
    items, count = all_items(client, report.id)
    assert len(items) == count
    installed = dpkg_installed()
    titles = [i.title for i in items]
    assert len(set(titles)) == len(titles), "one item per package"
    for name in installed:
        assert name in titles or name.split(":")[0] in titles, f"{name} is in the report"
    by_status = {s: [i for i in items if i.patch_detail.patch_status == s] for s in STATUSES}
    assert sum(len(v) for v in by_status.values()) == len(items)
    assert len(by_status["MISSING"]) == report.non_compliant_summary.non_compliant_count - len(by_status["REJECT"]) - len(by_status["FAILED"]) - len(by_status["PENDING_REBOOT"])
    for item in items:
        assert item.instance_id == report.instance_id
        assert item.patch_detail.patch_baseline_id == report.baseline_id
        assert item.patch_detail.patch_baseline_name == report.baseline_name
        assert item.compliance_level in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED")
    for status, expected in by_status.items():
        got, total = all_items(client, report.id, patch_status=status)
        assert total == len(expected) and sorted(i.title for i in got) == sorted(i.title for i in expected), status
    sample = items[0]
    for parameter, value in (("title", sample.title), ("classification", sample.classification),
                             ("severity_level", sample.severity_level), ("compliance_level", sample.compliance_level)):
        got, total = all_items(client, report.id, **{parameter: value})
        # title is a case-insensitive substring (README), the others exact: "rpm" also finds "rpm-libs".
        matches = (lambda i: value.lower() in i.title.lower()) if parameter == "title" else (lambda i: getattr(i, parameter) == value)
        assert total == sum(1 for i in items if matches(i)), f"{parameter}={value}"
        assert all(matches(i) for i in got)
    times = lambda page: [i.patch_detail.installed_time or 0 for i in page.compliance_items]
    asc = client.show_instance_patch_items(ShowInstancePatchItemsRequest(
        instance_compliant_id=report.id, sort_key="installed_time", sort_dir="asc", limit=100))
    desc = client.show_instance_patch_items(ShowInstancePatchItemsRequest(
        instance_compliant_id=report.id, sort_key="installed_time", sort_dir="desc", limit=100))
    assert times(asc) == sorted(times(asc)) and times(desc) == sorted(times(desc), reverse=True)
    assert len(client.show_instance_patch_items(ShowInstancePatchItemsRequest(instance_compliant_id=report.id)).compliance_items) == min(10, count)


def test_bad_parameters_are_400s_in_the_specs_shape(scanned):
    client = scanned["client"]
    report_id = listed(client, limit=1).instance_compliant[0].id
    for parameters in ({"sort_key": "name"}, {"sort_dir": "up"}, {"offset": 0}, {"offset": 1000001},
                       {"limit": 0}, {"limit": 101}, {"compliant_status": "maybe"}):
        error = refused(lambda: listed(client, **parameters))
        assert error.status_code == 400, parameters
        assert error.error_code == "COC.00040601"
        assert list(parameters)[0] in error.error_msg, (parameters, error.error_msg)
    for parameters in ({"sort_key": "title"}, {"sort_dir": "sideways"}, {"offset": 0}, {"limit": 101},
                       {"patch_status": "BROKEN"}):
        error = refused(lambda: client.show_instance_patch_items(
            ShowInstancePatchItemsRequest(instance_compliant_id=report_id, **parameters)))
        assert error.status_code == 400, parameters
        assert list(parameters)[0] in error.error_msg, (parameters, error.error_msg)
    missing = refused(lambda: client.show_instance_patch_items(
        ShowInstancePatchItemsRequest(instance_compliant_id="0" * 32)))
    assert missing.status_code == 404
