"""Outcome schemes: FDA classifies NAI / VAI / OAI; another authority issues a GMP certificate or a statement of
non-compliance; an inspection performed under a Mutual Recognition Agreement may carry the NAI / VAI / OAI
classification FDA gives the partner authority's report. A wrong scheme is refused, naming what is allowed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from inspections import services
from inspections.models import Inspection
from tests.agreements.helpers import acting
from tests.inspections.helpers import inspect

pytestmark = pytest.mark.django_db
CLOSED_OUT, DECIDED = dt.date(2026, 11, 5), dt.date(2026, 11, 20)


def _closed_out(cast, authority: str, under_mra: bool = False) -> Inspection:
    inspection = inspect(cast, site="Acme Cork", authority=authority)
    with acting(cast, "acme.qa"):
        member = cast.memberships["acme.qa"]
        if under_mra:
            services.inspection_update(membership=member, inspection=inspection, under_mra=True)
        services.inspection_close_out(membership=member, inspection=Inspection.objects.get(pk=inspection.pk),
                                      closed_out_on=CLOSED_OUT)
    return Inspection.objects.get(pk=inspection.pk)


def _record(cast, inspection: Inspection, outcome: str) -> Inspection:
    with acting(cast, "acme.qa"):
        services.outcome_record(membership=cast.memberships["acme.qa"], inspection=inspection, outcome=outcome,
                                outcome_on=DECIDED)
    return Inspection.objects.get(pk=inspection.pk)


@pytest.mark.parametrize(("authority", "under_mra", "refused", "accepted", "allowed"), [
    ("fda", False, "compliant", "vai", "NAI"),
    ("mhra", False, "nai", "compliant", "Compliant"),
    ("mhra", True, "bogus", "nai", "NAI"),
])
def test_each_authority_has_its_outcome_scheme(cast, authority, under_mra, refused, accepted, allowed):
    inspection = _closed_out(cast, authority, under_mra)
    with pytest.raises(ValidationError) as error:
        _record(cast, inspection, refused)
    assert allowed in error.value.message_dict["outcome"][0]
    assert Inspection.objects.get(pk=inspection.pk).state == Inspection.State.CLOSED_OUT
    closed = _record(cast, inspection, accepted)
    assert (closed.state, closed.outcome, closed.outcome_on) == (Inspection.State.CLOSED, accepted, DECIDED)
