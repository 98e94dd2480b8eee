"""The filing-trigger rule table (changes.filing_rules): every category, positive and negative, US and EU.

Pure data: no database. Answers are validated by the questionnaire first, as the service does, so each case is
one a user could actually enter.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from changes import questionnaire
from changes.filing_rules import RULES, RULES_VERSION, FilingCategory, suggest
from tests.changes.helpers import LIKE_FOR_LIKE, METHOD_CHANGE, NO_IMPACT, RELAX

F = FilingCategory
FILED = {**NO_IMPACT, "affects_filed_information": True}


def both(change_type: str, answers: dict[str, Any]) -> tuple[str, str]:
    clean = questionnaire.validate(change_type, answers)
    return suggest("US", change_type, clean).category, suggest("EU", change_type, clean).category


CASES = [
    # (id, change type, answers, US, EU)
    ("like-for-like equipment, not filed", "equipment_like_for_like", LIKE_FOR_LIKE, F.NONE, F.NONE),
    ("like-for-like equipment, filed", "equipment_like_for_like", {**LIKE_FOR_LIKE, "affects_filed_information": True},
     F.ANNUAL_REPORT, F.TYPE_IA),
    ("method replaced, comparable", "specification", METHOD_CHANGE, F.CBE30, F.TYPE_IB),
    ("analytical method, comparable", "analytical_method", {**FILED, "method_comparable": True}, F.CBE30, F.TYPE_IB),
    ("method not comparable", "specification", {**METHOD_CHANGE, "method_comparable": False}, F.PAS, F.TYPE_II),
    ("tighten limits", "specification", {**FILED, "specification_change": "tighten", "method_comparable": True},
     F.CBE0, F.TYPE_IA),
    ("add a test", "specification", {**FILED, "specification_change": "add_test", "method_comparable": True},
     F.CBE0, F.TYPE_IA),
    ("relax limits", "specification", RELAX, F.PAS, F.TYPE_II),
    ("delete a test", "specification", {**RELAX, "specification_change": "delete_test"}, F.PAS, F.TYPE_II),
    ("new site", "site", {**FILED, "new_site": True, "secondary_packaging_only": False}, F.PAS, F.TYPE_II),
    ("secondary packaging site", "site", {**FILED, "new_site": True, "secondary_packaging_only": True},
     F.ANNUAL_REPORT, F.TYPE_IA_IN),
    ("batch size within 10x", "batch_size", {**FILED, "scale_within_10x": True, "process_change": False},
     F.ANNUAL_REPORT, F.TYPE_IA),
    ("batch size beyond 10x", "batch_size", {**FILED, "scale_within_10x": False, "process_change": False},
     F.CBE30, F.TYPE_IB),
    ("batch size with comparability", "batch_size",
     {**FILED, "scale_within_10x": True, "process_change": False, "comparability_needed": True}, F.PAS, F.TYPE_II),
    ("packaging, no product contact", "packaging", {**FILED, "product_contact": False}, F.ANNUAL_REPORT, F.TYPE_IA),
    ("packaging, product contact", "packaging", {**FILED, "product_contact": True}, F.CBE30, F.TYPE_IB),
    ("sterility assurance", "process", {**FILED, "sterility_assurance": True, "outside_proven_ranges": False},
     F.PAS, F.TYPE_II),
    ("sterility beats not-filed", "facility", {**NO_IMPACT, "sterility_assurance": True}, F.PAS, F.TYPE_II),
]


@pytest.mark.parametrize(("change_type", "answers", "us", "eu"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule_outcomes(change_type, answers, us, eu):
    assert both(change_type, answers) == (us, eu)


def test_every_category_is_reachable_in_its_market():
    seen_us = {c[3] for c in CASES}
    seen_eu = {c[4] for c in CASES}
    assert seen_us == {F.PAS, F.CBE30, F.CBE0, F.ANNUAL_REPORT, F.NONE}
    assert seen_eu == {F.TYPE_II, F.TYPE_IB, F.TYPE_IA_IN, F.TYPE_IA, F.NONE}


def test_negatives_a_near_miss_does_not_fire_the_rule():
    """Change one answer and the lower category no longer applies."""
    assert both("equipment_like_for_like", {**LIKE_FOR_LIKE, "affects_cqa": True}) != (F.NONE, F.NONE)
    assert both("batch_size", {**FILED, "scale_within_10x": True, "process_change": True}) == (F.PAS, F.TYPE_II)
    assert both("specification", {**METHOD_CHANGE, "specification_change": "relax"}) == (F.PAS, F.TYPE_II)
    assert both("packaging", {**FILED, "product_contact": True}) != (F.ANNUAL_REPORT, F.TYPE_IA)
    assert both("site", {**FILED, "new_site": False, "secondary_packaging_only": False}) == (F.PAS, F.TYPE_II)
    # Not filed, but a CQA may change: not "none".
    assert both("computerized_system", {**NO_IMPACT, "affects_cqa": True}) == (F.PAS, F.TYPE_II)


def test_no_rule_matched_suggests_the_most_conservative_category_and_says_so():
    answers = questionnaire.validate("process", {**FILED, "outside_proven_ranges": True})
    for market, category in (("US", F.PAS), ("EU", F.TYPE_II)):
        suggestion = suggest(market, "process", answers)
        assert (suggestion.category, suggestion.rule_id) == (category, "")
        assert "No rule of table 2026.1 matched" in suggestion.rule_text


def test_the_rule_that_fired_is_the_rationale_with_its_citation():
    clean = questionnaire.validate("specification", METHOD_CHANGE)
    us, eu = suggest("US", "specification", clean), suggest("EU", "specification", clean)
    assert (us.rule_id, us.rules_version) == ("US-SPEC-METHOD", RULES_VERSION)
    assert "314.70(c)(1)" in us.rule_text
    assert eu.rule_id == "EU-SPEC-METHOD" and "B.II.d.2.d" in eu.rule_text


def test_uk_is_assessed_with_the_eu_rules_and_other_markets_are_not_assessed():
    clean = questionnaire.validate("specification", METHOD_CHANGE)
    uk = suggest("UK", "specification", clean)
    assert (uk.category, uk.rule_id) == (F.TYPE_IB, "EU-SPEC-METHOD") and "UK" in uk.rule_text
    ca = suggest("CA", "specification", clean)
    assert (ca.category, ca.rule_id) == (F.NOT_ASSESSED, "")


def test_the_table_is_data_with_unique_ids_and_known_questions():
    assert len({rule.id for rule in RULES}) == len(RULES)
    for rule in RULES:
        assert rule.market in ("US", "EU")
        assert rule.category in F.for_market(rule.market)
        assert all(key in questionnaire.BY_KEY for key, _ in rule.when), rule.id
        assert rule.rationale.strip()


def test_questionnaire_refuses_missing_wrongly_typed_and_foreign_answers():
    with pytest.raises(ValidationError) as missing:
        questionnaire.validate("specification", {**NO_IMPACT})
    assert set(missing.value.message_dict) == {"answers.specification_change", "answers.method_comparable"}
    with pytest.raises(ValidationError) as typed:
        questionnaire.validate("packaging", {**FILED, "product_contact": "yes"})
    assert "answers.product_contact" in typed.value.message_dict
    with pytest.raises(ValidationError) as foreign:
        questionnaire.validate("packaging", {**FILED, "product_contact": True, "new_site": True})
    assert "answers.new_site" in foreign.value.message_dict
    with pytest.raises(ValidationError) as wrong_class:
        questionnaire.validate("equipment", {**NO_IMPACT, "like_for_like": True})
    assert "like-for-like replacement" in wrong_class.value.messages[0]
    with pytest.raises(ValidationError):
        questionnaire.validate("equipment_like_for_like", {**NO_IMPACT, "like_for_like": False})
