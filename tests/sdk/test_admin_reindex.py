"""`coc-admin reindex` on a data file of an earlier version: its scripts have
no list keys and no counts, so the SDK's list shows none of them until the
operator reindexes the project, while the server is serving it."""
import os
import sqlite3
import uuid

import pytest
from huaweicloudsdkcoc.v1 import CreateScriptRequest, ListScriptsRequest

from conftest import BACKEND, DATA_DIR, _admin
from test_scripts_sdk import new_script


def as_an_earlier_version_stored_it(project_id):
    """Drops the list keys and counts of the project's scripts, as files made before them lack."""
    db = sqlite3.connect(os.path.join(DATA_DIR, "coc.sqlite3"), timeout=30)
    with db:
        db.execute(
            "UPDATE items SET list_pk = NULL, list_sk = NULL, filter_pk = NULL, filter_sk = NULL"
            " WHERE pk = ? AND sk LIKE 'SCRIPT#%'",
            (f"PROJECT#{project_id}",),
        )
        db.execute("DELETE FROM counters WHERE pk = ? AND sk LIKE 'COUNT#SCRIPT%'", (f"PROJECT#{project_id}",))
    db.close()


@pytest.mark.skipif(BACKEND != "embedded", reason="edits the embedded SQLite file directly")
def test_reindex_brings_back_scripts_of_an_earlier_version(make_client):
    project_id = uuid.uuid4().hex
    client = make_client(project_id)
    for n in range(3):
        client.create_script(CreateScriptRequest(body=new_script(f"old_{n}")))
    as_an_earlier_version_stored_it(project_id)
    listed = client.list_scripts(ListScriptsRequest(limit=10))
    assert (listed.data.total, listed.data.data) == (0, [])

    done = _admin("reindex", "--project-id", project_id)
    assert (done["scripts_read"], done["scripts_indexed"], done["project_id"]) == (3, 3, project_id)
    listed = client.list_scripts(ListScriptsRequest(limit=10))
    assert listed.data.total == 3
    assert sorted(s.name for s in listed.data.data) == ["old_0", "old_1", "old_2"]

    again = _admin("reindex", "--project-id", project_id)
    assert again["scripts_indexed"] == 0
    assert client.list_scripts(ListScriptsRequest(limit=10)).data.total == 3
