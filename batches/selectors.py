"""Reads for batches, always through the acting membership (DESIGN.md §3.2).

The CMO sees its batches whole; the sponsor sees the batches of its products; the holder of a live grant on the
partnership reads them too. Row-level security enforces the same rule underneath.

The review-by-exception flags are annotations (one correlated subquery each), so a list of any length costs the
same few queries: linked deviations (open and closed), failed or OOS results, changes in effect, missing
documents, open queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from batches.models import Batch, ChangeInEffect, Disposition, Document, QcResult, Query, QueryMessage
from deviations.models import AffectedProduct, Deviation
from tenants.models import Membership
from tenants.selectors import granted_partnership_ids

CLOSED_DEVIATION = (Deviation.State.CLOSED, Deviation.State.CANCELLED)
REQUIRED_DOCUMENTS = (Document.Kind.EXECUTED_BATCH_RECORD, Document.Kind.CERTIFICATE_OF_ANALYSIS)


class SubqueryCount(Subquery):
    """COUNT(*) of a correlated subquery (0 when it finds nothing)."""

    template = "(SELECT count(*) FROM (%(subquery)s) _count)"
    output_field = IntegerField()


def _visible(membership: Membership) -> Q:
    org = membership.organization_id
    return (Q(organization_id=org) | Q(sponsor_id=org)
            | Q(partnership_id__in=granted_partnership_ids(membership=membership)))


def _lines_naming(product: Any, lot: Any) -> QuerySet[AffectedProduct]:
    """Deviation lines (as the reader may see them) that name this product and lot among their batches."""
    if isinstance(lot, str):
        lot = Value(lot)
    lot_array = Func(lot, function="ARRAY", template="ARRAY[%(expressions)s]::varchar(50)[]",
                     output_field=ArrayField(CharField(max_length=50)))
    return AffectedProduct.objects.filter(product_id=product, batch_numbers__contains=lot_array)


def _has_document(kind: str) -> Exists:
    return Exists(Document.objects.filter(batch_id=OuterRef("pk"), kind=kind, superseded=False))


def batch_list(*, membership: Membership) -> QuerySet[Batch]:
    lines = _lines_naming(OuterRef("product_id"), OuterRef("lot_number"))
    open_lines = lines.exclude(deviation__state__in=CLOSED_DEVIATION)
    return (Batch.objects.filter(_visible(membership))
            .select_related("product", "site", "organization", "sponsor", "review_deadline")
            .annotate(
                deviation_count=SubqueryCount(lines.values("pk")),
                open_deviation_count=SubqueryCount(open_lines.values("pk")),
                flagged_result_count=SubqueryCount(QcResult.objects.filter(
                    Q(passed=False) | Q(oos=True), batch_id=OuterRef("pk")).values("pk")),
                change_count=SubqueryCount(ChangeInEffect.objects.filter(batch_id=OuterRef("pk")).values("pk")),
                has_ebr=_has_document(Document.Kind.EXECUTED_BATCH_RECORD),
                has_coa=_has_document(Document.Kind.CERTIFICATE_OF_ANALYSIS),
                open_query_count=SubqueryCount(Query.objects.filter(batch_id=OuterRef("pk"),
                                                                    state=Query.State.OPEN).values("pk")),
            )
            .annotate(has_exceptions=ExpressionWrapper(
                Q(deviation_count__gt=0) | Q(flagged_result_count__gt=0) | Q(change_count__gt=0)
                | Q(has_ebr=False) | Q(has_coa=False), output_field=BooleanField()))
            .order_by("-created_at", "-id"))


def review_queue(*, membership: Membership) -> QuerySet[Batch]:
    """What waits for the acting organization's quality unit, oldest first: for a sponsor, the batches awaiting
    its disposition; for a CMO, the batches in its own QA review."""
    org = membership.organization_id
    batches = batch_list(membership=membership)
    if membership.organization.is_cmo:
        return batches.filter(organization_id=org, state=Batch.State.CMO_REVIEW).order_by("submitted_at", "id")
    return batches.filter(sponsor_id=org, state=Batch.State.SPONSOR_REVIEW).order_by("sent_to_sponsor_at", "id")


def counts_by_state(queryset: QuerySet[Batch]) -> dict[str, int]:
    return dict(queryset.order_by().values_list("state").annotate(n=Count("id")).values_list("state", "n"))


def document_list(*, membership: Membership) -> QuerySet[Document]:
    return (Document.objects.filter(_visible(membership)).select_related("file", "batch", "batch__product",
                                                                          "uploaded_by")
            .order_by("batch_id", "kind", "-uploaded_at", "-id"))


def documents_of(*, membership: Membership, batch: Batch) -> QuerySet[Document]:
    return document_list(membership=membership).filter(batch=batch)


def current_document(*, membership: Membership, batch: Batch, kind: str) -> Document | None:
    return documents_of(membership=membership, batch=batch).filter(kind=kind, superseded=False).first()


def qc_results_of(*, membership: Membership, batch: Batch) -> QuerySet[QcResult]:
    return QcResult.objects.filter(_visible(membership), batch=batch).order_by("position", "id")


def changes_of(*, membership: Membership, batch: Batch) -> QuerySet[ChangeInEffect]:
    return ChangeInEffect.objects.filter(_visible(membership), batch=batch).order_by("reference", "id")


def linked_deviations(*, membership: Membership, batch: Batch) -> QuerySet[Deviation]:
    """The deviations whose product lines name this batch, as the reader may see them (a sponsor: its own lines
    only; a grant holder: none, since grants do not reach deviations)."""
    from deviations.selectors import deviation_list

    return deviation_list(membership=membership).filter(
        Exists(_lines_naming(batch.product_id, batch.lot_number).filter(deviation_id=OuterRef("pk"))))


def disposition_list(*, membership: Membership) -> QuerySet[Disposition]:
    org = membership.organization_id
    return (Disposition.objects.filter(Q(cmo_id=org) | Q(sponsor_id=org)
                                       | Q(partnership_id__in=granted_partnership_ids(membership=membership)))
            .select_related("batch", "batch__product", "organization", "decided_by").order_by("decided_at", "id"))


def dispositions_of(*, membership: Membership, batch: Batch) -> QuerySet[Disposition]:
    return disposition_list(membership=membership).filter(batch=batch)


def query_list(*, membership: Membership) -> QuerySet[Query]:
    org = membership.organization_id
    last_author = (QueryMessage.objects.filter(query_id=OuterRef("pk")).order_by("-created_at", "-id")
                   .values("organization_id")[:1])
    return (Query.objects.filter(Q(organization_id=org) | Q(cmo_id=org)
                                 | Q(partnership_id__in=granted_partnership_ids(membership=membership)))
            .select_related("batch", "batch__product", "organization", "cmo", "raised_by")
            .annotate(last_author_org=Subquery(last_author),
                      message_count=Coalesce(SubqueryCount(QueryMessage.objects.filter(
                          query_id=OuterRef("pk")).values("pk")), 0))
            .annotate(awaiting_cmo=ExpressionWrapper(
                Q(state=Query.State.OPEN) & Q(last_author_org=F("organization_id")), output_field=BooleanField()))
            .order_by("-raised_at", "-id"))


def queries_of(*, membership: Membership, batch: Batch) -> QuerySet[Query]:
    return query_list(membership=membership).filter(batch=batch)


def messages_of(*, membership: Membership, query: Query) -> QuerySet[QueryMessage]:
    org = membership.organization_id
    return (QueryMessage.objects.filter(Q(cmo_id=org) | Q(sponsor_id=org)
                                        | Q(partnership_id__in=granted_partnership_ids(membership=membership)),
                                        query=query).order_by("created_at", "id"))


@dataclass(frozen=True)
class Exception_:
    """One line of the review-by-exception summary."""

    kind: str  # deviation_open, deviation_closed, result, change, missing_document, query
    severity: str  # "blocker" stops a release, "attention" needs a look, "info" is recorded
    text: str
    url: str = ""


def exceptions_of(*, membership: Membership, batch: Batch) -> list[Exception_]:
    """The review-by-exception summary: what a reviewer must look at before deciding, built from the data."""
    from django.urls import reverse

    found: list[Exception_] = []
    for deviation in linked_deviations(membership=membership, batch=batch):
        url = reverse("deviation-detail", args=[deviation.pk])
        if deviation.state in CLOSED_DEVIATION:
            found.append(Exception_("deviation_closed", "info",
                                    f"Deviation {deviation.number} ({deviation.get_state_display().lower()}): "
                                    f"{deviation.title}", url))
        else:
            found.append(Exception_("deviation_open", "blocker",
                                    f"Deviation {deviation.number} is open "
                                    f"({deviation.get_state_display().lower()}): {deviation.title}", url))
    for result in qc_results_of(membership=membership, batch=batch):
        if not result.passed:
            found.append(Exception_("result", "blocker", f"{result.test} failed: {result.result} against "
                                                         f"{result.specification}"))
        elif result.oos:
            found.append(Exception_("result", "attention", f"{result.test}: OOS investigated, result "
                                                           f"{result.result} against {result.specification}"))
    for change in changes_of(membership=membership, batch=batch):
        found.append(Exception_("change", "attention", f"Change in effect: {change.reference} {change.title}"))
    present = set(documents_of(membership=membership, batch=batch).filter(superseded=False)
                  .values_list("kind", flat=True))
    for kind in REQUIRED_DOCUMENTS:
        if kind not in present:
            found.append(Exception_("missing_document", "blocker", f"Missing: {Document.Kind(kind).label}"))
    query: Any  # annotated with awaiting_cmo (query_list)
    for query in queries_of(membership=membership, batch=batch).filter(state=Query.State.OPEN):
        whose = "the CMO" if query.awaiting_cmo else "the sponsor"
        found.append(Exception_("query", "attention", f"Open query: {query.subject} (awaiting {whose})"))
    return found
