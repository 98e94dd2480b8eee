"""The upload storage service: size and type limits, hostile names, content-addressed storage, guarded serving."""

import hashlib
import io
import struct
import zipfile
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from tenants import files, rls
from tenants.models import StoredFile
from tests.multipart import raw_multipart


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = zlib.compress(b"\x00\xff\x00\x00")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def office(kind: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml" if kind == "docx" else "xl/workbook.xml", "<x/>")
    return buffer.getvalue()


SAMPLES = {
    "report.pdf": (b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf"),
    "photo.png": (png_bytes(), "image/png"),
    "scan.jpg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9", "image/jpeg"),
    "results.csv": (b"test,spec,result\nassay,95-105%,99.1%\npH,6.8-7.2,7.0\n", "text/csv"),
    "data.xlsx": (office("xlsx"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "memo.docx": (office("docx"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
}


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@pytest.mark.parametrize("name", list(SAMPLES))
def test_allowed_types_are_stored_under_their_sha256(cast, name, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    content, mime = SAMPLES[name]
    stored = files.file_store(membership=cast.memberships["acme.qa"], record=cast.partnership("helix", "acme"),
                              upload=upload(name, content))
    assert stored.mime_type == mime and stored.size == len(content) and stored.original_name == name
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    path = files.storage_path(stored.sha256)
    assert path.name == stored.sha256 and path.read_bytes() == content


@pytest.mark.parametrize(("name", "content", "message"), [
    ("program.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "Only PDF, PNG, JPEG, CSV, XLSX and DOCX"),
    ("photo.pdf", png_bytes(), "The content is PNG"),
    ("page.html", b"<html><script>alert(1)</script></html>", "Only PDF, PNG"),
    ("a\\b.pdf", SAMPLES["report.pdf"][0], "may not contain paths"),
    ("evil\u202efdp.csv", SAMPLES["results.csv"][0], "control or invisible characters"),
    ("nul\x00.pdf", SAMPLES["report.pdf"][0], "control or invisible characters"),
    (".htaccess", b"a,b\n1,2\n", "may not start with a dot"),
    ("x" * 250 + ".pdf", SAMPLES["report.pdf"][0], "1 to 200 characters"),
    ("empty.pdf", b"", "empty"),
])
def test_refused_uploads_name_the_field_and_store_nothing(cast, name, content, message, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ValidationError) as info:
        files.file_store(membership=cast.memberships["acme.qa"], record=cast.partnership("helix", "acme"),
                         upload=upload(name, content))
    assert message in " ".join(info.value.message_dict["file"])
    assert StoredFile.objects.count() == 0
    assert not list((tmp_path / "files").glob("??/*")) if (tmp_path / "files").exists() else True


def test_too_big_is_refused(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.UPLOAD_MAX_BYTES = 2048
    with pytest.raises(ValidationError) as info:
        files.file_store(membership=cast.memberships["acme.qa"], record=cast.partnership("helix", "acme"),
                         upload=upload("big.csv", b"a,b\n" + b"1,2\n" * 1000))
    assert "at most" in info.value.message_dict["file"][0]
    assert StoredFile.objects.count() == 0


def test_viewer_cannot_upload(cast, settings, tmp_path):
    from django.core.exceptions import PermissionDenied

    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(PermissionDenied):
        files.file_store(membership=cast.memberships["helix.viewer"], record=cast.partnership("helix", "acme"),
                         upload=upload("report.pdf", SAMPLES["report.pdf"][0]))


@pytest.fixture
def stored(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return files.file_store(membership=cast.memberships["acme.qa"], record=cast.partnership("helix", "acme"),
                            upload=upload("batch-record.pdf", SAMPLES["report.pdf"][0]))


def test_download_only_where_the_record_is_visible(cast, client_for, stored):
    url = reverse("file-download", args=[stored.pk])
    for username in ("acme.qa", "helix.qa", "helix.viewer"):
        response = client_for(username).get(url)
        assert response.status_code == 200, username
        assert response["Content-Disposition"].startswith('attachment; filename="batch-record.pdf"')
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Checksum-SHA256"] == stored.sha256
        assert b"".join(response.streaming_content) == SAMPLES["report.pdf"][0]
    for username in ("northwind.qa", "borealis.qa"):
        assert client_for(username).get(url).status_code == 404, username


def test_rls_hides_file_rows_of_invisible_records(cast, stored):
    membership = cast.memberships["borealis.qa"]
    with rls.scoped(rls.Context(user_id=membership.user_id, organization_id=membership.organization_id,
                                membership_id=membership.pk)), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tenants_storedfile")
        assert cursor.fetchone() == (0,)
    membership = cast.memberships["helix.qa"]
    with rls.scoped(rls.Context(user_id=membership.user_id, organization_id=membership.organization_id,
                                membership_id=membership.pk)), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tenants_storedfile")
        assert cursor.fetchone() == (1,)
        cursor.execute("UPDATE tenants_storedfile SET original_name = 'x'")
        assert cursor.rowcount == 0


def test_page_upload_and_listing(cast, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    partnership = cast.partnership("helix", "acme")
    client = client_for("helix.qa")
    response = client.post(reverse("partnership-file-upload", args=[partnership.pk]),
                           {"file": upload("audit-report.pdf", SAMPLES["report.pdf"][0])})
    assert response.status_code == 302
    body = client.get(reverse("partnership-detail", args=[partnership.pk])).content.decode()
    assert "audit-report.pdf" in body and hashlib.sha256(SAMPLES["report.pdf"][0]).hexdigest() in body
    bad = client.post(reverse("partnership-file-upload", args=[partnership.pk]),
                      {"file": upload("audit.pdf", png_bytes())})
    assert bad.status_code == 400 and "The content is PNG" in bad.content.decode()
    assert StoredFile.objects.count() == 1


def test_api_upload_list_and_download(cast, api_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    partnership = cast.partnership("helix", "acme")
    client = api_for("acme.qa")
    response = client.post(reverse("api:file-list"), {"record_type": "partnership", "record_id": partnership.pk,
                                                      "file": upload("coa.pdf", SAMPLES["report.pdf"][0])},
                           format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sha256"] == hashlib.sha256(SAMPLES["report.pdf"][0]).hexdigest()
    listed = api_for("helix.qa").get(reverse("api:file-list")).json()["results"]
    assert [f["id"] for f in listed] == [body["id"]]
    download = api_for("helix.qa").get(reverse("api:file-download", args=[body["id"]]))
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    foreign = client.post(reverse("api:file-list"), {
        "record_type": "partnership", "record_id": cast.partnership("northwind", "borealis").pk,
        "file": upload("x.pdf", SAMPLES["report.pdf"][0])}, format="multipart")
    assert foreign.status_code == 404
    refused = client.post(reverse("api:file-list"), {"record_type": "partnership", "record_id": partnership.pk,
                                                     "file": upload("x.pdf", b"MZ" + b"\x00" * 40)},
                          format="multipart")
    assert refused.status_code == 400 and "file" in refused.json()["error"]["fields"]


@pytest.mark.parametrize("name", ["../../etc/passwd.pdf", "/etc/passwd.pdf", "..", "a/../b.pdf"])
def test_names_with_paths_are_refused_by_the_service(name):
    with pytest.raises(ValidationError) as info:
        files.check_name(name)
    assert "may not contain paths" in info.value.message_dict["file"][0] or "dot" in info.value.message_dict["file"][0]


def test_traversal_in_an_http_upload_never_reaches_storage(cast, client_for, settings, tmp_path):
    """Django's multipart parser keeps only the base name; the bytes are stored under their SHA-256 anyway."""
    settings.MEDIA_ROOT = tmp_path
    partnership = cast.partnership("helix", "acme")
    client_for("helix.qa").post(reverse("partnership-file-upload", args=[partnership.pk]),
                                {"file": upload("../../etc/passwd.pdf", SAMPLES["report.pdf"][0])})
    stored = StoredFile.objects.get()
    assert stored.original_name == "passwd.pdf"
    assert files.storage_path(stored.sha256).resolve().is_relative_to(tmp_path.resolve())


@pytest.mark.parametrize("name", ["../../etc/passwd.pdf", "..\\evil.pdf", ".profile.pdf"])
def test_the_api_refuses_a_hostile_name_as_sent(cast, api_for, settings, tmp_path, name):
    """Every API upload goes through qms.parsers.NameCheckingMultiPartParser: refused, not silently renamed."""
    settings.MEDIA_ROOT = tmp_path
    partnership = cast.partnership("helix", "acme")
    body, content_type = raw_multipart({"record_type": "partnership", "record_id": str(partnership.pk)}, name,
                                       SAMPLES["report.pdf"][0])
    response = api_for("acme.qa").generic("POST", reverse("api:file-list"), body, content_type=content_type)
    assert response.status_code == 400, response.content
    assert "file" in response.json()["error"]["fields"]
    assert not StoredFile.objects.exists()
