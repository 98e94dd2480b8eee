"""Reads of the audit trail. Visibility: events of records the acting organization owns, and of partnerships it
is party to (the same rule row-level security applies to part11_auditevent)."""

from __future__ import annotations

from django.db.models import CharField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Concat

from part11.models import RECORD_TYPES, AuditEvent, Signature
from tenants.models import Membership, User

__all__ = ["RECORD_TYPES", "event_list", "signature_list"]

def event_list(*, membership: Membership) -> QuerySet[AuditEvent]:
    org = membership.organization_id
    actor_name = User.objects.filter(pk=OuterRef("actor_user_id")).annotate(
        printed=Concat("first_name", Value(" "), "last_name", Value(" ("), "username", Value(")"),
                       output_field=CharField())
    ).values("printed")[:1]
    return (AuditEvent.objects.filter(Q(organization_id=org) | Q(partner_organization_id=org))
            .annotate(actor_name=Subquery(actor_name))
            .order_by("-occurred_at", "-id"))


def signature_list(*, membership: Membership) -> QuerySet[Signature]:
    """Signatures on records the acting organization can see (same rule as row-level security)."""
    from part11.signatures import REGISTRY

    visible = Q(organization_id=membership.organization_id)
    for table, signable in REGISTRY.items():
        ids = signable.selector(membership=membership).order_by().values("pk")
        visible |= Q(record_table=table, record_id__in=ids)
    return Signature.objects.filter(visible).select_related("signer").order_by("signed_at", "id")
