"""The sponsor's queries on a batch: a thread with the CMO, each message told to the other party at once."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from batches import selectors, services
from batches.models import Query, QueryMessage
from clocks.models import Notification
from tests.agreements.helpers import acting
from tests.batches.helpers import ask, at_sponsor

pytestmark = pytest.mark.django_db


def _told(cast, username: str) -> list[str]:
    return list(Notification.objects.filter(recipient=cast.memberships[username]).order_by("id")
                .values_list("subject", flat=True))


def _reply(cast, query: Query, by: str, body: str) -> QueryMessage:
    with acting(cast, by):
        return services.query_reply(membership=cast.memberships[by], query=query, body=body)


def test_a_query_thread_between_sponsor_and_cmo(cast):
    batch = at_sponsor(cast)
    query = ask(cast, batch, subject="Granulation end point")
    assert any("Query on HLX-101 lot L001 from Helix Therapeutics: Granulation end point" in s
               for s in _told(cast, "acme.qa"))
    assert selectors.query_list(membership=cast.memberships["acme.qa"]).get(pk=query.pk).awaiting_cmo is True

    _reply(cast, query, "acme.qa", "End point by power draw, within the validated 12–16 min range (PV report 7).")
    assert any("Acme CDMO answered the query on HLX-101 lot L001" in s for s in _told(cast, "helix.qa"))
    seen = selectors.query_list(membership=cast.memberships["helix.qa"]).get(pk=query.pk)
    assert (seen.awaiting_cmo, seen.message_count) == (False, 2)

    _reply(cast, query, "helix.qa", "Thanks. Please attach the power-draw trace to the record next time.")
    thread = selectors.messages_of(membership=cast.memberships["acme.qa"], query=query)
    assert [(m.author_name, m.organization_id) for m in thread] == [
        ("Hannah Lindqvist", cast.orgs["helix"].pk), ("Amir Castellano", cast.orgs["acme"].pk),
        ("Hannah Lindqvist", cast.orgs["helix"].pk)]

    with acting(cast, "helix.qa"):
        services.query_close(membership=cast.memberships["helix.qa"], query=query, note="Answered.")
    query.refresh_from_db()
    assert query.state == Query.State.CLOSED and query.closed_at is not None
    assert any("closed the query" in s for s in _told(cast, "acme.qa"))
    with pytest.raises(ValidationError, match="closed"):
        _reply(cast, query, "acme.qa", "One more thing.")


def test_who_may_raise_answer_and_close(cast):
    batch = at_sponsor(cast)
    with pytest.raises(PermissionDenied, match="raised by the batch's sponsor"), acting(cast, "acme.qa"):
        services.query_raise(membership=cast.memberships["acme.qa"], batch=batch, subject="x", body="y")
    with pytest.raises(PermissionDenied), acting(cast, "helix.viewer"):
        services.query_raise(membership=cast.memberships["helix.viewer"], batch=batch, subject="x", body="y")
    with pytest.raises(ValidationError) as refused, acting(cast, "helix.qa"):
        services.query_raise(membership=cast.memberships["helix.qa"], batch=batch, subject="Yield", body="  ")
    assert "body" in refused.value.message_dict
    query = ask(cast, batch)
    with pytest.raises(PermissionDenied, match="sponsor that raised"), acting(cast, "acme.qa"):
        services.query_close(membership=cast.memberships["acme.qa"], query=query)
    with pytest.raises(PermissionDenied), acting(cast, "acme.operator"):
        services.query_reply(membership=cast.memberships["acme.operator"], query=query, body="Operators don't.")


def test_another_sponsor_neither_sees_nor_joins_the_thread(cast):
    query = ask(cast, at_sponsor(cast))
    northwind = cast.memberships["northwind.qa"]
    assert not selectors.query_list(membership=northwind).filter(pk=query.pk).exists()
    with acting(cast, "northwind.qa"):
        assert not Query.objects.filter(pk=query.pk).exists()  # row-level security, under any selector
        assert not QueryMessage.objects.filter(query_id=query.pk).exists()
    with pytest.raises(PermissionDenied), acting(cast, "northwind.qa"):
        services.query_reply(membership=northwind, query=query, body="Let me in.")
    assert not any("Query on" in s for s in _told(cast, "northwind.qa"))
