"""Per-sponsor visibility under row-level security, asserted on content: site-wide observations reach every sponsor
in scope, product-specific ones only their products' sponsors; impact rows and notices are each sponsor's own; the
live inspection log stays in the CMO's back room; only the PAI's application sponsor comments on the response."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import ProgrammingError, connection, transaction

from inspections import selectors, services, taxonomy
from inspections.models import LogEntry, Observation, ResponseComment
from tests.agreements.helpers import acting
from tests.inspections.helpers import affected, inspect, observe, pai, record_483

TEXTS = {
    "site": "Cleaning of the shared granulator was not verified before use.",
    "nwb7": "Stability testing of NWB-7 lot 4 was performed with an unvalidated method.",
    "helix": "The filed HLX-101 process does not match the executed batch record (sponsor filing).",
}


def boston_483(cast):
    inspection = inspect(cast, started=dt.date(2026, 11, 23))
    form483 = record_483(cast, inspection, dt.date(2026, 11, 25))
    site = observe(cast, form483, "21 CFR 211.67(a)", text=TEXTS["site"])
    nwb7 = observe(cast, form483, "21 CFR 211.165", text=TEXTS["nwb7"], visibility="product_specific",
                   affected=[affected(cast, "northwind", "NWB-7")])
    helix = observe(cast, form483, "21 CFR 211.100(a)", text=TEXTS["helix"], visibility="product_specific",
                    accountability="sponsor", accountability_rationale="The filing lags the validated process.",
                    affected=[affected(cast, "helix", "HLX-101")])
    with acting(cast, "acme.qa"):
        member = cast.memberships["acme.qa"]
        for obs, sponsor, impact in ((site, "helix", "indirect"), (site, "northwind", "none"),
                                     (nwb7, "northwind", "direct"), (helix, "helix", "direct")):
            services.impact_assess(membership=member, observation=obs, impact=impact,
                                   partnership_id=cast.partnership(sponsor, "acme").pk,
                                   rationale=f"{impact} impact on the {sponsor} program")
        services.log_add(membership=member, inspection=inspection, kind="interview",
                         text="Investigator asked about the NWB-7 stability failure.", who="QC manager")
    return inspection, form483


def seen_by(cast, username):
    member = cast.memberships[username]
    with acting(cast, username):
        observations = list(selectors.observation_list(membership=member))
        raw = set(Observation.objects.values_list("text", flat=True))  # unscoped_: RLS alone
        impacts = [(i.observation.number, i.sponsor.slug, i.impact)
                   for i in selectors.impact_list(membership=member)]
        notices = sorted((n.sponsor.slug, n.event) for n in selectors.notice_list(membership=member))
        log = list(selectors.log_of(membership=member, inspection=observations[0].inspection)) if observations \
            else []
        raw_log = list(LogEntry.objects.values_list("text", flat=True))  # unscoped_: RLS alone
        inspections = list(selectors.inspection_list(membership=member))
        scope = [(s.sponsor.slug, s.product.code) for i in inspections for s in i.visible_scope]
        affected_lines = [(a.sponsor.slug, a.product.code if a.product else None)
                          for o in observations for a in o.visible_affected]
    return {"texts": {o.text for o in observations}, "raw": raw, "impacts": impacts, "notices": notices,
            "log": log, "raw_log": raw_log, "scope": scope, "affected": affected_lines,
            "sites": [i.site.name for i in inspections]}


def test_each_sponsor_sees_only_the_observations_that_concern_it(cast):
    boston_483(cast)
    helix, northwind, acme = seen_by(cast, "helix.qa"), seen_by(cast, "northwind.qa"), seen_by(cast, "acme.qa")
    assert acme["texts"] == set(TEXTS.values())
    assert helix["texts"] == helix["raw"] == {TEXTS["site"], TEXTS["helix"]}
    assert northwind["texts"] == northwind["raw"] == {TEXTS["site"], TEXTS["nwb7"]}
    assert helix["impacts"] == [(1, "helix", "indirect"), (3, "helix", "direct")]
    assert northwind["impacts"] == [(1, "northwind", "none"), (2, "northwind", "direct")]
    assert helix["notices"] == [("helix", "fda_483")] and northwind["notices"] == [("northwind", "fda_483")]
    assert helix["scope"] == [("helix", "HLX-101")] and northwind["scope"] == [("northwind", "NWB-7")]
    assert helix["affected"] == [("helix", "HLX-101")] and northwind["affected"] == [("northwind", "NWB-7")]
    # Northwind's partnership lists Cork only, yet it sees the Boston site its product was inspected at.
    assert northwind["sites"] == ["Acme Boston"]
    assert "NWB-7" not in str(helix) and "northwind" not in str(helix)
    assert "HLX-101" not in str(northwind) and "helix" not in str(northwind)


def test_the_back_room_log_is_the_cmos_alone(cast):
    boston_483(cast)
    assert [e.who for e in seen_by(cast, "acme.qa")["log"]] == ["QC manager"]
    for sponsor in ("helix.qa", "northwind.qa", "auditor"):
        seen = seen_by(cast, sponsor)
        assert seen["log"] == [] and seen["raw_log"] == [], sponsor


def test_an_unrelated_cmo_and_sponsor_see_nothing(cast):
    boston_483(cast)
    borealis = seen_by(cast, "borealis.qa")
    assert borealis["texts"] == borealis["raw"] == set() and borealis["sites"] == []


def test_impact_is_assessed_only_for_a_sponsor_that_sees_the_observation(cast):
    _, form483 = boston_483(cast)
    nwb7 = form483.observations.get(number=2)
    with acting(cast, "acme.qa"), pytest.raises(ValidationError) as refused:
        services.impact_assess(membership=cast.memberships["acme.qa"], observation=nwb7, impact="none",
                               rationale="n/a", partnership_id=cast.partnership("helix", "acme").pk)
    assert "partnership" in refused.value.message_dict


def test_only_the_pai_application_sponsor_comments_on_the_draft_response(cast):
    inspection = pai(cast)
    form483 = record_483(cast, inspection, dt.date(2026, 11, 25), by="borealis.qa")
    observation = observe(cast, form483, "21 CFR 211.192", by="borealis.qa",
                          text="Investigation of the NWB-9 media fill failure was not thorough.")
    with acting(cast, "northwind.qa"):
        comment = services.comment_add(membership=cast.memberships["northwind.qa"], observation=observation,
                                       body="Our BLA commits to three media fills; say so in the response.")
    assert comment.sponsor_id == comment.organization_id == cast.orgs["northwind"].pk
    with acting(cast, "borealis.qa"):
        services.comment_add(membership=cast.memberships["borealis.qa"], observation=observation,
                             body="Added to the commitment.", sponsor_id=cast.orgs["northwind"].pk)
    with acting(cast, "northwind.qa"):
        thread = [c.body for c in selectors.comments_of(membership=cast.memberships["northwind.qa"],
                                                        observation=observation)]
    assert thread == ["Our BLA commits to three media fills; say so in the response.", "Added to the commitment."]

    _, boston = boston_483(cast)
    site_wide = boston.observations.get(number=1)
    with acting(cast, "helix.qa"), pytest.raises(ValidationError) as refused:
        services.comment_add(membership=cast.memberships["helix.qa"], observation=site_wide, body="We disagree.")
    assert "routine surveillance inspection" in refused.value.message_dict["observation"][0]
    # Underneath the service, row-level security refuses the same insert.
    with acting(cast, "helix.qa"), pytest.raises(ProgrammingError), transaction.atomic():
        ResponseComment.objects.create(observation=site_wide, inspection=site_wide.inspection,
                                       organization=cast.orgs["helix"], cmo=cast.orgs["acme"],
                                       sponsor=cast.orgs["helix"], body="x", author=cast.users["helix.qa"],
                                       author_name="x")


@pytest.mark.parametrize("cited, subpart, system", [
    ("21 CFR 211.22(d)", "B", "quality"), ("21 CFR 211.192", "J", "quality"),
    ("21 CFR 211.160(b)", "I", "laboratory"), ("21 CFR 211.67", "D", "facilities_equipment"),
    ("21 CFR 211.42(c)(10)(iv)", "C", "facilities_equipment"), ("21 CFR 211.100(a)", "F", "production"),
    ("21 CFR 211.84(d)(2)", "E", "materials"), ("21 CFR 211.130", "G", "packaging_labelling"),
    ("21 CFR 211.188(b)", "J", "production"), ("21 CFR 211.194(a)", "J", "laboratory"),
    ("21 CFR 211.142", "H", "materials"), ("21 CFR 211.204", "K", "quality"),
])
def test_category_is_suggested_from_the_cited_section(cited, subpart, system):
    suggestion = taxonomy.suggest(cited)
    assert suggestion is not None and (suggestion.subpart, suggestion.system) == (subpart, system)


def test_no_suggestion_outside_part_211_and_the_choice_is_kept_beside_the_suggestion(cast):
    assert taxonomy.suggest("21 CFR 212.20") is None and taxonomy.suggest("") is None
    form483 = record_483(cast, inspect(cast, started=dt.date(2026, 11, 23)), dt.date(2026, 11, 25))
    observation = observe(cast, form483, "21 CFR 211.68(b)")
    assert (observation.suggested_subpart, observation.subpart) == ("D", "D")
    with acting(cast, "acme.qa"):
        services.observation_update(membership=cast.memberships["acme.qa"], observation=observation,
                                    system="laboratory")
    observation.refresh_from_db()
    assert (observation.suggested_system, observation.system) == ("facilities_equipment", "laboratory")
    assert observation.taxonomy_version == taxonomy.VERSION
    with acting(cast, "acme.qa"):  # a new citation moves the untouched subpart, not the chosen system
        services.observation_update(membership=cast.memberships["acme.qa"], observation=observation,
                                    cited_regulation="21 CFR 211.192")
    observation.refresh_from_db()
    assert (observation.suggested_subpart, observation.subpart, observation.system) == ("J", "J", "laboratory")


def test_repeat_observation_flag(cast):
    earlier = inspect(cast, started=dt.date(2025, 3, 2))
    old = record_483(cast, earlier, dt.date(2025, 3, 6))
    observe(cast, old, "21 CFR 211.67(b)")
    cork = inspect(cast, site="Acme Cork", started=dt.date(2026, 2, 2), scope=[])
    observe(cast, record_483(cast, cork, dt.date(2026, 2, 6)), "21 CFR 211.192")
    later = record_483(cast, inspect(cast, started=dt.date(2026, 11, 23)), dt.date(2026, 11, 25))
    repeat = observe(cast, later, "21 CFR 211.67(a)")
    fresh = observe(cast, later, "21 CFR 211.192")  # subpart J was cited at Cork, not at Boston
    assert repeat.is_repeat and repeat.repeat_of.form483_id == old.pk
    assert repeat.repeat_of_label.startswith(f"{earlier.number}, observation 1")
    assert not fresh.is_repeat and fresh.repeat_of is None


def test_sponsor_dashboard_runs_a_constant_number_of_queries(cast):
    from django.test.utils import CaptureQueriesContext

    def count():
        member = cast.memberships["northwind.qa"]
        with acting(cast, "northwind.qa"), CaptureQueriesContext(connection) as queries:
            board = selectors.sponsor_dashboard(membership=member)
            rows = [(list(board.inspections), [(f.response_deadline, f.inspection.my_notices)
                                               for f in board.open_483s], list(board.impacts),
                     board.commitment_status(), [(o.visible_affected, o.visible_impacts, list(o.capa_links.all()),
                                                  o.visible_comments) for o in
                                                 selectors.observation_list(membership=member)])]
        return len(queries), rows

    _, form483 = boston_483(cast)
    first, rows = count()
    assert rows[0][1][0][0] is not None and [n.event for n in rows[0][1][0][1]] == ["fda_483"]
    for n in range(4):
        observe(cast, form483, "21 CFR 211.165", text=f"NWB-7 finding {n}", visibility="product_specific",
                affected=[affected(cast, "northwind", "NWB-7")])
    assert count()[0] == first
