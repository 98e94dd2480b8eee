"""List pages and list endpoints run a constant number of SQL queries whatever the number of rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import PartnershipFactory, ProductFactory, SiteFactory


def grow(cast, n):
    """Add n CMO partners of Helix, each with a site and a product in scope, a live grant to Helix's auditor and
    a stored file; and n sites for Acme."""
    import datetime as dt

    from django.utils import timezone

    from part11.models import Signature
    from tenants.models import AccessGrant, StoredFile

    now = timezone.now()
    for i in range(n):
        partnership = PartnershipFactory(sponsor=cast.orgs["helix"])
        partnership.sites.add(SiteFactory(organization=partnership.cmo))
        partnership.products.add(ProductFactory(organization=cast.orgs["helix"]))
        SiteFactory(organization=cast.orgs["acme"])
        AccessGrant.objects.create(
            organization=cast.orgs["helix"], grantor=cast.memberships["helix.qa"], grantor_label="Hannah (Helix)",
            grantee=cast.memberships["auditor"], grantee_label="auditor@helix", partnership=partnership,
            reason="growth", starts_at=now - dt.timedelta(hours=1), expires_at=now + dt.timedelta(days=1))
        Signature.objects.create(
            organization=cast.orgs["helix"], record_table="tenants_partnership", record_id=partnership.pk,
            step="review", meaning="reviewed", signer=cast.users["helix.qa"], signer_membership=cast.memberships[
                "helix.qa"], printed_name="Hannah Lindqvist", signed_at=now, content_hash="0" * 64, content={})
        StoredFile.objects.create(
            organization=cast.orgs["helix"], record_table="tenants_partnership", record_id=partnership.pk,
            original_name=f"f{i}.pdf", sha256=f"{i:064d}", size=10, mime_type="application/pdf",
            uploaded_by=cast.users["helix.qa"])
        _grow_clocks(cast, now, i)
        _grow_agreements(cast, partnership, i)
        _grow_deviations(cast, now, i)


def _grow_agreements(cast, partnership, i):
    """A draft agreement and a proposed subcontractor on each new partnership, and an activity of Helix's own."""
    from agreements.models import GmpActivity, QualityAgreement, SubcontractorConsent

    QualityAgreement.objects.create(partnership=partnership, sponsor=partnership.sponsor, cmo=partnership.cmo,
                                    number=1, title=f"QA {i}", created_by=cast.users["helix.qa"])
    SubcontractorConsent.objects.create(partnership=partnership, sponsor=partnership.sponsor, cmo=partnership.cmo,
                                        subcontractor=f"Sub {i}", site="Site", country="DE", activities=["training"],
                                        created_by=cast.users["helix.qa"])
    GmpActivity.objects.create(organization=cast.orgs["helix"], code=f"own-{partnership.pk}", name=f"Own {i}")


def _grow_deviations(cast, now, i):
    """At Acme: a deviation affecting Helix's HLX-101 and Northwind's NWB-7 (classified, both sponsors notified,
    an extension requested) with a CAPA of two actions; a second one for HLX-101 alone, flagged as inconsistent
    with the first; and an own root-cause code."""
    import datetime as dt

    from capa import services as capa_services
    from deviations import services
    from deviations.models import ConsistencyFlag
    from tests.agreements.helpers import acting
    from tests.deviations.helpers import capa_for, classify, notify, report

    qa = cast.memberships["acme.qa"]
    first = classify(cast, report(cast, products=("HLX-101", "NWB-7"), title=f"Growth {i}"))
    notify(cast, first)
    second = report(cast, title=f"Growth {i} (second)")
    capa = capa_for(cast, first)
    with acting(cast, "acme.qa"):
        services.extension_request(membership=qa, deviation=first, due_date=now.date() + dt.timedelta(days=90),
                                   justification=f"growth {i}")
        services.cause_add(membership=qa, code=f"MAC-G{first.pk}", name=f"Growth {i}", parent="MAC")
        for kind in ("corrective", "preventive"):
            capa_services.action_add(membership=qa, capa=capa, kind=kind, description=f"growth {i}", owner=qa,
                                     due_date=now.date() + dt.timedelta(days=30))
    ConsistencyFlag.objects.create(organization=cast.orgs["acme"], first=first, second=second,
                                   root_cause_code="MAC-02", process_step="Wet granulation",
                                   differences=f"classification: growth {i}")


