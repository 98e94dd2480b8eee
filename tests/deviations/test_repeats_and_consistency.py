"""Repeat detection (same site, same root cause, same equipment or step, within 12 months) and the cross-sponsor
consistency check (same root cause and step, different sponsors, different classification or conclusion)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from deviations import services
from deviations.models import ConsistencyFlag, RepeatLink
from tests.agreements.helpers import acting
from tests.deviations.helpers import classify, investigate, report

NOW = timezone.now()


def coded(cast, *, days_ago: int, cause: str = "MAC-02", area: str = "Granulator G-2", step: str = "Wet granulation",
          site: str = "Acme Boston", products=("HLX-101",), classification: str = "major",
          outcome: str = "no_impact"):
    deviation = classify(cast, report(cast, site=site, area=area, step=step, products=products,
                                      discovered=NOW - dt.timedelta(days=days_ago)), classification)
    return investigate(cast, deviation, cause=cause, outcome=outcome)


def test_same_site_cause_and_equipment_within_a_year_is_a_repeat(cast):
    earlier = coded(cast, days_ago=200)
    later = coded(cast, days_ago=1, step="Drying")  # same equipment, other step
    assert later.is_repeat and not earlier.is_repeat
    link = RepeatLink.objects.get(deviation=later)
    assert link.earlier_id == earlier.pk and "equipment" in link.matched_on


def test_same_step_other_equipment_is_a_repeat_too(cast):
    coded(cast, days_ago=30, area="Granulator G-1")
    assert coded(cast, days_ago=1, area="Granulator G-9").is_repeat


def test_not_a_repeat_when_older_than_a_year_or_another_cause_site_or_equipment_and_step(cast):
    coded(cast, days_ago=400)                                         # too old
    coded(cast, days_ago=20, cause="PEO-01")                          # another root cause
    coded(cast, days_ago=10, area="Press P-1", step="Compression")    # neither equipment nor step
    coded(cast, days_ago=5, site="Acme Cork", products=("NWB-7",))     # another site
    later = coded(cast, days_ago=1)
    assert not later.is_repeat and not RepeatLink.objects.filter(deviation=later).exists()


def test_changing_the_root_cause_clears_the_repeat(cast):
    coded(cast, days_ago=100)
    later = coded(cast, days_ago=1)
    assert later.is_repeat
    with acting(cast, "acme.qa"):
        services.investigation_update(membership=cast.memberships["acme.qa"], deviation=later,
                                      root_cause_code="PEO-02")
    later.refresh_from_db()
    assert not later.is_repeat and not RepeatLink.objects.filter(deviation=later).exists()


def test_different_conclusions_for_different_sponsors_are_flagged_for_the_cmo_only(cast, client_for, api_for):
    helix = coded(cast, days_ago=10, site="Acme Boston", products=("HLX-101",), classification="minor")
    northwind = coded(cast, days_ago=2, site="Acme Cork", products=("NWB-7",), classification="major",
                      outcome="batches_rejected", area="Fluid bed FB-1")
    flag = ConsistencyFlag.objects.get()
    assert {flag.first_id, flag.second_id} == {helix.pk, northwind.pk} and flag.state == "open"
    assert "classification: minor" in flag.differences and "conclusion:" in flag.differences
    page = client_for("acme.qa").get(reverse("deviation-consistency")).content.decode()
    assert helix.number in page and northwind.number in page
    assert api_for("acme.qa").get(reverse("api:consistency-flag-list")).json()["count"] == 1
    for sponsor in ("helix.qa", "northwind.qa"):
        assert api_for(sponsor).get(reverse("api:consistency-flag-list")).json()["count"] == 0
        assert api_for(sponsor).get(reverse("api:consistency-flag-detail", args=[flag.pk])).status_code == 404
        assert client_for(sponsor).get(reverse("deviation-consistency")).status_code == 200
        assert northwind.number not in client_for(sponsor).get(reverse("deviation-consistency")).content.decode()
    with acting(cast, "acme.qa"):
        services.flag_review(membership=cast.memberships["acme.qa"], flag=flag,
                             note="Different batch sizes justify the different impact.")
    flag.refresh_from_db()
    assert flag.state == "reviewed" and flag.reviewed_by_id == cast.users["acme.qa"].pk


def test_no_flag_for_the_same_sponsor_same_conclusion_or_another_step(cast):
    coded(cast, days_ago=10, classification="minor")
    coded(cast, days_ago=9, classification="major", area="Other")     # same sponsor (Helix) both times
    coded(cast, days_ago=8, site="Acme Cork", products=("NWB-7",), classification="minor", area="Other 2")
    coded(cast, days_ago=7, site="Acme Cork", products=("NWB-7",), classification="critical",
          step="Blending", area="Other 3")                             # another process step
    pairs = {(f.first.number, f.second.number, f.differences) for f in ConsistencyFlag.objects.all()}
    # only the Helix "major" vs Northwind "minor" pair of the same step differs
    assert len(pairs) == 1 and "major" in next(iter(pairs))[2]


def test_a_flag_resolves_when_the_pair_becomes_consistent(cast):
    coded(cast, days_ago=10, classification="minor")
    northwind = coded(cast, days_ago=2, site="Acme Cork", products=("NWB-7",), classification="major")
    assert ConsistencyFlag.objects.get().state == "open"
    classify(cast, northwind, "minor")
    assert ConsistencyFlag.objects.get().state == "resolved"
