"""A record cannot be approved until the approver has reviewed its audit trail up to the latest change."""

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse

from part11 import signatures
from part11.models import AuditEvent, AuditReview
from tests.factories import PASSWORD, MembershipFactory, UserFactory


def sign(cast, membership, step):
    return signatures.sign(request=RequestFactory().post("/"), membership=membership,
                           record=cast.partnership("northwind", "acme"), step=step, password=PASSWORD)


@pytest.fixture
def approver(cast):
    user = UserFactory(username="northwind.qa2", first_name="Noah", last_name="Quist")
    return MembershipFactory(user=user, organization=cast.orgs["northwind"], role="qa_approver")


def test_approval_needs_an_audit_trail_review(cast, approver, client_for):
    sign(cast, cast.memberships["northwind.qa"], "review")
    with pytest.raises(ValidationError, match="Review the record's audit trail first"):
        sign(cast, approver, "approve")
    client = client_for("northwind.qa")
    client.force_login(approver.user)
    url = reverse("record-history", args=["tenants_partnership", cast.partnership("northwind", "acme").pk])
    assert "not reviewed by you since the last change" in client.get(url).content.decode()
    response = client.post(reverse("audit-trail-reviewed", args=["tenants_partnership",
                                                                 cast.partnership("northwind", "acme").pk]))
    assert response.status_code == 302
    assert "reviewed by you up to the latest change" in client.get(url).content.decode()
    review = AuditReview.objects.get()
    assert review.reviewed_through_event == AuditEvent.objects.filter(
        record_table="tenants_partnership", record_id=review.record_id).latest("id").pk
    assert sign(cast, approver, "approve").meaning == "approved"


def test_a_change_after_the_review_needs_a_new_review(cast, approver):
    from tenants.models import Partnership

    signatures.mark_audit_trail_reviewed(membership=approver, record=cast.partnership("northwind", "acme"))
    Partnership.objects.filter(pk=cast.partnership("northwind", "acme").pk).update(tier=1)
    sign(cast, cast.memberships["northwind.qa"], "review")
    with pytest.raises(ValidationError, match="changed since you last reviewed"):
        sign(cast, approver, "approve")
    signatures.mark_audit_trail_reviewed(membership=approver, record=cast.partnership("northwind", "acme"))
    assert sign(cast, approver, "approve").voided_at is None


def test_api_twin_and_roles(cast, api_for):
    partnership = cast.partnership("northwind", "acme")
    body = {"record_type": "tenants_partnership", "record_id": partnership.pk}
    assert api_for("northwind.qa").post(reverse("api:audit-event-reviewed"), body, format="json").status_code == 201
    assert api_for("auditor").post(reverse("api:audit-event-reviewed"), body, format="json").status_code == 403
    assert api_for("borealis.qa").post(reverse("api:audit-event-reviewed"), body, format="json").status_code == 404
