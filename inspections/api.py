"""REST API for inspections, Form 483s and the dual-track response: the API twin of every inspection service.

Thin: reads through ``inspections.selectors`` (via ``ScopedViewSet``), writes through ``inspections.services``. The
CMO owns the inspection, its 483 and the observations; a sponsor in scope reads them only as the selectors narrow
them (its own scope lines, the site-wide observations and those of its products, its own impact rows, notices and
comment threads; never the back-room log, never another sponsor) and writes only its own rows that point at the
CMO's: its acknowledgement of a notice and, for a pre-approval inspection of its application, its comments on the
draft response (partner actions; the services decide whose turn it is). Edits of the inspection header and of
observations need the version read (If-Match → 412 when stale, ``version`` → 409, neither → 428); an observation's
version is its 483's, since the observations are the 483 response's content.
"""

from __future__ import annotations

import hashlib
from typing import Any

import django_filters
from django.core.exceptions import ObjectDoesNotExist
from django.http import FileResponse, Http404, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from agreements.catalogue import NotificationEvent
from capa.selectors import capa_list
from clocks.models import Deadline
from inspections import selectors, services
from inspections.models import (
    Accountability,
    Authority,
    CapaLink,
    Document,
    Form483,
    ImpactAssessment,
    Inspection,
    InspectionType,
    LogEntry,
    Notice,
    Observation,
    Outcome,
    ResponseComment,
    Scope,
    UpdateCommitment,
    Visibility,
)
from inspections.taxonomy import Subpart, System
from part11.api import SignatureSerializer, SignSerializer
from part11.signatures import signatures_of
from qms.versioning import expected_version_from
from tenants import files
from tenants.models import Membership, Site
from tenants.permissions import Capability, can
from tenants.scoping import ScopedRecordViewSet, ScopedViewSet

#: The events a sponsor is told of (and acknowledges).
NOTICE_EVENTS = [(e.value, e.label) for e in (NotificationEvent.FORM_482, NotificationEvent.FDA_483,
                                              NotificationEvent.WARNING_LETTER)]

# --- Serializers: reading -------------------------------------------------------------------------------------


class ClockSerializer(serializers.ModelSerializer):
    """A deadline as the inspection shows it: when it is due, and whether (and when) it was met."""

    class Meta:
        model = Deadline
        fields = ["id", "title", "due_at", "time_zone", "state", "completed_at", "completed_late", "rule_text"]
        read_only_fields = fields


class ScopeSerializer(serializers.ModelSerializer):
    sponsor_name = serializers.CharField(source="sponsor.name", read_only=True)
    product_code = serializers.CharField(source="product.code", read_only=True, default=None)
    product_name = serializers.CharField(source="product.name", read_only=True, default=None)

    class Meta:
        model = Scope
        fields = ["id", "partnership", "sponsor", "sponsor_name", "product", "product_code", "product_name",
                  "application_reference"]
        read_only_fields = fields


class Form483SummarySerializer(serializers.ModelSerializer):
    response_deadline = ClockSerializer(read_only=True)

    class Meta:
        model = Form483
        fields = ["id", "issued_on", "amended", "state", "response_deadline", "submitted_at", "submitted_late"]
        read_only_fields = fields


def _form483_of(inspection: Inspection) -> Form483 | None:
    """The inspection's 483, or None (``select_related`` caches its absence: no query either way)."""
    try:
        return inspection.form483
    except ObjectDoesNotExist:
        return None


class InspectionSerializer(serializers.ModelSerializer):
    """An inspection as every list shows it: the reader's own scope lines only (``visible_scope``)."""

    cmo_name = serializers.CharField(source="organization.name", read_only=True)
    site_name = serializers.CharField(source="site.name", read_only=True)
    is_pai = serializers.BooleanField(read_only=True)
    warning_letter_deadline = ClockSerializer(read_only=True)
    form483 = serializers.SerializerMethodField()
    scope = serializers.SerializerMethodField()

    class Meta:
        model = Inspection
        fields = ["id", "number", "organization", "cmo_name", "site", "site_name", "authority", "authority_name",
                  "under_mra", "inspection_type", "is_pai", "announced_on", "notice_received_at", "started_on",
                  "closed_out_on", "investigators", "outcome", "outcome_on", "outcome_note", "state",
                  "warning_letter_issued_on", "warning_letter_deadline", "warning_letter_responded_at",
                  "warning_letter_closed_on", "form483", "scope", "version"]
        read_only_fields = fields

    @extend_schema_field(Form483SummarySerializer(allow_null=True))
    def get_form483(self, inspection: Inspection) -> Any:
        form483 = _form483_of(inspection)
        return None if form483 is None else Form483SummarySerializer(form483).data

    @extend_schema_field(ScopeSerializer(many=True))
    def get_scope(self, inspection: Inspection) -> Any:
        return ScopeSerializer(getattr(inspection, "visible_scope", []), many=True).data


