"""The demo inspections: FDA routine at Acme Boston with a 483 of five observations mid-response, MHRA at Acme Cork
closed with no action, and the PAI at Borealis Montreal with Northwind taking part; built through the services by
the demo cast, each sponsor seeing only what concerns it."""

from __future__ import annotations

from django.core.management import call_command

from inspections import selectors
from inspections.demo import seed_inspections
from inspections.models import Acknowledgement, Form483, Inspection, Notice, Observation, ResponseComment
from tenants.demo import acting_as


def test_demo_inspections(db, tmp_path, settings, monkeypatch):
    """One seed (twice, to show it converges), then every check below: seeding takes long enough that each check
    having its own would multiply the suite's time."""
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setenv("DEMO_PASSWORD", "seed-test-password")
    call_command("seed_demo", "--quiet-logins")
    call_command("seed_demo", "--quiet-logins")  # converges: no second set
    assert Inspection.objects.count() == 3
    assert seed_inspections() == 0  # loaded once
    boston_mid_response()
    cork_closed_with_no_action()
    pai_with_the_sponsor_taking_part()
    each_sponsor_sees_only_what_concerns_it()


def boston_mid_response() -> None:
    inspection = Inspection.objects.get(site__name="Acme Boston")
    assert (inspection.authority, inspection.inspection_type, inspection.state) == ("fda", "routine", "closed_out")
    form483 = Form483.objects.get(inspection=inspection)
    assert form483.state == Form483.State.DRAFTING and form483.response_deadline.state == "open"
    observations = list(Observation.objects.filter(form483=form483).prefetch_related("affected__product"))
    assert len(observations) == 5
    assert [o.system for o in observations].count("facilities_equipment") == 1
    assert [(o.accountability, [a.product.code for a in o.affected.all()]) for o in observations
            if o.visibility == "product_specific"] == [("sponsor", ["HLX-101"]), ("cmo", ["NWB-7"])]
    assert sum(o.visibility == "site_wide" for o in observations) == 3  # equipment + two more site-wide
    assert sum(bool(o.response_commitment) for o in observations) == 3  # some responses drafted
    told = Notice.objects.filter(inspection=inspection, event="fda_483")
    assert {n.sponsor.slug for n in told if n.notified_at} == {"helix", "northwind"}
    assert {a.notice.sponsor.slug for a in Acknowledgement.objects.filter(notice__in=told)} == {"helix"}
    assert inspection.log.count() == 5


def cork_closed_with_no_action() -> None:
    inspection = Inspection.objects.get(site__name="Acme Cork")
    assert (inspection.authority, inspection.state, inspection.outcome) == ("mhra", "closed", "nai")
    assert "No action indicated" in inspection.outcome_note and not Form483.objects.filter(inspection=inspection)


def pai_with_the_sponsor_taking_part() -> None:
    inspection = Inspection.objects.get(site__name="Borealis Montreal")
    assert inspection.inspection_type == "pre_approval"
    assert list(inspection.scope.values_list("application_reference", flat=True)) == ["BLA 761234"]
    comments = list(ResponseComment.objects.filter(inspection=inspection).select_related("organization"))
    assert [c.organization.slug for c in comments] == ["northwind", "borealis"]


def each_sponsor_sees_only_what_concerns_it() -> None:
    with acting_as("helix.qa") as helix:
        texts = " ".join(o.text for o in selectors.observation_list(membership=helix))
        assert "HLX-101" in texts and "NWB-7" not in texts and "NWB-9" not in texts
        assert selectors.inspection_list(membership=helix).count() == 1
        assert not selectors.log_of(membership=helix, inspection=Inspection.objects.get(site__name="Acme Boston"))
    with acting_as("northwind.qa") as northwind:
        texts = " ".join(o.text for o in selectors.observation_list(membership=northwind))
        assert "NWB-7" in texts and "HLX-101" not in texts
        assert selectors.inspection_list(membership=northwind).count() == 3
    with acting_as("borealis.qa") as borealis:
        assert list(selectors.inspection_list(membership=borealis).values_list("site__name", flat=True)) == [
            "Borealis Montreal"]
