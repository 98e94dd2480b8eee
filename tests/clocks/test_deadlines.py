"""Deadline services, pages and API: restart, extension, closure days, completion, visibility, rule text."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from clocks import services
from clocks.calendars import end_of_day
from clocks.models import ClosureDay, Deadline, DeadlineStage
from clocks.rules import FDA_483_RESPONSE
from part11.models import AuditEvent
from tenants import rls
from tests.clocks.helpers import make_deadline, route_deadline

ISSUED = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


def _483(cast, issued=ISSUED, now=None):
    return make_deadline(cast, issued, owner="acme", partner="northwind", rule=FDA_483_RESPONSE,
                         label="FDA 483 at Acme Cork", now=now or ISSUED)


def _trail(deadline):
    return list(AuditEvent.objects.filter(record_table="clocks_deadline", record_id=deadline.pk).order_by("seq"))


def test_483_deadline_row_is_created_with_its_stages_and_audited(cast):
    deadline = _483(cast)
    assert deadline.due_at == end_of_day(dt.date(2026, 12, 14), "America/New_York")
    assert deadline.rule_text == "15 US business days after 483 issued 20 Nov 2026; Thanksgiving Day excluded"
    assert deadline.stages.count() == 7
    assert sorted(deadline.audience.values_list("organization__slug", flat=True)) == ["acme", "northwind"]
    assert _trail(deadline)[0].action == "create"


def test_an_amended_483_restarts_the_count_with_the_reason_in_the_trail(cast):
    deadline = _483(cast)
    amended = dt.datetime(2026, 11, 24, 16, 0, tzinfo=dt.UTC)
    services.deadline_restart(deadline=deadline, starts_at=amended, reason="483 amended on 24 Nov 2026",
                              now=amended)
    deadline.refresh_from_db()
    # 25 (1), 27 (2), 30 Nov (3), 1-4 Dec (4-7), 7-11 Dec (8-12), 14, 15, 16 Dec (13-15)
    assert deadline.due_at == end_of_day(dt.date(2026, 12, 16), "America/New_York")
    assert deadline.rule_text.startswith("15 US business days after 483 issued 24 Nov 2026")
    event = _trail(deadline)[-1]
    assert event.reason == "483 amended on 24 Nov 2026" and "due_at" in event.changes
    old = deadline.stages.filter(state=DeadlineStage.State.CANCELLED).count()
    assert old == 7 and deadline.stages.filter(state=DeadlineStage.State.PENDING).count() == 7
    with pytest.raises(ValidationError, match="reason"):
        services.deadline_restart(deadline=deadline, starts_at=amended, reason=" ")


def test_extension_moves_the_due_date_audited_and_version_checked(cast, api_for):
    deadline = route_deadline(cast)
    url = reverse("api:deadline-extend", args=[deadline.pk])
    client = api_for("borealis.qa")
    # No version: 428; stale version in the body: 409; stale If-Match: 412. Nothing changes.
    assert client.post(url, {"due_date": "2027-01-29", "reason": "agreed"}, format="json").status_code == 428
    stale = client.post(url, {"due_date": "2027-01-29", "reason": "agreed", "version": 7}, format="json")
    assert stale.status_code == 409
    assert client.post(url, {"due_date": "2027-01-29", "reason": "agreed"}, format="json",
                       HTTP_IF_MATCH='"7"').status_code == 412
    # Earlier than the current due date: refused, naming the field.
    early = client.post(url, {"due_date": "2026-11-01", "reason": "x", "version": 1}, format="json")
    assert early.status_code == 400 and "due_date" in early.json()["error"]["fields"]
    response = client.post(url, {"due_date": "2027-01-29", "reason": "Sponsor agreed by e-mail of 20 Nov",
                                 "version": 1}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version"] == 2 and body["due_at"].startswith("2027-01-29")
    assert "Extended from" in body["extension_note"] and "Sponsor agreed" in body["extension_note"]
    event = _trail(deadline)[-1]
    assert event.reason == "deadline extended: Sponsor agreed by e-mail of 20 Nov"
    assert event.actor_user_id == cast.users["borealis.qa"].pk


def test_regulatory_clocks_cannot_be_extended_or_closed_by_hand(cast, api_for):
    deadline = _483(cast, issued=timezone.now() - dt.timedelta(days=1), now=timezone.now())
    client = api_for("acme.qa")
    response = client.post(reverse("api:deadline-extend", args=[deadline.pk]),
                           {"due_date": "2027-06-30", "reason": "x", "version": 1}, format="json")
    assert response.status_code == 400 and "regulatory clock" in response.json()["error"]["fields"]["due_date"][0]
    response = client.post(reverse("api:deadline-complete", args=[deadline.pk]), format="json")
    assert response.status_code == 400 and "workflow" in response.content.decode()
    assert Deadline.objects.get(pk=deadline.pk).state == Deadline.State.OPEN


def test_business_day_extension_must_land_on_a_business_day(cast):
    from clocks.calendars import CalendarCode, Unit
    from clocks.rules import Rule

    rule = Rule(code="report", title="Report", amount=10, unit=Unit.BUSINESS_DAYS,
                calendar=CalendarCode.US_FEDERAL, start_event="request")
    deadline = make_deadline(cast, ISSUED, rule=rule, now=ISSUED)
    with pytest.raises(ValidationError, match="not a business day"):
        services.deadline_extend(membership=cast.memberships["acme.qa"], deadline=deadline,
                                 due_date=dt.date(2026, 12, 25), reason="x")
    with pytest.raises(PermissionDenied):
        services.deadline_extend(membership=cast.memberships["helix.qa"], deadline=deadline,
                                 due_date=dt.date(2026, 12, 28), reason="x")


def test_closure_day_moves_open_business_day_clocks_that_span_it(cast, client_for):
    deadline = _483(cast, issued=dt.datetime(2026, 12, 18, 17, 0, tzinfo=dt.UTC))
    far = _483(cast, issued=dt.datetime(2027, 3, 1, 15, 0, tzinfo=dt.UTC))
    client = client_for("acme.qa")
    response = client.post(reverse("closure-add"), {"calendar": "us_federal", "date": "2026-12-24",
                                                     "reason": "Executive Order: federal offices closed"})
    assert response.status_code == 302
    deadline.refresh_from_db()
    assert deadline.due_at == end_of_day(dt.date(2027, 1, 13), "America/New_York")
    assert "Executive Order: federal offices closed, Christmas Day and New Year's Day excluded" in deadline.rule_text
    assert _trail(deadline)[-1].reason.startswith("closure day 2026-12-24 added")
    far.refresh_from_db()
    assert far.version == 1  # outside the span: untouched
    # The same day twice is refused on the field; another organization's calendar is not affected.
    again = client.post(reverse("closure-add"), {"calendar": "us_federal", "date": "2026-12-24", "reason": "x"})
    assert again.status_code == 400 and "already a closure day" in again.content.decode()
    closure = ClosureDay.objects.get(organization=cast.orgs["acme"])
    assert services.calendar_for(cast.orgs["helix"].pk, "us_federal").is_business_day(dt.date(2026, 12, 24))
    # Withdrawing it moves the clock back.
    response = client.post(reverse("closure-withdraw", args=[closure.pk]), {"reason": "Order rescinded"})
    assert response.status_code == 302
    deadline.refresh_from_db()
    assert deadline.due_at == end_of_day(dt.date(2027, 1, 12), "America/New_York")


def test_closure_days_are_audited_and_private_to_their_organization(cast, api_for):
    response = api_for("acme.qa").post(reverse("api:closure-day-list"),
                                       {"calendar": "us_federal", "date": "2026-12-24", "reason": "EO closure"},
                                       format="json")
    assert response.status_code == 201
    closure_id = response.json()["id"]
    assert AuditEvent.objects.filter(record_table="clocks_closureday", record_id=closure_id).exists()
    bad = api_for("acme.qa").post(reverse("api:closure-day-list"), {"calendar": "mars", "date": "x"}, format="json")
    assert bad.status_code == 400 and {"calendar", "date", "reason"} <= set(bad.json()["error"]["fields"])
    days = api_for("acme.qa").get(reverse("api:calendar", args=["us_federal"]), {"year": 2026}).json()["days"]
    assert {"date": "2026-12-24", "name": "EO closure", "closure": True} in days
    assert {"date": "2026-11-26", "name": "Thanksgiving Day", "closure": False} in days
    helix_days = api_for("helix.qa").get(reverse("api:calendar", args=["us_federal"]), {"year": 2026}).json()["days"]
    assert not any(day["closure"] for day in helix_days)
    assert api_for("helix.qa").get(reverse("api:calendar", args=["mars"])).status_code == 404
    assert api_for("helix.qa").get(reverse("api:calendar", args=["us_federal"]), {"year": "x"}).status_code == 400


def test_sponsor_sees_the_cmo_deadline_read_only_and_unrelated_orgs_see_nothing(cast, api_for, client_for):
    deadline = route_deadline(cast)
    sponsor = api_for("northwind.qa").get(reverse("api:deadline-detail", args=[deadline.pk]))
    assert sponsor.status_code == 200 and sponsor["ETag"] == '"1"'
    # Each partner sees its own audience line only (a clock told to two sponsors never names one to the other).
    assert [a["organization"] for a in sponsor.json()["audience"]] == ["northwind"]
    owner = api_for("borealis.qa").get(reverse("api:deadline-detail", args=[deadline.pk])).json()
    assert [a["organization"] for a in owner["audience"]] == ["borealis", "northwind"]
    assert api_for("helix.qa").get(reverse("api:deadline-detail", args=[deadline.pk])).status_code == 404
    page = client_for("northwind.qa").get(reverse("deadline-detail", args=[deadline.pk])).content.decode()
    assert "30 calendar days after engineering batch completed" in page
    assert 'data-testid="extend-form"' not in page  # read-only for the partner


def test_record_page_shows_its_deadlines_with_the_rule_spelled_out(cast, client_for):
    deadline = _483(cast)
    page = client_for("acme.qa").get(reverse("partnership-detail", args=[deadline.record_id])).content.decode()
    assert 'data-testid="record-deadlines"' in page
    assert "14 Dec 2026 23:59 America/New_York" in page
    assert "15 US business days after 483 issued 20 Nov 2026; Thanksgiving Day excluded" in page
    # Helix's partnership page with Acme shows none of Acme's Northwind clocks.
    other = client_for("helix.qa").get(reverse("partnership-detail",
                                               args=[cast.partnership("helix", "acme").pk])).content.decode()
    assert "FDA 483 at Acme Cork" not in other


def test_my_deadlines_are_sorted_by_due_date_and_colour_coded(cast, client_for, api_for):
    now = timezone.now()
    later = make_deadline(cast, now - dt.timedelta(minutes=10), label="later one", now=now)  # 50 min left
    overdue = make_deadline(cast, now - dt.timedelta(hours=2), label="overdue one", now=now)
    from clocks.calendars import Unit
    from clocks.rules import Rule, reminders

    relaxed = Rule(code="relaxed", title="Relaxed", amount=72, unit=Unit.HOURS, calendar=None, start_event="x",
                   stages=reminders(4, unit=Unit.HOURS))
    on_track = make_deadline(cast, now, rule=relaxed, label="on-track one", now=now)
    rows = api_for("acme.qa").get(reverse("api:deadline-mine")).json()["results"]
    assert [r["id"] for r in rows] == [overdue.pk, later.pk, on_track.pk]
    assert [r["stage"] for r in rows] == ["overdue", "due_soon", "on_track"]
    page = client_for("acme.qa").get(reverse("my-deadlines")).content.decode()
    assert page.index("overdue one") < page.index("later one") < page.index("on-track one")
    assert 'class="pill pill-overdue"' in page and 'class="pill pill-due_soon"' in page
    # Acme's operator is not in the audience (QA roles): nothing is "mine" for them.
    assert api_for("acme.operator").get(reverse("api:deadline-mine")).json()["count"] == 0
    filtered = api_for("acme.qa").get(reverse("api:deadline-list"), {"state": "open"}).json()
    assert filtered["count"] == 3


def test_services_refuse_illegal_changes_with_reasons(cast):
    deadline = route_deadline(cast)
    qa = cast.memberships["borealis.qa"]
    services.deadline_complete(deadline=deadline, membership=qa)
    with pytest.raises(ValidationError, match="already met"):
        services.deadline_cancel(deadline=deadline, membership=qa, reason="x")
    with pytest.raises(ValidationError, match="already met"):
        services.deadline_extend(membership=qa, deadline=deadline, due_date=dt.date(2027, 6, 1), reason="x")
    with pytest.raises(PermissionDenied):
        services.deadline_complete(deadline=route_deadline(cast), membership=cast.memberships["northwind.qa"])
    with pytest.raises(ValidationError, match="assignee"), transaction.atomic(), \
            rls.scoped(rls.Context(organization_id=cast.orgs["acme"].pk)):
        services.deadline_create(organization_id=cast.orgs["acme"].pk, record=cast.partnership("helix", "acme"),
                                 subject_label="x", rule=FDA_483_RESPONSE, starts_at=ISSUED, audience=[],
                                 assignee=cast.memberships["helix.qa"])


def test_a_tenant_cannot_create_a_deadline_for_another_organization(cast):
    from django.db import DatabaseError

    with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic(), \
            rls.scoped(rls.Context(organization_id=cast.orgs["helix"].pk)):
        services.deadline_create(organization_id=cast.orgs["acme"].pk, record=cast.partnership("helix", "acme"),
                                 subject_label="forged", rule=FDA_483_RESPONSE, starts_at=ISSUED, audience=[])