class DocumentSerializer(serializers.ModelSerializer):
    """A document of the inspection with its SHA-256; ``url`` downloads it."""

    original_name = serializers.CharField(source="file.original_name", read_only=True, default=None)
    sha256 = serializers.CharField(source="file.sha256", read_only=True, default=None)
    size = serializers.IntegerField(source="file.size", read_only=True, default=None)
    mime = serializers.CharField(source="file.mime_type", read_only=True, default=None)
    uploaded_by = serializers.CharField(source="uploaded_by.printed_name", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = ["id", "inspection", "kind", "title", "shared", "original_name", "sha256", "size", "mime",
                  "uploaded_by", "uploaded_at", "url"]
        read_only_fields = fields

    def get_url(self, document: Document) -> str:
        return reverse("api:inspection-document-content", args=[document.inspection_id, document.pk])


class LogEntrySerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.printed_name", read_only=True)

    class Meta:
        model = LogEntry
        fields = ["id", "kind", "at", "text", "who", "author"]
        read_only_fields = fields


class InspectionNoticeSerializer(serializers.ModelSerializer):
    """The CMO telling one sponsor of an event, with that sponsor's clock and its acknowledgement."""

    inspection_number = serializers.CharField(source="inspection.number", read_only=True)
    site_name = serializers.CharField(source="inspection.site.name", read_only=True)
    sponsor_name = serializers.CharField(source="sponsor.name", read_only=True)
    deadline = ClockSerializer(read_only=True)
    notified_by = serializers.CharField(source="notified_by.printed_name", read_only=True, default=None)
    acknowledged_at = serializers.DateTimeField(source="acknowledgement.acknowledged_at", read_only=True,
                                                default=None)
    acknowledged_by = serializers.CharField(source="acknowledgement.acknowledged_by_name", read_only=True,
                                            default=None)
    acknowledgement_note = serializers.CharField(source="acknowledgement.note", read_only=True, default=None)

    class Meta:
        model = Notice
        fields = ["id", "inspection", "inspection_number", "site_name", "partnership", "sponsor", "sponsor_name",
                  "event", "source", "deadline", "message", "notified_at", "notified_by", "recipients",
                  "acknowledged_at", "acknowledged_by", "acknowledgement_note"]
        read_only_fields = fields


class InspectionDetailSerializer(InspectionSerializer):
    """One inspection as the reader may see it: its documents (a sponsor: the shared ones) and the notices (a
    sponsor: its own), and whether the reader takes part in the response (a PAI's application sponsor)."""

    created_by = serializers.CharField(source="created_by.printed_name", read_only=True)
    documents = serializers.SerializerMethodField()
    notices = serializers.SerializerMethodField()
    participates = serializers.SerializerMethodField(help_text="The reader comments on the draft response")

    class Meta(InspectionSerializer.Meta):
        fields = [*InspectionSerializer.Meta.fields, "created_by", "created_at", "documents", "notices",
                  "participates"]
        read_only_fields = fields

    def _member(self) -> Membership:
        return self.context["membership"]

    @extend_schema_field(DocumentSerializer(many=True))
    def get_documents(self, inspection: Inspection) -> Any:
        return DocumentSerializer(selectors.documents_of(membership=self._member(), inspection=inspection),
                                  many=True).data

    @extend_schema_field(InspectionNoticeSerializer(many=True))
    def get_notices(self, inspection: Inspection) -> Any:
        return InspectionNoticeSerializer(selectors.notices_of(membership=self._member(), inspection=inspection),
                                many=True).data

    def get_participates(self, inspection: Inspection) -> bool:
        return services.participates(inspection, self._member().organization_id)


class AffectedSerializer(serializers.Serializer):
    partnership = serializers.IntegerField(source="partnership_id")
    sponsor = serializers.IntegerField(source="sponsor_id")
    sponsor_name = serializers.CharField(source="sponsor.name")
    product = serializers.IntegerField(source="product_id", allow_null=True)
    product_code = serializers.CharField(source="product.code", default=None)


class ImpactSerializer(serializers.ModelSerializer):
    """The CMO's program impact of one observation on one sponsor (that sponsor sees only its own)."""

    observation_number = serializers.IntegerField(source="observation.number", read_only=True)
    inspection = serializers.IntegerField(source="observation.inspection_id", read_only=True)
    inspection_number = serializers.CharField(source="observation.inspection.number", read_only=True)
    sponsor_name = serializers.CharField(source="sponsor.name", read_only=True)

    class Meta:
        model = ImpactAssessment
        fields = ["id", "observation", "observation_number", "inspection", "inspection_number", "partnership",
                  "sponsor", "sponsor_name", "impact", "rationale", "assessed_by_name", "assessed_at"]
        read_only_fields = fields


class ObservationImpactSerializer(serializers.ModelSerializer):
    sponsor_name = serializers.CharField(source="sponsor.name", read_only=True)

    class Meta:
        model = ImpactAssessment
        fields = ["id", "partnership", "sponsor", "sponsor_name", "impact", "rationale", "assessed_by_name",
                  "assessed_at"]
        read_only_fields = fields


class CapaLinkSerializer(serializers.ModelSerializer):
    """A CAPA of the CMO answering the observation: its number and title as linked (a sponsor sees no more)."""

    class Meta:
        model = CapaLink
        fields = ["id", "capa", "capa_number", "capa_title", "linked_at"]
        read_only_fields = fields


class ResponseCommentSerializer(serializers.ModelSerializer):
    party = serializers.SerializerMethodField(help_text="sponsor or cmo")

    class Meta:
        model = ResponseComment
        fields = ["id", "observation", "sponsor", "party", "author_name", "body", "created_at"]
        read_only_fields = fields

    def get_party(self, comment: ResponseComment) -> str:
        return "cmo" if comment.organization_id == comment.cmo_id else "sponsor"


class ClosureSerializer(serializers.Serializer):
    closed_on = serializers.DateField()
    evidence = serializers.CharField()
    closed_by_name = serializers.CharField()
    created_at = serializers.DateTimeField()


class ObservationSerializer(serializers.ModelSerializer):
    """One observation with its category (the suggestion kept beside the choice), repeat flag, accountability,
    the drafted response, and the reader's own affected lines, impact rows and comment thread."""

    inspection_number = serializers.CharField(source="inspection.number", read_only=True)
    form483_state = serializers.CharField(source="form483.state", read_only=True)
    form483_version = serializers.IntegerField(source="form483.version", read_only=True,
                                               help_text="Send it back (If-Match or version) to edit")
    suggestion = serializers.SerializerMethodField(help_text="The category suggested from the cited section")
    affected = serializers.SerializerMethodField()
    impacts = serializers.SerializerMethodField()
    capas = serializers.SerializerMethodField()
    comments = serializers.SerializerMethodField()
    closure = serializers.SerializerMethodField()

    class Meta:
        model = Observation
        fields = ["id", "form483", "form483_state", "form483_version", "inspection", "inspection_number", "number",
                  "text", "cited_regulation", "suggested_subpart", "suggested_system", "suggestion",
                  "taxonomy_version", "subpart", "system", "is_repeat", "repeat_of_label", "accountability",
                  "accountability_rationale", "visibility", "affected", "response_commitment", "response_actions",
                  "response_target_on", "response_evidence", "impacts", "capas", "comments", "closure",
                  "created_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_suggestion(self, observation: Observation) -> str | None:
        if not observation.suggested_subpart:
            return None
        return f"{Subpart(observation.suggested_subpart).label} / {System(observation.suggested_system).label}"

    @extend_schema_field(AffectedSerializer(many=True))
    def get_affected(self, observation: Observation) -> Any:
        return AffectedSerializer(getattr(observation, "visible_affected", []), many=True).data

    @extend_schema_field(ObservationImpactSerializer(many=True))
    def get_impacts(self, observation: Observation) -> Any:
        return ObservationImpactSerializer(getattr(observation, "visible_impacts", []), many=True).data

    @extend_schema_field(CapaLinkSerializer(many=True))
    def get_capas(self, observation: Observation) -> Any:
        return CapaLinkSerializer(observation.capa_links.all(), many=True).data

    @extend_schema_field(ResponseCommentSerializer(many=True))
    def get_comments(self, observation: Observation) -> Any:
        return ResponseCommentSerializer(getattr(observation, "visible_comments", []), many=True).data

    @extend_schema_field(ClosureSerializer(allow_null=True))
    def get_closure(self, observation: Observation) -> Any:
        try:
            closure = observation.closure
        except ObjectDoesNotExist:
            return None
        return ClosureSerializer(closure).data


class UpdateCommitmentSerializer(serializers.ModelSerializer):
    deadline = ClockSerializer(read_only=True)
    submitted_by = serializers.CharField(source="submitted_by.printed_name", read_only=True, default=None)

    class Meta:
        model = UpdateCommitment
        fields = ["id", "sequence", "due_on", "deadline", "submitted_at", "submitted_late", "summary",
                  "submitted_by", "cancelled_reason"]
        read_only_fields = fields


class Form483Serializer(serializers.ModelSerializer):
    """A 483 and its agency clock (15 US business days from the issue date; restarted by an amendment)."""

    inspection_number = serializers.CharField(source="inspection.number", read_only=True)
    cmo_name = serializers.CharField(source="inspection.organization.name", read_only=True)
    site_name = serializers.CharField(source="inspection.site.name", read_only=True)
    response_deadline = ClockSerializer(read_only=True)
    submitted_by = serializers.CharField(source="submitted_by.printed_name", read_only=True, default=None)

    class Meta:
        model = Form483
        fields = ["id", "inspection", "inspection_number", "cmo_name", "site_name", "issued_on",
                  "original_issued_on", "amended", "amended_on", "amendment_reason", "state", "response_deadline",
                  "submitted_at", "submitted_by", "submitted_late", "update_interval_days", "closed_at",
                  "version"]
        read_only_fields = fields


class Form483DetailSerializer(Form483Serializer):
    """A 483 as the reader may see it: the observations it may see with their responses, the periodic update
    commitments and the review and approval signatures manifested."""

    observations = serializers.SerializerMethodField()
    updates = serializers.SerializerMethodField()
    signatures = serializers.SerializerMethodField()

    class Meta(Form483Serializer.Meta):
        fields = [*Form483Serializer.Meta.fields, "observations", "updates", "signatures"]
        read_only_fields = fields

    def _member(self) -> Membership:
        return self.context["membership"]

    @extend_schema_field(ObservationSerializer(many=True))
    def get_observations(self, form483: Form483) -> Any:
        return ObservationSerializer(selectors.observations_of(membership=self._member(), form483=form483),
                                     many=True).data

    @extend_schema_field(UpdateCommitmentSerializer(many=True))
    def get_updates(self, form483: Form483) -> Any:
        return UpdateCommitmentSerializer(selectors.updates_of(membership=self._member(), form483=form483),
                                          many=True).data

    @extend_schema_field(SignatureSerializer(many=True))
    def get_signatures(self, form483: Form483) -> Any:
        return SignatureSerializer(signatures_of(form483), many=True).data


class MyNoticeSerializer(serializers.ModelSerializer):
    """One of the reader's own notices on its dashboard: its clock, when it was told, and its acknowledgement."""

    deadline = ClockSerializer(read_only=True)
    acknowledged_at = serializers.DateTimeField(source="acknowledgement.acknowledged_at", read_only=True,
                                                default=None)

    class Meta:
        model = Notice
        fields = ["id", "event", "deadline", "notified_at", "acknowledged_at"]
        read_only_fields = fields


class DashboardOpen483Serializer(Form483Serializer):
    """An open 483 on the sponsor's dashboard: the agency clock and the sponsor's own notice clocks (prefetched
    on the inspection by ``selectors.sponsor_dashboard``)."""

    my_notices = MyNoticeSerializer(source="inspection.my_notices", many=True, read_only=True)

    class Meta(Form483Serializer.Meta):
        fields = [*Form483Serializer.Meta.fields, "my_notices"]
        read_only_fields = fields


DashboardSerializer = inline_serializer("InspectionDashboard", fields={
    "inspections": InspectionSerializer(many=True),
    "open_483s": DashboardOpen483Serializer(many=True),
    "impacts": ImpactSerializer(many=True),
    "commitments": inline_serializer("InspectionCommitmentStatus", fields={
        "total": serializers.IntegerField(), "closed": serializers.IntegerField(),
        "open": serializers.IntegerField(), "overdue": serializers.IntegerField()}),
})

# --- Serializers: writing -------------------------------------------------------------------------------------


class ScopeLineWriteSerializer(serializers.Serializer):
    partnership = serializers.IntegerField(help_text="One of your partnerships")
    product = serializers.IntegerField(required=False, allow_null=True, default=None,
                                       help_text="One of that partnership's products (optional)")
    application_reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=100,
                                                  help_text="PAI/PLI: the sponsor's application, e.g. NDA 212345")


class InspectionCreateSerializer(serializers.Serializer):
    site = serializers.IntegerField(help_text="Your site that is inspected")
    authority = serializers.ChoiceField(choices=Authority.choices)
    authority_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    under_mra = serializers.BooleanField(default=False)
    inspection_type = serializers.ChoiceField(choices=InspectionType.choices)
    announced_on = serializers.DateField(required=False, allow_null=True, default=None)
    started_on = serializers.DateField(required=False, allow_null=True, default=None)
    investigators = serializers.ListField(child=serializers.CharField(max_length=200), required=False, default=list)
    scope = ScopeLineWriteSerializer(many=True, required=False, default=list)


class InspectionUpdateSerializer(serializers.Serializer):
    authority = serializers.ChoiceField(choices=Authority.choices, required=False)
    authority_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    under_mra = serializers.BooleanField(required=False)
    inspection_type = serializers.ChoiceField(choices=InspectionType.choices, required=False)
    announced_on = serializers.DateField(required=False, allow_null=True)
    investigators = serializers.ListField(child=serializers.CharField(max_length=200), required=False)
    version = serializers.IntegerField(required=False)


class ScopeSetSerializer(serializers.Serializer):
    scope = ScopeLineWriteSerializer(many=True)
    version = serializers.IntegerField(required=False)


class StartSerializer(serializers.Serializer):
    started_on = serializers.DateField()


class CloseOutSerializer(serializers.Serializer):
    closed_out_on = serializers.DateField()


class OutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    outcome_on = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class NoticeReceivedSerializer(serializers.Serializer):
    notice_received_at = serializers.DateTimeField(help_text="When the Form 482 (or notice) was received")


class InspectionNotifySerializer(serializers.Serializer):
    event = serializers.ChoiceField(choices=NOTICE_EVENTS)
    message = serializers.CharField(required=False, allow_blank=True, default="")
    partnerships = serializers.ListField(child=serializers.IntegerField(), required=False,
                                         help_text="Only these sponsors' partnerships (default: all not yet told)")


class WarningLetterSerializer(serializers.Serializer):
    warning_letter_issued_on = serializers.DateField()


class WarningLetterReplySerializer(serializers.Serializer):
    warning_letter_responded_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class WarningLetterCloseSerializer(serializers.Serializer):
    warning_letter_closed_on = serializers.DateField()


class LogWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LogEntry.Kind.choices)
    text = serializers.CharField()
    who = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class InspectionDocumentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Document.Kind.choices)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    shared = serializers.BooleanField(default=False, help_text="Visible to the sponsors in scope")
    file = serializers.FileField(help_text="PDF, PNG, JPEG, CSV, XLSX or DOCX (judged by content)")