def _grow_clocks(cast, now, i):
    """A deadline Acme owes Helix, a notification and a failed e-mail to Acme's QA, a closure day for Acme."""
    import datetime as dt

    from clocks.models import ClosureDay, Notification
    from tests.clocks.helpers import make_deadline

    deadline = make_deadline(cast, now - dt.timedelta(minutes=i), label=f"growth {i}", now=now)
    for state in ("pending", "failed"):
        Notification.objects.create(
            organization=cast.orgs["acme"], recipient=cast.memberships["acme.qa"], user=cast.users["acme.qa"],
            deadline=deadline, record_table="clocks_deadline", record_id=deadline.pk, subject=f"growth {i}",
            body="x", email_state=state)
    ClosureDay.objects.create(organization=cast.orgs["acme"], calendar="us_federal",
                              date=dt.date(2030, 1, 1) + dt.timedelta(days=deadline.pk),
                              reason=f"growth {i}", created_by=cast.users["acme.qa"])


def count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        if response.streaming:  # a streamed CSV reads its rows while it is sent
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


ENDPOINTS = [
    ("helix.qa", "api:partnership-list"), ("helix.qa", "api:site-list"), ("helix.qa", "api:product-list"),
    ("helix.qa", "api:organization-list"), ("acme.admin", "api:member-list"), ("acme.qa", "api:site-list"),
    ("helix.qa", "home"), ("helix.qa", "partnerships"), ("helix.qa", "sites"), ("helix.qa", "products"),
    ("acme.admin", "members"),
    ("helix.qa", "api:grant-list"), ("auditor", "api:grant-list"), ("helix.qa", "grants"),
    ("helix.qa", "api:file-list"), ("auditor", "api:partnership-list"), ("auditor", "api:site-list"),
    ("helix.qa", "api:audit-event-list"), ("helix.qa", "audit-search"), ("auditor", "api:signature-list"),
    ("acme.qa", "api:deadline-list"), ("acme.qa", "api:deadline-mine"), ("helix.qa", "api:deadline-list"),
    ("acme.qa", "my-deadlines"), ("acme.qa", "deadlines"), ("helix.qa", "my-deadlines"),
    ("acme.qa", "api:notification-list"), ("acme.qa", "notifications"),
    ("acme.admin", "api:notification-failure-list"), ("acme.admin", "notification-failures"),
    ("acme.qa", "api:closure-day-list"), ("acme.qa", "calendars"),
    ("helix.qa", "api:agreement-list"), ("helix.qa", "agreements"), ("helix.qa", "api:consent-list"),
    ("helix.qa", "consents"), ("helix.qa", "api:gmp-activity-list"),
    ("acme.qa", "deviations"), ("helix.qa", "deviations"), ("acme.qa", "capas"), ("helix.qa", "capas"),
    ("acme.qa", "deviation-consistency"), ("acme.qa", "deviation-taxonomy"),
    ("acme.qa", "deviation-export"), ("helix.qa", "deviation-export"),
    ("acme.qa", "api:deviation-list"), ("helix.qa", "api:deviation-list"), ("acme.qa", "api:deviation-export"),
    ("acme.qa", "api:deviation-notice-list"), ("helix.qa", "api:deviation-notice-list"),
    ("acme.qa", "api:deviation-extension-list"), ("acme.qa", "api:consistency-flag-list"),
    ("acme.qa", "api:root-cause-list"), ("acme.qa", "api:capa-list"), ("helix.qa", "api:capa-list"),
    ("acme.qa", "api:capa-action-list"), ("helix.qa", "api:capa-action-list"),
]


@pytest.mark.parametrize(("username", "name"), ENDPOINTS)
def test_constant_queries(cast, client_for, username, name):
    client = client_for(username)
    url = reverse(name)
    grow(cast, 1)
    small = count(client, url)
    grow(cast, 25)
    large = count(client, url)
    assert large == small, f"{name}: {small} queries with few rows, {large} with many"
