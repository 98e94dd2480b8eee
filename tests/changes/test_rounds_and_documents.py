"""Revising a change after a sponsor rejects it (a new approval round), and documents linked after approval.

A rejection ends the round for that sponsor; the owner withdraws the change for revision (the round's notice clocks
stop, its sponsors are told), revises it, and submits it again: the new round needs fresh signed decisions, and the
earlier round's routes and signatures stay as history. Linked documents are the owner's, seen by the sponsors that
see the change, and refused before approval or when the file is not acceptable.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from changes import selectors, services
from changes.models import Approval, ChangeDocument, ChangeRequest, SponsorRoute
from clocks.models import Deadline, Notification
from part11.signatures import signatures_of, verify
from tests.agreements.helpers import acting, effective
from tests.changes.helpers import (
    AUTHOR,
    LIKE_FOR_LIKE,
    assess,
    confirm_all,
    implement,
    qa_approve,
    raise_change,
    sponsor_sign,
    submit,
)
from tests.test_route_isolation import PDF

pytestmark = pytest.mark.django_db
State = ChangeRequest.State


def _withdraw(cast, change, reason="Helix asked for a staged roll-out; revised plan attached.", by=AUTHOR):
    with acting(cast, by):
        services.change_withdraw(membership=cast.memberships[by], change=change, reason=reason)
    return ChangeRequest.objects.get(pk=change.pk)


def _attach(cast, change, name="IQ-OQ report.pdf", content=PDF, kind="validation", by=AUTHOR):
    with acting(cast, by):
        return services.document_attach(membership=cast.memberships[by], change=change, kind=kind,
                                        title="UHPLC IQ/OQ", upload=SimpleUploadedFile(name, content))


def test_after_a_rejection_the_owner_revises_and_resubmits_and_the_new_round_needs_a_fresh_approval(cast):
    change = submit(cast, assess(cast, raise_change(cast)))
    assert change.approval_round == 1
    sponsor_sign(cast, change, "helix.qa", approve=False, comment="Stage it after the annual campaign.")
    change = _withdraw(cast, change)
    assert change.state == State.ASSESSMENT
    told = Notification.objects.filter(organization=cast.orgs["helix"], subject__contains="withdrawn for revision")
    assert told.exists() and "staged roll-out" in told.first().body

    change = submit(cast, assess(cast, change))
    assert change.approval_round == 2
    with acting(cast, "helix.qa"):
        current = list(selectors.routes_of(membership=cast.memberships["helix.qa"], change=change))
        assert [r.round for r in current] == [2]
        assert list(selectors.approvals_of(membership=cast.memberships["helix.qa"], change=change)) == []
        history = selectors.history_of(membership=cast.memberships["helix.qa"], change=change)
    assert [(route.round, approval.decision) for route, approval in history] == [(1, Approval.Decision.REJECTED)]
    # The old rejection no longer blocks, and no longer counts: a fresh approval is missing.
    blockers = services.implementation_blockers(change)
    assert "Helix Therapeutics's signed approval" in blockers
    assert not any("rejected" in item for item in blockers)
    with acting(cast, "helix.qa"):
        assert [r.change_id for r in selectors.awaiting_decision(cast.memberships["helix.qa"]).approvals] == [change.pk]

    sponsor_sign(cast, change, "helix.qa", comment="Staged plan accepted.")
    confirm_all(cast, change, "helix")
    change = implement(cast, qa_approve(cast, change))
    assert change.state == State.IMPLEMENTED
    assert list(Approval.objects.filter(change=change).order_by("round").values_list("round", "decision")) == [
        (1, "rejected"), (2, "approved")]


def test_withdrawing_stops_the_rounds_notice_clock_and_needs_a_reason(cast):
    effective(cast, "northwind", "acme", change_notify_only=["equipment_like_for_like"],
              change_sponsor_approval=[], change_notice_lead_days=14)
    change = submit(cast, assess(cast, raise_change(cast, change_type="equipment_like_for_like", products=("NWB-7",),
                                                    title="Replace filling pump"), LIKE_FOR_LIKE))
    route = SponsorRoute.objects.get(change=change)
    with acting(cast, AUTHOR), pytest.raises(ValidationError) as refused:
        services.change_withdraw(membership=cast.memberships[AUTHOR], change=change, reason="  ")
    assert "reason" in refused.value.message_dict
    change = _withdraw(cast, change, reason="Pump model changed; re-assess.")
    assert Deadline.objects.get(pk=route.deadline_id).state == Deadline.State.CANCELLED
    with acting(cast, AUTHOR), pytest.raises(ValidationError) as again:
        services.change_withdraw(membership=cast.memberships[AUTHOR], change=change, reason="Twice")
    assert "pending approval" in " ".join(again.value.messages)


def test_only_the_owner_withdraws(cast):
    change = submit(cast, assess(cast, raise_change(cast)))
    with acting(cast, "helix.qa"), pytest.raises((PermissionDenied, ChangeRequest.DoesNotExist, ValidationError)):
        services.change_withdraw(membership=cast.memberships["helix.qa"], change=change, reason="Not mine")
    assert ChangeRequest.objects.get(pk=change.pk).state == State.PENDING_APPROVAL


def test_documents_are_linked_after_approval_and_seen_by_the_affected_sponsor_only(cast):
    change = submit(cast, assess(cast, raise_change(cast)))
    with pytest.raises(ValidationError) as early:
        _attach(cast, change)
    assert "approved" in " ".join(early.value.messages)
    sponsor_sign(cast, change, "helix.qa")
    confirm_all(cast, change, "helix")
    change = qa_approve(cast, change)
    before = change.version
    document = _attach(cast, change)
    assert document.file.sha256 and document.kind == ChangeDocument.Kind.VALIDATION_REPORT
    # The file belongs to the document row: the QA approval still matches the change it signed.
    assert verify(signatures_of(change).get(step="approve"), ChangeRequest.objects.get(pk=change.pk)).matches
    assert ChangeRequest.objects.get(pk=change.pk).version == before + 1
    with acting(cast, "helix.qa"):
        assert [d.pk for d in selectors.documents_of(membership=cast.memberships["helix.qa"], change=change)] == [
            document.pk]
    with acting(cast, "northwind.qa"):
        # Northwind has no line on this change: row-level security hides the document and its file.
        assert not ChangeDocument.objects.filter(pk=document.pk).exists()


@pytest.mark.parametrize(("name", "content", "field_message"), [
    # (Django's upload object already drops directories: paths are tested through raw multipart in the API.)
    ("..passwd.pdf", PDF, "paths"),
    ("invoice\u202efdp.exe.pdf", PDF, "invisible"),
    (".hidden.pdf", PDF, "dot"),
    ("report.exe", b"MZ\x90\x00" + b"\x00" * 64, "Only PDF"),
    ("report.pdf", b"", "empty"),
])
def test_a_hostile_or_wrong_file_is_refused_and_nothing_is_linked(cast, name, content, field_message):
    change = submit(cast, assess(cast, raise_change(cast)))
    sponsor_sign(cast, change, "helix.qa")
    confirm_all(cast, change, "helix")
    change = qa_approve(cast, change)
    with pytest.raises(ValidationError) as refused:
        _attach(cast, change, name=name, content=content)
    assert "file" in refused.value.message_dict
    assert field_message.lower() in " ".join(refused.value.messages).lower()
    assert not ChangeDocument.objects.filter(change=change).exists()


def test_a_document_needs_a_known_kind(cast):
    change = submit(cast, assess(cast, raise_change(cast)))
    sponsor_sign(cast, change, "helix.qa")
    confirm_all(cast, change, "helix")
    change = qa_approve(cast, change)
    with pytest.raises(ValidationError) as refused:
        _attach(cast, change, kind="memo")
    assert "kind" in refused.value.message_dict