class Form483RecordSerializer(serializers.Serializer):
    issued_on = serializers.DateField()
    update_interval_days = serializers.IntegerField(default=30, help_text="Periodic update commitment, in days")


class Form483AmendSerializer(serializers.Serializer):
    issued_on = serializers.DateField(help_text="The amended form's issue date: the response clock restarts")
    reason = serializers.CharField(help_text="Why the 483 was amended (recorded in the audit trail)")
    version = serializers.IntegerField(required=False)


class AffectedWriteSerializer(serializers.Serializer):
    partnership = serializers.IntegerField()
    product = serializers.IntegerField(required=False, allow_null=True, default=None)


class ObservationWriteSerializer(serializers.Serializer):
    number = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1,
                                      help_text="Default: the next number")
    text = serializers.CharField()
    cited_regulation = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    subpart = serializers.ChoiceField(choices=Subpart.choices, required=False, allow_null=True, default=None,
                                      help_text="Default: suggested from the cited section")
    system = serializers.ChoiceField(choices=System.choices, required=False, allow_null=True, default=None,
                                     help_text="Default: suggested from the cited section")
    accountability = serializers.ChoiceField(choices=Accountability.choices, default=Accountability.CMO)
    accountability_rationale = serializers.CharField(required=False, allow_blank=True, default="")
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.SITE_WIDE)
    affected = AffectedWriteSerializer(many=True, required=False, default=list)


