"""CAPA: actions with owners and clocks, the effectiveness check, closure rules, and who sees what."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from capa import services
from capa.models import Capa
from clocks.models import Deadline
from part11.models import Signature
from tests.agreements.helpers import acting
from tests.deviations.helpers import capa_for, classify, report
from tests.factories import PASSWORD

TODAY = timezone.localdate()


def with_action(cast, capa, by="acme.qa"):
    with acting(cast, by):
        return services.action_add(membership=cast.memberships[by], capa=capa, kind="corrective",
                                   description="Add torque sensor to calibration plan",
                                   owner=cast.memberships["acme.operator"], due_date=TODAY + dt.timedelta(days=14))


def sign(cast, capa, step="close", by="acme.qa", **extra):
    with acting(cast, by):
        if step == "close":
            return services.capa_sign_close(request=RequestFactory().post("/"), membership=cast.memberships[by],
                                            capa=capa, password=PASSWORD)
        return services.capa_cancel(request=RequestFactory().post("/"), membership=cast.memberships[by], capa=capa,
                                    password=PASSWORD, **extra)


def test_an_action_gets_an_owner_and_a_clock_and_is_done_with_evidence(cast):
    capa = capa_for(cast, classify(cast, report(cast)))
    assert capa.number.startswith("CAPA-") and capa.source == "deviation"
    action = with_action(cast, capa)
    clock = Deadline.objects.get(pk=action.deadline_id)
    assert clock.assignee_id == cast.memberships["acme.operator"].pk and clock.due_at.date() >= action.due_date
    with acting(cast, "acme.operator"):
        with pytest.raises(ValidationError, match="completion evidence"):
            services.action_complete(membership=cast.memberships["acme.operator"], action=action, evidence=" ")
        services.action_complete(membership=cast.memberships["acme.operator"], action=action,
                                 evidence="Calibration record CAL-2026-118")
    clock.refresh_from_db()
    assert clock.state == "met"


def test_closure_needs_actions_done_and_a_passed_or_scheduled_check(cast):
    capa = capa_for(cast, classify(cast, report(cast)))
    with pytest.raises(ValidationError, match="Add at least one"):
        sign(cast, capa)
    action = with_action(cast, capa)
    with pytest.raises(ValidationError, match="1 action is not done"):
        sign(cast, capa)
    with acting(cast, "acme.qa"):
        services.action_complete(membership=cast.memberships["acme.qa"], action=action, evidence="Done: CAL-1")
        with pytest.raises(ValidationError, match="effectiveness check must pass first"):
            sign(cast, capa)
        services.effectiveness_plan(membership=cast.memberships["acme.qa"], capa=capa,
                                    criteria="No torque deviation in 20 batches",
                                    due_date=TODAY + dt.timedelta(days=90))
    capa.refresh_from_db()
    with pytest.raises(ValidationError, match="scheduled with the procedure"):
        sign(cast, capa)
    with acting(cast, "acme.qa"):
        services.effectiveness_plan(membership=cast.memberships["acme.qa"], capa=capa,
                                    criteria="No torque deviation in 20 batches",
                                    due_date=TODAY + dt.timedelta(days=90), close_before_check="SOP-QA-014 §6.3")
    capa.refresh_from_db()
    sign(cast, capa)
    capa.refresh_from_db()
    assert capa.state == Capa.State.CLOSED
    assert Deadline.objects.get(pk=capa.effectiveness_deadline_id).state == "open"  # the check still runs


def test_a_failed_effectiveness_check_reopens_the_capa_and_voids_its_signature(cast):
    capa = capa_for(cast, classify(cast, report(cast)))
    action = with_action(cast, capa)
    with acting(cast, "acme.qa"):
        services.action_complete(membership=cast.memberships["acme.qa"], action=action, evidence="Done")
        services.effectiveness_plan(membership=cast.memberships["acme.qa"], capa=capa, criteria="No recurrence",
                                    due_date=TODAY + dt.timedelta(days=30), close_before_check="SOP-QA-014")
    capa.refresh_from_db()
    sign(cast, capa)
    capa.refresh_from_db()
    with acting(cast, "acme.qa"):
        services.effectiveness_record(membership=cast.memberships["acme.qa"], capa=capa, passed=False,
                                      note="Recurred in batch 7")
    capa.refresh_from_db()
    assert capa.state == Capa.State.OPEN and capa.effectiveness == "failed"
    assert Signature.objects.get(record_table="capa_capa", record_id=capa.pk, step="close").voided_at is not None
    with pytest.raises(ValidationError, match="check failed"):
        sign(cast, capa)


def test_cancel_is_signed_and_cancels_the_clocks(cast):
    capa = capa_for(cast, classify(cast, report(cast)))
    action = with_action(cast, capa)
    sign(cast, capa, "cancel", reason="Raised against the wrong deviation")
    capa.refresh_from_db()
    assert capa.state == Capa.State.CANCELLED
    assert Deadline.objects.get(pk=action.deadline_id).state == "cancelled"


def test_sponsors_see_the_cmos_capa_on_their_deviation_read_only_and_never_each_others(cast, api_for):
    deviation = classify(cast, report(cast, products=("HLX-101",)))
    capa = capa_for(cast, deviation)
    with acting(cast, "helix.qa"):
        own = services.capa_create(membership=cast.memberships["helix.qa"], title="Helix's own CAPA",
                                   description="Supplier audit", source="deviation", source_deviation=deviation)
    assert api_for("helix.qa").get(reverse("api:capa-detail", args=[capa.pk])).status_code == 200
    assert api_for("helix.qa").patch(reverse("api:capa-detail", args=[capa.pk]), {"title": "x", "version": 1},
                                     format="json").status_code == 403
    assert api_for("northwind.qa").get(reverse("api:capa-detail", args=[capa.pk])).status_code == 404
    # a sponsor's own CAPA is its own, even when it points at the CMO's deviation
    assert api_for("acme.qa").get(reverse("api:capa-detail", args=[own.pk])).status_code == 404
    assert [c["number"] for c in api_for("acme.qa").get(reverse("api:capa-list")).json()["results"]] == [capa.number]
    with acting(cast, "helix.qa"), pytest.raises(PermissionDenied):
        services.capa_update(membership=cast.memberships["helix.qa"], capa=capa, title="x")


def test_source_rules(cast):
    with acting(cast, "acme.qa"):
        with pytest.raises(ValidationError, match="Name the deviation"):
            services.capa_create(membership=cast.memberships["acme.qa"], title="t", description="d",
                                 source="deviation")
        with pytest.raises(ValidationError, match="reference"):
            services.capa_create(membership=cast.memberships["acme.qa"], title="t", description="d",
                                 source="observation_483")
        capa = services.capa_create(membership=cast.memberships["acme.qa"], title="t", description="d",
                                    source="observation_483", source_reference="483 obs. 3 (2026-11-20)")
    assert capa.source_reference.startswith("483")
