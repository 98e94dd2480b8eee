"""The filing-trigger rule table (DESIGN.md §4 "Filing categories"): data, versioned, read top to bottom.

For each market the first rule whose change types and answers match gives the **suggested** category, and its text
is shown as the rationale; the product's owner (the sponsor, who holds the marketing authorization) confirms or
overrides it with a reason. When no rule matches, the suggestion is the most conservative category (prior-approval
supplement / Type II) and says that no rule matched. The table is a screening aid, not a regulatory opinion: where
the guidance allows a lower category in cases the questionnaire does not distinguish (a site already inspected for
the operation, a non-sterile dosage form), the rule suggests the higher one and says so.

Sources: US 21 CFR 314.70 (drugs) and 601.12 (biologics); FDA guidance "Changes to an Approved NDA or ANDA"
(April 2004) and SUPAC-IR (1995). EU: Commission Regulation (EC) No 1234/2008 (variations) and the Commission's
classification guideline (2013/C 223/01, "the guideline"). The UK follows the EU categories for now (its
variations regime kept them) and is assessed with the EU rules; other markets are not assessed.

Change ``RULES_VERSION`` whenever a rule changes: every assessment records the version it was computed with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models

from agreements.catalogue import ChangeClass

RULES_VERSION = "2026.1"

C = ChangeClass


class FilingCategory(models.TextChoices):
    PAS = "pas", "US: prior-approval supplement"
    CBE30 = "cbe30", "US: CBE-30 supplement"
    CBE0 = "cbe0", "US: CBE-0 supplement"
    ANNUAL_REPORT = "annual_report", "US: annual report"
    TYPE_II = "type_ii", "EU: Type II variation"
    TYPE_IB = "type_ib", "EU: Type IB variation"
    TYPE_IA_IN = "type_ia_in", "EU: Type IA-IN variation"
    TYPE_IA = "type_ia", "EU: Type IA variation"
    NONE = "none", "No filing"
    NOT_ASSESSED = "not_assessed", "Not assessed (market outside the rule table)"

    @classmethod
    def prior_approval(cls) -> frozenset[str]:
        """Categories the agency must approve before the change is implemented."""
        return frozenset({cls.PAS, cls.TYPE_II})

    @classmethod
    def for_market(cls, market: str) -> tuple[str, ...]:
        if market == "US":
            return (cls.PAS, cls.CBE30, cls.CBE0, cls.ANNUAL_REPORT, cls.NONE)
        return (cls.TYPE_II, cls.TYPE_IB, cls.TYPE_IA_IN, cls.TYPE_IA, cls.NONE)


#: Markets the table covers, and the rule set each is assessed with.
RULE_MARKET = {"US": "US", "EU": "EU", "UK": "EU"}
MOST_CONSERVATIVE = {"US": FilingCategory.PAS, "EU": FilingCategory.TYPE_II}


@dataclass(frozen=True)
class Rule:
    id: str
    market: str
    #: The change types it applies to; None: any type.
    types: frozenset[str] | None
    #: Every (question, allowed answers) must hold; a question not answered never matches.
    when: tuple[tuple[str, tuple[Any, ...]], ...]
    category: str
    rationale: str

    def matches(self, change_type: str, answers: Mapping[str, Any]) -> bool:
        if self.types is not None and change_type not in self.types:
            return False
        return all(key in answers and answers[key] in allowed for key, allowed in self.when)


def _t(*types: str) -> frozenset[str]:
    return frozenset(types)


YES, NO = (True,), (False,)
F = FilingCategory
SPEC_TYPES = _t(C.SPECIFICATION)
METHOD_TYPES = _t(C.SPECIFICATION, C.ANALYTICAL_METHOD)

RULES: tuple[Rule, ...] = (
    # --- United States -------------------------------------------------------------------------------------------
    Rule("US-STERILITY", "US", None, (("sterility_assurance", YES),), F.PAS,
         "May affect sterility assurance: major change, prior-approval supplement (21 CFR 314.70(b)(2)(iii); "
         "for biologics 601.12(b)(1), substantial potential for an adverse effect)."),
    Rule("US-NOT-FILED", "US", None, (("affects_filed_information", NO), ("affects_cqa", NO)), F.NONE,
         "Changes no condition established in the approved application and affects no CQA: documented under the "
         "manufacturer's change control (21 CFR 211.100(a)); 314.70(a) and 601.12(a) report only changes to the "
         "approved application, so no supplement or annual report."),
    Rule("US-SPEC-RELAX", "US", SPEC_TYPES, (("specification_change", ("relax",)),), F.PAS,
         "Relaxing an acceptance criterion of the approved specification: major change, prior-approval supplement "
         "(21 CFR 314.70(b)(2)(i); FDA guidance Changes to an Approved NDA or ANDA, 2004, §VIII)."),
    Rule("US-SPEC-DELETE", "US", SPEC_TYPES, (("specification_change", ("delete_test",)),), F.PAS,
         "Deleting a test from the approved specification: major change, prior-approval supplement "
         "(21 CFR 314.70(b)(2)(i); FDA guidance Changes to an Approved NDA or ANDA, 2004, §VIII)."),
    Rule("US-METHOD-NOT-COMPARABLE", "US", METHOD_TYPES, (("method_comparable", NO),), F.PAS,
         "An analytical procedure that does not give the same or greater assurance of identity, strength, quality, "
         "purity or potency: major change, prior-approval supplement (FDA guidance Changes to an Approved NDA or "
         "ANDA, 2004, §VIII; 21 CFR 314.70(b)(1))."),
    Rule("US-SPEC-METHOD", "US", SPEC_TYPES, (("specification_change", ("method",)), ("method_comparable", YES)),
         F.CBE30,
         "Replacing or changing the analytical procedure of an approved test, validated with equivalent or better "
         "performance (not an editorial change): moderate change, CBE-30 supplement (21 CFR 314.70(c)(1); "
         "601.12(c)(1); FDA guidance Changes to an Approved NDA or ANDA, 2004, §VIII)."),
    Rule("US-METHOD", "US", _t(C.ANALYTICAL_METHOD), (("method_comparable", YES),), F.CBE30,
         "Changing an approved analytical procedure, validated with equivalent or better performance (not an "
         "editorial change): moderate change, CBE-30 supplement (21 CFR 314.70(c)(1); 601.12(c)(1); FDA guidance "
         "Changes to an Approved NDA or ANDA, 2004, §VIII)."),
    Rule("US-SPEC-TIGHTEN", "US", SPEC_TYPES, (("specification_change", ("tighten", "add_test")),), F.CBE0,
         "Tightening an acceptance criterion or adding a test gives increased assurance of the product's "
         "characteristics: CBE-0 supplement at most (21 CFR 314.70(c)(6)(i); 601.12(c)(5)(i))."),
    Rule("US-COMPARABILITY", "US", None, (("comparability_needed", YES),), F.PAS,
         "Needs a comparability study (pre-/post-change, ICH Q5E): substantial potential for an adverse effect, "
         "prior-approval supplement (21 CFR 601.12(b)(1); 314.70(b)(1))."),
    Rule("US-BATCH-10X", "US", _t(C.BATCH_SIZE), (("scale_within_10x", YES), ("process_change", NO)),
         F.ANNUAL_REPORT,
         "Batch size within 10 times the approved batch, same equipment principle and process: minor change, "
         "annual report (SUPAC-IR 1995, level 1 batch size change; 21 CFR 314.70(d))."),
    Rule("US-BATCH-OVER-10X", "US", _t(C.BATCH_SIZE), (("scale_within_10x", NO), ("process_change", NO)),
         F.CBE30,
         "Batch size beyond 10 times the approved batch, same process: moderate change (SUPAC-IR 1995, level 2 "
         "'changes being effected' supplement), suggested as CBE-30 (21 CFR 314.70(c)(1))."),
    Rule("US-SITE-SECONDARY-PACKAGING", "US", _t(C.SITE), (("secondary_packaging_only", YES),),
         F.ANNUAL_REPORT,
         "A site for secondary packaging only (no contact with the product): minor change, annual report "
         "(FDA guidance Changes to an Approved NDA or ANDA, 2004, §IV; 21 CFR 314.70(d))."),
    Rule("US-SITE-NEW", "US", _t(C.SITE), (("new_site", YES),), F.PAS,
         "Manufacture at a site the application does not name: prior-approval supplement (21 CFR 314.70(b)(1); "
         "601.12(b)(1); FDA guidance Changes to an Approved NDA or ANDA, 2004, §IV). The guidance allows a CBE-30 "
         "for some non-sterile operations at a site already inspected for them: override with the reason."),
    Rule("US-PACKAGING-NO-CONTACT", "US", _t(C.PACKAGING), (("product_contact", NO),), F.ANNUAL_REPORT,
         "Packaging or labelling component with no product contact and no protective function: minor change, "
         "annual report (21 CFR 314.70(d); FDA guidance Changes to an Approved NDA or ANDA, 2004, §VII)."),
    Rule("US-PACKAGING-CONTACT", "US", _t(C.PACKAGING), (("product_contact", YES),), F.CBE30,
         "Product-contact container closure component: moderate change, CBE-30 supplement (21 CFR 314.70(c)(1); "
         "FDA guidance Changes to an Approved NDA or ANDA, 2004, §VII); PAS if it may affect the impurity profile "
         "(314.70(b)(2)(vi))."),
    Rule("US-EQUIPMENT-SAME-PRINCIPLE", "US", _t(C.EQUIPMENT_LIKE_FOR_LIKE), (("like_for_like", YES),),
         F.ANNUAL_REPORT,
         "Equipment of the same design and operating principle: minor change, annual report (SUPAC-IR 1995, "
         "level 1 equipment change; 21 CFR 314.70(d))."),
    # --- European Union (and the UK) -----------------------------------------------------------------------------
    Rule("EU-STERILITY", "EU", None, (("sterility_assurance", YES),), F.TYPE_II,
         "May affect sterility assurance: a substantial change to the manufacturing process, Type II "
         "(classification guideline B.II.b.3.b; Regulation (EC) 1234/2008 Annex II)."),
    Rule("EU-NOT-FILED", "EU", None, (("affects_filed_information", NO), ("affects_cqa", NO)), F.NONE,
         "Changes nothing in the terms of the marketing authorisation (Regulation (EC) 1234/2008 Art. 2(1)) and "
         "affects no CQA: not a variation; handled under the manufacturer's change control (EU GMP chapter 1)."),
    Rule("EU-SPEC-RELAX", "EU", SPEC_TYPES, (("specification_change", ("relax",)),), F.TYPE_II,
         "A change outside the approved specification limits: Type II (classification guideline B.II.d.1.e)."),
    Rule("EU-SPEC-DELETE", "EU", SPEC_TYPES, (("specification_change", ("delete_test",)),), F.TYPE_II,
         "Deleting a specification parameter that may have a significant effect on quality: Type II "
         "(classification guideline B.II.d.1); deleting an obsolete, non-significant one is Type IA: override "
         "with the reason."),
    Rule("EU-METHOD-NOT-COMPARABLE", "EU", METHOD_TYPES, (("method_comparable", NO),), F.TYPE_II,
         "A test procedure without equivalent or better performance: a substantial change to the control of the "
         "finished product, Type II (classification guideline B.II.d.2; Regulation (EC) 1234/2008 Annex II)."),
    Rule("EU-SPEC-METHOD", "EU", METHOD_TYPES, (("specification_change", ("method",)), ("method_comparable", YES)),
         F.TYPE_IB,
         "Other changes to a test procedure (including replacement or addition), validated as at least "
         "equivalent: Type IB (classification guideline B.II.d.2.d)."),
    Rule("EU-METHOD", "EU", _t(C.ANALYTICAL_METHOD), (("method_comparable", YES),), F.TYPE_IB,
         "Other changes to a test procedure (including replacement or addition), validated as at least "
         "equivalent: Type IB (classification guideline B.II.d.2.d)."),
    Rule("EU-SPEC-TIGHTEN", "EU", SPEC_TYPES, (("specification_change", ("tighten", "add_test")),), F.TYPE_IA,
         "Tightening of specification limits, or adding a specification parameter with its test method: Type IA "
         "(classification guideline B.II.d.1.a, B.II.d.1.c)."),
    Rule("EU-COMPARABILITY", "EU", None, (("comparability_needed", YES),), F.TYPE_II,
         "Needs an assessment of comparability (biological product): Type II (classification guideline B.II.b.3.b, "
         "B.II.b.4.c)."),
    Rule("EU-BATCH-10X", "EU", _t(C.BATCH_SIZE), (("scale_within_10x", YES), ("process_change", NO)), F.TYPE_IA,
         "Batch size up to 10-fold the originally approved batch size (or down to a tenth), process unchanged: "
         "Type IA (classification guideline B.II.b.4.a, B.II.b.4.b)."),
    Rule("EU-BATCH-OVER-10X", "EU", _t(C.BATCH_SIZE), (("scale_within_10x", NO), ("process_change", NO)),
         F.TYPE_IB, "Batch size more than 10-fold the approved batch, process unchanged: Type IB (classification "
                    "guideline B.II.b.4)."),
    Rule("EU-SITE-SECONDARY-PACKAGING", "EU", _t(C.SITE), (("secondary_packaging_only", YES),), F.TYPE_IA_IN,
         "Replacement or addition of a site for secondary packaging: Type IA, notified immediately (IA-IN) "
         "(classification guideline B.II.b.1.a)."),
    Rule("EU-SITE-NEW", "EU", _t(C.SITE), (("new_site", YES),), F.TYPE_II,
         "A new manufacturing site for a biological or sterile product, or one needing an initial or "
         "product-specific inspection: Type II (classification guideline B.II.b.1). Other manufacturing sites "
         "of non-sterile products are Type IB (B.II.b.1.c): override with the reason."),
    Rule("EU-PACKAGING-NO-CONTACT", "EU", _t(C.PACKAGING), (("product_contact", NO),), F.TYPE_IA,
         "Packaging component with no product contact and no protective function: Type IA (classification "
         "guideline B.II.e)."),
    Rule("EU-PACKAGING-CONTACT", "EU", _t(C.PACKAGING), (("product_contact", YES),), F.TYPE_IB,
         "Immediate packaging (product contact): Type IB (classification guideline B.II.e.1; a minor variation "
         "not otherwise classified is IB by default, Regulation (EC) 1234/2008 Art. 3(2))."),
    Rule("EU-EQUIPMENT-SAME-PRINCIPLE", "EU", _t(C.EQUIPMENT_LIKE_FOR_LIKE), (("like_for_like", YES),),
         F.TYPE_IA, "Replacement with equipment of the same design and operating principle: a minor change in "
                    "the manufacturing process, Type IA (classification guideline B.II.b.3.a)."),
)


@dataclass(frozen=True)
class Suggestion:
    market: str
    category: str
    rule_id: str
    rule_text: str
    rules_version: str = RULES_VERSION


def suggest(market: str, change_type: str, answers: Mapping[str, Any]) -> Suggestion:
    """The suggested category for ``market``: the first rule that matches, else the most conservative one."""
    rule_market = RULE_MARKET.get(market)
    if rule_market is None:
        return Suggestion(market, FilingCategory.NOT_ASSESSED, "",
                          f"{market}: not covered by filing-rule table {RULES_VERSION} (US, EU and UK are); the "
                          "sponsor assesses this market outside the system.")
    note = " (UK: assessed with the EU categories.)" if market == "UK" else ""
    for rule in RULES:
        if rule.market == rule_market and rule.matches(change_type, answers):
            return Suggestion(market, rule.category, rule.id, rule.rationale + note)
    category = MOST_CONSERVATIVE[rule_market]
    return Suggestion(market, category, "",
                      f"No rule of table {RULES_VERSION} matched these answers: the most conservative category "
                      f"({FilingCategory(category).label}) is suggested until the sponsor's regulatory "
                      f"assessment says otherwise.{note}")