class ObservationUpdateSerializer(serializers.Serializer):
    number = serializers.IntegerField(required=False, min_value=1)
    text = serializers.CharField(required=False)
    cited_regulation = serializers.CharField(required=False, allow_blank=True, max_length=100)
    subpart = serializers.ChoiceField(choices=Subpart.choices, required=False, allow_blank=True)
    system = serializers.ChoiceField(choices=System.choices, required=False, allow_blank=True)
    accountability = serializers.ChoiceField(choices=Accountability.choices, required=False)
    accountability_rationale = serializers.CharField(required=False, allow_blank=True)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    affected = AffectedWriteSerializer(many=True, required=False)
    version = serializers.IntegerField(required=False, help_text="The 483's version")


class ResponseDraftSerializer(serializers.Serializer):
    commitment = serializers.CharField(allow_blank=True)
    actions = serializers.CharField(allow_blank=True)
    target_on = serializers.DateField(required=False, allow_null=True, default=None)
    evidence = serializers.CharField(required=False, allow_blank=True, default="")
    version = serializers.IntegerField(required=False, help_text="The 483's version (checked when sent)")


class ImpactWriteSerializer(serializers.Serializer):
    partnership = serializers.IntegerField(help_text="The sponsor's partnership (one that sees the observation)")
    impact = serializers.ChoiceField(choices=ImpactAssessment.Impact.choices)
    rationale = serializers.CharField(allow_blank=True)


class CapaWriteSerializer(serializers.Serializer):
    capa = serializers.IntegerField(required=False, allow_null=True, default=None,
                                    help_text="Link this CAPA of yours; or leave it out to raise a new one")
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class ResponseCommentWriteSerializer(serializers.Serializer):
    body = serializers.CharField(allow_blank=True)
    sponsor = serializers.IntegerField(required=False, allow_null=True, default=None,
                                       help_text="The CMO answering: the sponsor whose thread it is")


class CommitmentCloseSerializer(serializers.Serializer):
    closed_on = serializers.DateField()
    evidence = serializers.CharField(allow_blank=True)


class SubmitSerializer(serializers.Serializer):
    submitted_at = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                             help_text="When it was sent to FDA (default: now)")


class UpdateRecordSerializer(serializers.Serializer):
    summary = serializers.CharField(allow_blank=True)
    submitted_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class InspectionAcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


# --- Viewsets -------------------------------------------------------------------------------------------------


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    incoming = serializer_class(data=data)
    incoming.is_valid(raise_exception=True)
    return dict(incoming.validated_data)


