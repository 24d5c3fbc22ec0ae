"""Incident attachments through the official SDK: `create_external_coc_attachment`
sends the file as the SDK's multipart form, `download_attachment` reads it
back within the tenant; files too large or of a forbidden type are refused."""
import os
import tempfile
import uuid

import pytest
from huaweicloudsdkcoc.v1 import (
    CreateExternalCocAttachmentRequest,
    CreateExternalCocAttachmentRequestBody,
    DownloadAttachmentRequest,
)
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.formdata import FormFile

from conftest import client_for, create_credential

MAX_BYTES = 10 * 1024 * 1024


def new_client(endpoint, project_id=None):
    key = create_credential(project_id or uuid.uuid4().hex)
    return client_for(endpoint, key["access_key"], key["secret_key"], key["project_id"])


def a_file(name, content):
    path = os.path.join(tempfile.mkdtemp(prefix="coc-sdk-attach-"), name)
    with open(path, "wb") as f:
        f.write(content)
    return path


def upload(client, path):
    body = CreateExternalCocAttachmentRequestBody(file=FormFile(path))
    return client.create_external_coc_attachment(CreateExternalCocAttachmentRequest(body=body))


def download(client, doc_id):
    return client.download_attachment(DownloadAttachmentRequest(ticket_type="incident", doc_id=doc_id))


def test_an_attachment_is_uploaded_and_downloaded_within_its_tenant(endpoint):
    client = new_client(endpoint)
    content = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 100
    created = upload(client, a_file("graph.png", content))
    assert created.code == "0"
    assert created.data.doc_name == "graph.png"
    doc_id = created.data.doc_id

    downloaded = download(client, doc_id)
    assert downloaded.status_code == 200
    assert downloaded.raw_content == content

    stranger = new_client(endpoint)
    with pytest.raises(ClientRequestException) as refused:
        download(stranger, doc_id)
    assert refused.value.status_code == 404


def test_files_too_large_or_of_a_forbidden_type_are_refused(endpoint):
    client = new_client(endpoint)
    for name, content in [
        ("big.txt", b"x" * (MAX_BYTES + 1)),
        ("page.html", b"<html></html>"),
        ("fake.pdf", b"not a pdf"),
    ]:
        with pytest.raises(ClientRequestException) as refused:
            upload(client, a_file(name, content))
        assert refused.value.status_code == 400, name
        assert refused.value.error_msg.startswith("file:"), refused.value.error_msg
    # The largest file is taken.
    created = upload(client, a_file("at-limit.txt", b"y" * MAX_BYTES))
    assert len(download(client, created.data.doc_id).raw_content) == MAX_BYTES
