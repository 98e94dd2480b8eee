"""Part 11 electronic signatures on the demo record (a partnership)."""

import json
import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse

from part11 import signatures
from part11.models import AuditEvent, Signature
from tenants.models import Partnership, SecurityEvent
from tests.factories import PASSWORD, MembershipFactory, UserFactory


def sign(cast, username, step, password=PASSWORD, record=None):
    return signatures.sign(request=RequestFactory().post("/", REMOTE_ADDR="198.51.100.30"),
                           membership=cast.memberships[username],
                           record=record or cast.partnership("northwind", "acme"), step=step, password=password)


def second_approver(cast):
    user = UserFactory(username="northwind.qa2", first_name="Noah", last_name="Quist")
    return MembershipFactory(user=user, organization=cast.orgs["northwind"], role="qa_approver")


def test_wrong_password_is_refused_counted_and_recorded(cast):
    with pytest.raises(ValidationError) as info:
        sign(cast, "northwind.qa", "review", password="wrong")
    assert "password" in info.value.message_dict
    assert Signature.objects.count() == 0
    assert SecurityEvent.objects.filter(kind="signature_failed", subject="northwind.qa").count() == 1
    assert AccessAttempt.objects.get(username="northwind.qa").failures_since_start == 1


def test_signature_stores_name_time_meaning_and_hash_and_is_manifested(cast, client_for):
    signature = sign(cast, "northwind.qa", "review")
    assert signature.printed_name == "Nora Whitfield" and signature.meaning == "reviewed"
    assert signature.content_hash == signatures.content_hash(cast.partnership("northwind", "acme"))
    assert signature.content["products"] == ["NWB-7"]
    body = client_for("acme.qa").get(reverse("partnership-detail", args=[signature.record_id])).content.decode()
    assert "Signed by <strong>Nora Whitfield</strong> on" in body and "UTC — Reviewed" in body
    verify = client_for("acme.qa").get(reverse("signature-verify", args=[signature.pk])).content.decode()
    assert "Valid: the record still matches exactly what was signed." in verify


def test_two_person_rule_and_order(cast):
    other = second_approver(cast)
    cast.memberships["northwind.qa2"] = other
    with pytest.raises(ValidationError, match="needs a live"):
        sign(cast, "northwind.qa", "approve")
    sign(cast, "northwind.qa", "review")
    with pytest.raises(ValidationError, match="two-person rule"):
        sign(cast, "northwind.qa", "approve")
    signatures.mark_audit_trail_reviewed(membership=other, record=cast.partnership("northwind", "acme"))
    approval = sign(cast, "northwind.qa2", "approve")
    assert approval.meaning == "approved" and approval.printed_name == "Noah Quist"


def test_roles_without_the_capability_cannot_sign(cast):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        sign(cast, "auditor", "review", record=cast.partnership("helix", "acme"))


def test_editing_the_record_voids_its_signatures_visibly_and_in_the_audit_trail(cast, client_for):
    signature = sign(cast, "northwind.qa", "review")
    Partnership.objects.filter(pk=signature.record_id).update(tier=3)
    signature.refresh_from_db()
    assert signature.is_void and "changed after signing" in signature.void_reason
    voiding = AuditEvent.objects.filter(record_table="part11_signature", record_id=signature.pk,
                                        action="update").get()
    assert voiding.changes["voided_at"][0] is None and voiding.changes["voided_at"][1]
    page = client_for("northwind.qa").get(reverse("partnership-detail", args=[signature.record_id])).content.decode()
    assert "VOID" in page
    verify = client_for("northwind.qa").get(reverse("signature-verify", args=[signature.pk])).content.decode()
    assert "VOID:" in verify
    # A new review is needed, and possible.
    assert sign(cast, "northwind.qa", "review").voided_at is None


def test_scope_and_attachment_changes_void_too(cast, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tenants import files

    settings.MEDIA_ROOT = tmp_path
    partnership = cast.partnership("northwind", "acme")
    first = sign(cast, "northwind.qa", "review")
    partnership.sites.remove(cast.sites["Acme Cork"])
    first.refresh_from_db()
    assert first.is_void
    second = sign(cast, "northwind.qa", "review")
    files.file_store(membership=cast.memberships["northwind.qa"], record=partnership,
                     upload=SimpleUploadedFile("audit.pdf", b"%PDF-1.7\n%%EOF\n"))
    second.refresh_from_db()
    assert second.is_void
    third = sign(cast, "northwind.qa", "review")
    assert len(third.content["attachments"]) == 1


def test_canonical_hash_is_stable_across_processes():
    content = {"b": [2, 1], "a": "é", "date": "2026-11-23", "n": None}
    reordered = json.dumps(dict(reversed(list(content.items()))))
    code = ("import json, hashlib, sys; sys.path.insert(0, '.');"
            "from part11.canonical import canonical_json;"
            f"print(hashlib.sha256(canonical_json(json.loads({reordered!r})).encode()).hexdigest())")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    import hashlib

    assert other == hashlib.sha256(signatures.canonical_json(content).encode()).hexdigest()


def test_api_sign_and_verify(cast, api_for):
    client = api_for("northwind.qa")
    partnership = cast.partnership("northwind", "acme")
    bad = client.post(reverse("api:signature-list"), {"record_type": "tenants_partnership", "record_id": partnership.pk,
                                                      "step": "review", "password": "nope"}, format="json")
    assert bad.status_code == 400 and "password" in bad.json()["error"]["fields"]
    ok = client.post(reverse("api:signature-list"), {"record_type": "tenants_partnership", "record_id": partnership.pk,
                                                     "step": "review", "password": PASSWORD}, format="json")
    assert ok.status_code == 201, ok.content
    assert ok.json()["manifestation"].startswith("Signed by Nora Whitfield on ")
    verdict = api_for("acme.qa").get(reverse("api:signature-verify", args=[ok.json()["id"]])).json()
    assert verdict["matches"] is True


def test_history_timeline_shows_signing(cast, client_for):
    signature = sign(cast, "northwind.qa", "review")
    body = client_for("northwind.qa").get(
        reverse("record-history", args=["tenants_partnership", signature.record_id])).content.decode()
    assert f"Signature {signature.pk}" in body and "Signed (reviewed)" in body