def _optional_version(request: Request) -> tuple[int | None, bool]:
    """A step checks the version only when the client sends one (an edit of the header always needs it)."""
    if request.headers.get("If-Match") or (hasattr(request.data, "get") and request.data.get("version") is not None):
        return expected_version_from(request)
    return None, False


def _scope_lines(lines: list[dict[str, Any]]) -> list[services.ScopeLine]:
    return [services.ScopeLine(line["partnership"], line["product"], line["application_reference"])
            for line in lines]


def _affected(lines: list[dict[str, Any]]) -> list[services.Affected]:
    return [services.Affected(line["partnership"], line["product"]) for line in lines]


class InspectionFilter(django_filters.FilterSet):
    site = django_filters.NumberFilter(field_name="site_id")
    authority = django_filters.ChoiceFilter(choices=Authority.choices)
    type = django_filters.ChoiceFilter(field_name="inspection_type", choices=InspectionType.choices)
    state = django_filters.ChoiceFilter(choices=Inspection.State.choices)
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices)

    class Meta:
        model = Inspection
        fields = ["site", "authority", "type", "state", "outcome"]


class InspectionViewSet(ScopedRecordViewSet):
    """Inspections at the CMO's sites; a sponsor reads those with it in scope (its own lines only)."""

    selector = selectors.inspection_list
    detail_serializer_class = InspectionDetailSerializer
    filterset_class = InspectionFilter
    lookup_value_regex = "[0-9]+"
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    action_capabilities = {"outcome": Capability.APPROVE_QUALITY_RECORDS,
                           "warning_letter_reply": Capability.APPROVE_QUALITY_RECORDS,
                           "warning_letter_close": Capability.APPROVE_QUALITY_RECORDS,
                           "log": Capability.RECORD_OPERATIONS}
    #: The back room answers 404 to anyone but the CMO (not 403: a sponsor must not learn it exists), so the
    #: owner-only check is left to the action.
    partner_actions = frozenset({"log"})
    http_method_names = ["get", "post", "patch", "put", "head", "options"]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return InspectionSerializer if self.action == "list" else InspectionDetailSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "membership": self.membership}

    # --- The record -----------------------------------------------------------------------------------------

    @extend_schema(request=InspectionCreateSerializer, responses={201: InspectionDetailSerializer})
    def create(self, request: Request) -> Response:
        """Record an inspection at one of your sites (the CMO), with the partnerships and products in scope."""
        data = _valid(InspectionCreateSerializer, request.data)
        site = Site.objects.filter(pk=data.pop("site"), organization_id=self.acting.organization_id).first()
        if site is None:
            raise serializers.ValidationError({"site": ["Choose one of your organization's sites."]})
        inspection = services.inspection_create(membership=self.acting, site=site,
                                                scope=_scope_lines(data.pop("scope")), **data)
        return self.detail_response(inspection, status.HTTP_201_CREATED)

    @extend_schema(request=InspectionUpdateSerializer, responses=InspectionDetailSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Edit the header until the inspection is closed (If-Match or ``version`` required)."""
        inspection = self.get_object()
        data = _valid(InspectionUpdateSerializer, request.data)
        expected, precondition = expected_version_from(request)
        data.pop("version", None)
        services.inspection_update(membership=self.acting, inspection=inspection, expected_version=expected,
                                   precondition=precondition, **data)
        return self.detail_response(inspection)

    @extend_schema(request=ScopeSetSerializer, responses=InspectionDetailSerializer)
    @action(detail=True, methods=["put"])
    def scope(self, request: Request, pk: str | None = None) -> Response:
        """Replace the partnerships and products in scope (If-Match or ``version`` required). Sponsors added get
        the notice clocks of events already recorded; sponsors removed have their unmet clocks cancelled."""
        inspection = self.get_object()
        data = _valid(ScopeSetSerializer, request.data)
        expected, precondition = expected_version_from(request)
        services.scope_set(membership=self.acting, inspection=inspection, scope=_scope_lines(data["scope"]),
                           expected_version=expected, precondition=precondition)
        return self.detail_response(inspection)

    @extend_schema(request=StartSerializer, responses=InspectionDetailSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str | None = None) -> Response:
        """Announced → in progress."""
        inspection = self.get_object()
        data = _valid(StartSerializer, request.data)
        return self.detail_response(services.inspection_start(membership=self.acting, inspection=inspection, **data))

    @extend_schema(request=CloseOutSerializer, responses=InspectionDetailSerializer)
    @action(detail=True, methods=["post"], url_path="close-out", url_name="close-out")
    def close_out(self, request: Request, pk: str | None = None) -> Response:
        """In progress → closed out: the close-out meeting (the investigators have left)."""
        inspection = self.get_object()
        data = _valid(CloseOutSerializer, request.data)
        closed = services.inspection_close_out(membership=self.acting, inspection=inspection, **data)
        return self.detail_response(closed)

    @extend_schema(request=OutcomeSerializer, responses=InspectionDetailSerializer)
    @action(detail=True, methods=["post"])
    def outcome(self, request: Request, pk: str | None = None) -> Response:
        """Closed out → closed: the authority's classification (FDA: NAI / VAI / OAI; others: compliant or not)."""
        inspection = self.get_object()
        data = _valid(OutcomeSerializer, request.data)
        return self.detail_response(services.outcome_record(membership=self.acting, inspection=inspection, **data))

    # --- Track 2: the sponsors ------------------------------------------------------------------------------

    @extend_schema(request=NoticeReceivedSerializer, responses=InspectionDetailSerializer)
    @action(detail=True, methods=["post"], url_path="notice-received", url_name="notice-received")
    def notice_received(self, request: Request, pk: str | None = None) -> Response:
        """The Form 482 (or another authority's notice) was received: each sponsor's notice clock starts, from
        its own agreement's window."""
        inspection = self.get_object()
        data = _valid(NoticeReceivedSerializer, request.data)
        services.notice_of_inspection_record(membership=self.acting, inspection=inspection,
                                             received_at=data["notice_received_at"])
        return self.detail_response(inspection)

    @extend_schema(request=InspectionNotifySerializer, responses=InspectionNoticeSerializer(many=True))
    @action(detail=True, methods=["post"])
    def notify(self, request: Request, pk: str | None = None) -> Response:
        """Tell each sponsor not yet told of the event (or the named ones) through the app; each clock is met
        now (late stays recorded as late)."""
        inspection = self.get_object()
        data = _valid(InspectionNotifySerializer, request.data)
        notices = services.inspection_notify(membership=self.acting, inspection=inspection, event=data["event"],
                                             message=data["message"], partnership_ids=data.get("partnerships"))
        fresh = selectors.notice_list(membership=self.acting).filter(pk__in=[n.pk for n in notices]).order_by("id")
        return Response(InspectionNoticeSerializer(fresh, many=True).data)

    # --- Warning Letter ---------------------------------------------------------------------------------------

    @extend_schema(request=WarningLetterSerializer, responses=InspectionDetailSerializer)
    @action(detail=True, methods=["post"], url_path="warning-letter", url_name="warning-letter")
    def warning_letter(self, request: Request, pk: str | None = None) -> Response:
        """FDA issued a Warning Letter: the reply is due in 15 working days; each sponsor gets its notice clock."""
        inspection = self.get_object()
        data = _valid(WarningLetterSerializer, request.data)
        services.warning_letter_record(membership=self.acting, inspection=inspection,
                                       issued_on=data["warning_letter_issued_on"])
        return self.detail_response(inspection)

    @extend_schema(request=WarningLetterReplySerializer, responses=InspectionDetailSerializer)
    @action(detail=True, methods=["post"], url_path="warning-letter-reply", url_name="warning-letter-reply")
    def warning_letter_reply(self, request: Request, pk: str | None = None) -> Response:
        """The reply to the Warning Letter was sent (late is recorded as late)."""
        inspection = self.get_object()
        data = _valid(WarningLetterReplySerializer, request.data)
        services.warning_letter_respond(membership=self.acting, inspection=inspection,
                                        responded_at=data["warning_letter_responded_at"])
        return self.detail_response(inspection)

    @extend_schema(request=WarningLetterCloseSerializer, responses=InspectionDetailSerializer)
    @action(detail=True, methods=["post"], url_path="warning-letter-close", url_name="warning-letter-close")
    def warning_letter_close(self, request: Request, pk: str | None = None) -> Response:
        """FDA's close-out letter for the Warning Letter."""
        inspection = self.get_object()
        data = _valid(WarningLetterCloseSerializer, request.data)
        services.warning_letter_close(membership=self.acting, inspection=inspection,
                                      closed_on=data["warning_letter_closed_on"])
        return self.detail_response(inspection)

    # --- Track 1: the 483 -------------------------------------------------------------------------------------

    @extend_schema(request=Form483RecordSerializer, responses={201: Form483DetailSerializer})
    @action(detail=True, methods=["post"], url_path="form483", url_name="record-form483")
    def form483(self, request: Request, pk: str | None = None) -> Response:
        """Record the 483 handed over at close-out: the agency response clock (15 US business days) and the
        sponsors' notice clocks start."""
        inspection = self.get_object()
        data = _valid(Form483RecordSerializer, request.data)
        form483 = services.form483_record(membership=self.acting, inspection=inspection, **data)
        fresh = selectors.form483_list(membership=self.acting).get(pk=form483.pk)
        response = Response(Form483DetailSerializer(fresh, context={"membership": self.acting}).data,
                            status=status.HTTP_201_CREATED)
        response["ETag"] = f'"{fresh.version}"'
        return response

    # --- Back room and documents ----------------------------------------------------------------------------

    @extend_schema(methods=["GET"], responses=LogEntrySerializer(many=True))
    @extend_schema(methods=["POST"], request=LogWriteSerializer, responses={201: LogEntrySerializer})
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def log(self, request: Request, pk: str | None = None) -> Response:
        """The live inspection log (requests, documents provided, interviews): the CMO's back room. Anyone else,
        a sponsor in scope included, gets 404."""
        if not selectors.inspection_list(membership=self.acting).filter(
                pk=self.kwargs["pk"], organization_id=self.acting.organization_id).exists():
            raise Http404  # before any role check: a sponsor's role must not reveal that the back room exists
        inspection = self.get_object()
        if request.method == "GET":
            return Response(LogEntrySerializer(selectors.log_of(membership=self.acting, inspection=inspection),
                                               many=True).data)
        data = _valid(LogWriteSerializer, request.data)
        entry = services.log_add(membership=self.acting, inspection=inspection, **data)
        fresh = selectors.log_of(membership=self.acting, inspection=inspection).get(pk=entry.pk)
        return Response(LogEntrySerializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=DocumentSerializer(many=True))
    @extend_schema(methods=["POST"], request={"multipart/form-data": InspectionDocumentUploadSerializer},
                   responses={201: DocumentSerializer})
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def documents(self, request: Request, pk: str | None = None) -> Response:
        """The inspection's documents (a sponsor: the shared ones); attach one (multipart, the CMO)."""
        inspection = self.get_object()
        if request.method == "GET":
            return Response(DocumentSerializer(selectors.documents_of(membership=self.acting, inspection=inspection),
                                               many=True).data)
        data = _valid(InspectionDocumentUploadSerializer, request.data)
        document = services.document_attach(membership=self.acting, inspection=inspection, upload=data["file"],
                                            kind=data["kind"], title=data["title"], shared=data["shared"])
        fresh = selectors.documents_of(membership=self.acting, inspection=inspection).get(pk=document.pk)
        return Response(DocumentSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[OpenApiParameter("document_id", int, OpenApiParameter.PATH)],
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path=r"documents/(?P<document_id>[0-9]+)",
            url_name="document-content", filter_backends=[])
    def document_content(self, request: Request, pk: str | None = None, document_id: str = "") -> FileResponse:
        """Download a document (an attachment, with its SHA-256 in ``X-Checksum-SHA256``); an unshared one is the
        CMO's only (404 for a sponsor)."""
        inspection = self.get_object()
        document = selectors.documents_of(membership=self.acting, inspection=inspection).filter(
            pk=document_id).first()
        if document is None or document.file is None:
            raise Http404
        response = files.file_response(document.file)
        response["Cache-Control"] = "private, no-store"
        return response

    # --- The sponsor's dashboard ----------------------------------------------------------------------------

    @extend_schema(responses=DashboardSerializer)
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def dashboard(self, request: Request) -> Response:
        """Inspections at my CMOs' sites, my open 483s with both clocks (the agency's and my own notice clocks),
        the impact on my products and the status of the response commitments."""
        board = selectors.sponsor_dashboard(membership=self.acting)
        status_ = board.commitment_status()
        return Response({
            "inspections": InspectionSerializer(board.inspections, many=True).data,
            "open_483s": DashboardOpen483Serializer(board.open_483s, many=True).data,
            "impacts": ImpactSerializer(board.impacts, many=True).data,
            "commitments": {"total": status_.total, "closed": status_.closed, "open": status_.open,
                            "overdue": status_.overdue},
        })


class Form483ViewSet(ScopedRecordViewSet):
    """483s of the inspections the organization sees, with the agency response: observations, review and approval
    signatures, submission, periodic updates; the response dossier PDF."""

    selector = selectors.form483_list
    detail_serializer_class = Form483DetailSerializer
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    action_capabilities = {"review": Capability.REVIEW_QUALITY_RECORDS,
                           "approve": Capability.APPROVE_QUALITY_RECORDS}
    filterset_fields = ["inspection", "state", "submitted_late"]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return Form483Serializer if self.action == "list" else Form483DetailSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "membership": self.membership}

    @extend_schema(request=Form483AmendSerializer, responses=Form483DetailSerializer)
    @action(detail=True, methods=["post"])
    def amend(self, request: Request, pk: str | None = None) -> Response:
        """An amended 483: its issue date RESTARTS the 15-business-day clock, with the reason in the audit trail;
        sponsors already told hear of the new due date. Only before submission."""
        form483 = self.get_object()
        data = _valid(Form483AmendSerializer, request.data)
        expected, precondition = _optional_version(request)
        services.form483_amend(membership=self.acting, form483=form483, issued_on=data["issued_on"],
                               reason=data["reason"], expected_version=expected, precondition=precondition)
        return self.detail_response(form483)

    @extend_schema(methods=["GET"], responses=ObservationSerializer(many=True))
    @extend_schema(methods=["POST"], request=ObservationWriteSerializer, responses={201: ObservationSerializer})
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def observations(self, request: Request, pk: str | None = None) -> Response:
        """The observations the reader may see; add one while drafting (its category is suggested from the cited
        section unless chosen; the repeat flag is computed)."""
        form483 = self.get_object()
        if request.method == "GET":
            return Response(ObservationSerializer(selectors.observations_of(membership=self.acting, form483=form483),
                                                  many=True).data)
        data = _valid(ObservationWriteSerializer, request.data)
        observation = services.observation_add(membership=self.acting, form483=form483,
                                               affected=_affected(data.pop("affected")), **data)
        fresh = selectors.observation_list(membership=self.acting).get(pk=observation.pk)
        return Response(ObservationSerializer(fresh).data, status=status.HTTP_201_CREATED)

    def _sign(self, request: Request, step: str) -> Response:
        form483 = self.get_object()
        data = _valid(SignSerializer, request.data)
        services.form483_sign(request=request._request, membership=self.acting, form483=form483, step=step,
                              password=data["password"], otp=data.get("otp") or None)
        return self.detail_response(form483)

    @extend_schema(request=SignSerializer, responses=Form483DetailSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        """A CMO QA reviewer signs the drafted response "reviewed". A wrong password answers 400 without raising
        out of the view, so the failed attempt stays recorded."""
        return self._sign(request, "review")

    @extend_schema(request=SignSerializer, responses=Form483DetailSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """A different CMO QA approver signs the reviewed response "approved"."""
        return self._sign(request, "approve")

    @extend_schema(request=SubmitSerializer, responses=Form483DetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        """The approved response was sent to FDA. After the due time it is recorded as late, never hidden; then a
        periodic update is due every ``update_interval_days`` while any commitment is open."""
        form483 = self.get_object()
        data = _valid(SubmitSerializer, request.data)
        services.form483_submit(membership=self.acting, form483=form483, submitted_at=data["submitted_at"])
        return self.detail_response(form483)

    @extend_schema(methods=["GET"], responses=UpdateCommitmentSerializer(many=True))
    @extend_schema(methods=["POST"], request=UpdateRecordSerializer, responses={201: UpdateCommitmentSerializer})
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def updates(self, request: Request, pk: str | None = None) -> Response:
        """The periodic update commitments with their clocks; record the update sent (meets the current one and
        schedules the next while a commitment is open)."""
        form483 = self.get_object()
        if request.method == "GET":
            return Response(UpdateCommitmentSerializer(selectors.updates_of(membership=self.acting, form483=form483),
                                                       many=True).data)
        data = _valid(UpdateRecordSerializer, request.data)
        update = services.update_record(membership=self.acting, form483=form483, **data)
        fresh = selectors.updates_of(membership=self.acting, form483=form483).get(pk=update.pk)
        return Response(UpdateCommitmentSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path="dossier.pdf", url_name="dossier", filter_backends=[])
    def dossier(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The 483 response dossier: the observations the reader may see with their responses, commitments,
        CAPAs, the signatures manifested and the audit trail."""
        form483 = self.get_object()
        if not can(self.acting, Capability.EXPORT):
            raise PermissionDenied(f"Your role ({self.acting.get_role_display()}) may not export records.")
        from inspections.pdf import render_dossier  # WeasyPrint is heavy: loaded when a dossier is asked for

        pdf = render_dossier(membership=self.acting, form483=form483)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{form483.inspection.number}-483-dossier.pdf"'
        response["X-Checksum-SHA256"] = hashlib.sha256(pdf).hexdigest()
        return response


class ObservationViewSet(ScopedRecordViewSet):
    """Observations the organization may see (a sponsor: site-wide ones of inspections in its scope and those of
    its products), each with the drafted response; the CMO writes them while drafting, the PAI sponsor comments."""

    selector = selectors.observation_list
    detail_serializer_class = ObservationSerializer
    serializer_class = ObservationSerializer
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    action_capabilities = {"close_commitment": Capability.APPROVE_QUALITY_RECORDS}
    #: The PAI sponsor's comment is its own row; the service decides who may comment.
    partner_actions = frozenset({"comments"})
    filterset_fields = ["form483", "inspection", "subpart", "system", "is_repeat", "accountability", "visibility"]
    http_method_names = ["get", "post", "patch", "put", "head", "options"]

    def etag_version(self, obj: Any) -> int | None:
        """An observation is edited under its 483's version (one response drafted as a whole)."""
        return obj.form483.version

    @extend_schema(request=ObservationUpdateSerializer, responses=ObservationSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Edit an observation while drafting (If-Match or ``version``: the 483's version)."""
        observation = self.get_object()
        data = _valid(ObservationUpdateSerializer, request.data)
        expected, precondition = expected_version_from(request)
        data.pop("version", None)
        affected = _affected(data.pop("affected")) if "affected" in data else None
        services.observation_update(membership=self.acting, observation=observation, affected=affected,
                                    expected_version=expected, precondition=precondition, **data)
        return self.detail_response(observation)

    @extend_schema(request=ResponseDraftSerializer, responses=ObservationSerializer)
    @action(detail=True, methods=["put"], url_path="response", url_name="response")
    def draft_response(self, request: Request, pk: str | None = None) -> Response:
        """Draft the response to the observation: commitment, actions, target date, evidence. Any edit voids the
        review and approval signatures."""
        observation = self.get_object()
        data = _valid(ResponseDraftSerializer, request.data)
        expected, precondition = _optional_version(request)
        services.response_draft(membership=self.acting, observation=observation, commitment=data["commitment"],
                                actions=data["actions"], target_on=data["target_on"], evidence=data["evidence"],
                                expected_version=expected, precondition=precondition)
        return self.detail_response(observation)

    @extend_schema(methods=["GET"], responses=ObservationImpactSerializer(many=True))
    @extend_schema(methods=["POST"], request=ImpactWriteSerializer, responses={201: ObservationImpactSerializer})
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def impacts(self, request: Request, pk: str | None = None) -> Response:
        """The program impact per sponsor (a sponsor: its own); the CMO assesses it (re-assessing is audited)."""
        observation = self.get_object()
        if request.method == "GET":
            return Response(ObservationImpactSerializer(
                selectors.impacts_of(membership=self.acting, observation=observation), many=True).data)
        data = _valid(ImpactWriteSerializer, request.data)
        row = services.impact_assess(membership=self.acting, observation=observation,
                                     partnership_id=data["partnership"], impact=data["impact"],
                                     rationale=data["rationale"])
        fresh = selectors.impacts_of(membership=self.acting, observation=observation).get(pk=row.pk)
        return Response(ObservationImpactSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CapaWriteSerializer, responses={201: CapaLinkSerializer})
    @action(detail=True, methods=["post"])
    def capas(self, request: Request, pk: str | None = None) -> Response:
        """Link one of your CAPAs to the observation, or raise a new one from it (source "FDA 483 observation")."""
        observation = self.get_object()
        data = _valid(CapaWriteSerializer, request.data)
        if data["capa"] is not None:
            capa = capa_list(membership=self.acting).filter(pk=data["capa"]).first()
            if capa is None:
                raise serializers.ValidationError({"capa": ["No such CAPA that you can see."]})
            link = services.capa_link(membership=self.acting, observation=observation, capa=capa)
        else:
            if not data["title"].strip():
                raise serializers.ValidationError({"title": ["Name the CAPA to raise (or give a CAPA to link)."]})
            link = services.capa_create_for(membership=self.acting, observation=observation, title=data["title"],
                                            description=data["description"])
        return Response(CapaLinkSerializer(link).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=ResponseCommentSerializer(many=True))
    @extend_schema(methods=["POST"], request=ResponseCommentWriteSerializer, responses={201: ResponseCommentSerializer})
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def comments(self, request: Request, pk: str | None = None) -> Response:
        """The comment threads the reader may see; the PAI application sponsor comments on the draft response, the
        CMO answers in that sponsor's thread. Any other sponsor is refused with the reason."""
        observation = self.get_object()
        if request.method == "GET":
            return Response(ResponseCommentSerializer(
                selectors.comments_of(membership=self.acting, observation=observation), many=True).data)
        data = _valid(ResponseCommentWriteSerializer, request.data)
        comment = services.comment_add(membership=self.acting, observation=observation, body=data["body"],
                                       sponsor_id=data["sponsor"])
        return Response(ResponseCommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CommitmentCloseSerializer, responses=ObservationSerializer)
    @action(detail=True, methods=["post"], url_path="close-commitment", url_name="close-commitment")
    def close_commitment(self, request: Request, pk: str | None = None) -> Response:
        """Close the observation's commitment after submission; the last one closes the 483."""
        observation = self.get_object()
        data = _valid(CommitmentCloseSerializer, request.data)
        services.commitment_close(membership=self.acting, observation=observation, **data)
        return self.detail_response(observation)


class NoticeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Inspection notices: the CMO's record of telling each sponsor, with that sponsor's clock; the sponsor
    acknowledges its own."""

    selector = selectors.notice_list
    serializer_class = InspectionNoticeSerializer
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    partner_actions = frozenset({"acknowledge"})
    filterset_fields = ["inspection", "event", "sponsor"]

    @extend_schema(request=InspectionAcknowledgeSerializer, responses=InspectionNoticeSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        """The sponsor confirms it received the notice (its own row; the CMO is told)."""
        notice = self.get_object()
        data = _valid(InspectionAcknowledgeSerializer, request.data)
        services.notice_acknowledge(membership=self.acting, notice=notice, note=data["note"])
        fresh = selectors.notice_list(membership=self.acting).get(pk=notice.pk)
        return Response(InspectionNoticeSerializer(fresh).data)


class ImpactViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Program impact assessments: the CMO's, per sponsor and observation; a sponsor reads its own (written through
    ``observations/{id}/impacts/``)."""

    selector = selectors.impact_list
    serializer_class = ImpactSerializer
    filterset_fields = ["observation", "sponsor", "impact"]

