"""The impact questionnaire, per change type: typed questions, kept in code so the rule table can rely on them.

Every question that applies to a change type must be answered (a missing answer would let a filing rule silently
not fire); no other key is accepted. The filing-trigger rules (``changes.filing_rules``) read these answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from agreements.catalogue import ChangeClass

C = ChangeClass
EQUIPMENT_TYPES = frozenset({C.EQUIPMENT, C.EQUIPMENT_LIKE_FOR_LIKE})


@dataclass(frozen=True)
class Question:
    key: str
    label: str
    help: str
    kind: str = "bool"  # "bool" or "choice"
    choices: tuple[tuple[str, str], ...] = ()
    #: The change types it applies to; None: every type.
    applies_to: frozenset[str] | None = None

    def applies(self, change_type: str) -> bool:
        return self.applies_to is None or change_type in self.applies_to


SPECIFICATION_CHANGES = (
    ("none", "No change to the specification"),
    ("tighten", "Tighten acceptance criteria"),
    ("add_test", "Add a test (with its acceptance criterion)"),
    ("relax", "Relax (widen) acceptance criteria"),
    ("delete_test", "Delete a test"),
    ("method", "Change or replace the analytical procedure of a test"),
)

QUESTIONS: tuple[Question, ...] = (
    Question("affects_filed_information", "Affects information in the marketing application",
             "Anything described in the approved dossier (process, site, equipment class, specification, "
             "method, container closure, batch size, supplier)."),
    Question("affects_cqa", "May affect a critical quality attribute",
             "Identity, strength, purity, potency or another CQA of the product could change."),
    Question("validation_impact", "Validation or qualification needed",
             "Process, cleaning, equipment or method (re)validation or qualification before use."),
    Question("stability_impact", "Stability data needed", "New or additional stability data are needed."),
    Question("comparability_needed", "Comparability study needed",
             "Pre-/post-change comparability (ICH Q5E for biologicals) must be shown."),
    Question("sterility_assurance", "May affect sterility assurance",
             "Sterilization method, aseptic processing steps, sterile barriers or environmental control."),
    Question("like_for_like", "Like-for-like",
             "The new equipment has the same design and operating principle (same class, capacity range and "
             "controls) as the one it replaces.", applies_to=EQUIPMENT_TYPES),
    Question("specification_change", "Specification change", "What changes in the approved specification.",
             kind="choice", choices=SPECIFICATION_CHANGES, applies_to=frozenset({C.SPECIFICATION})),
    Question("method_comparable", "Method performance comparable or better",
             "The changed or new analytical procedure is validated and at least as specific, accurate and "
             "precise as the approved one (answer yes when the method is unchanged).",
             applies_to=frozenset({C.SPECIFICATION, C.ANALYTICAL_METHOD})),
    Question("scale_within_10x", "Within 10 times the approved batch size",
             "The new batch size is at most ten times (and at least a tenth of) the batch size in the filing.",
             applies_to=frozenset({C.BATCH_SIZE})),
    Question("process_change", "Process changes with the scale",
             "Anything other than equipment of the same design and operating principle, scaled: new steps, "
             "parameters outside the approved ranges, different equipment principle.",
             applies_to=frozenset({C.BATCH_SIZE})),
    Question("outside_proven_ranges", "Parameters outside the approved ranges",
             "A process parameter moves outside the range in the filing (or the proven acceptable range).",
             applies_to=frozenset({C.PROCESS})),
    Question("new_site", "A site not named in the filing", "Manufacturing, testing or packaging moves to (or "
             "adds) a site the marketing authorization does not name.", applies_to=frozenset({C.SITE})),
    Question("secondary_packaging_only", "Secondary packaging only",
             "The site only performs secondary packaging (no contact with the product).",
             applies_to=frozenset({C.SITE})),
    Question("product_contact", "Product-contact (primary) packaging",
             "The change concerns a component in contact with the product (container, closure, liner).",
             applies_to=frozenset({C.PACKAGING})),
    Question("new_supplier_qualified", "New supplier qualified",
             "The new supplier is audited and qualified and the material meets the same specification.",
             applies_to=frozenset({C.MATERIALS, C.SUBCONTRACTOR})),
)

BY_KEY = {q.key: q for q in QUESTIONS}


def questions_for(change_type: str) -> tuple[Question, ...]:
    return tuple(q for q in QUESTIONS if q.applies(change_type))


def validate(change_type: str, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers as stored (only the type's questions, typed), or ValidationError naming each problem."""
    if change_type not in ChangeClass.values:
        raise ValidationError({"change_type": "Choose a change type."})
    if not isinstance(answers, Mapping):
        raise ValidationError({"answers": "Answer the impact questions."})
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    wanted = questions_for(change_type)
    unknown = sorted(set(answers) - {q.key for q in wanted})
    for key in unknown:
        errors[f"answers.{key}"] = (f"{BY_KEY[key].label} does not apply to a {ChangeClass(change_type).label.lower()}"
                                    " change." if key in BY_KEY else "Unknown question.")
    for question in wanted:
        value = answers.get(question.key)
        if value is None:
            errors[f"answers.{question.key}"] = f"Answer “{question.label}”."
        elif question.kind == "bool" and not isinstance(value, bool):
            errors[f"answers.{question.key}"] = f"“{question.label}” is yes or no."
        elif question.kind == "choice" and value not in dict(question.choices):
            errors[f"answers.{question.key}"] = f"Choose one of the options for “{question.label}”."
        else:
            clean[question.key] = value
    if not errors and change_type == C.EQUIPMENT_LIKE_FOR_LIKE and clean["like_for_like"] is not True:
        errors["answers.like_for_like"] = ("Equipment of a different design or operating principle is not a "
                                           "like-for-like replacement: choose the change type “Equipment”.")
    if not errors and change_type == C.EQUIPMENT and clean["like_for_like"] is True:
        errors["answers.like_for_like"] = ("A like-for-like replacement is its own change class (the agreement "
                                           "may make it notification-only): choose “Equipment: like-for-like "
                                           "replacement”.")
    if errors:
        raise ValidationError(errors)
    return clean
