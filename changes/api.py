"""REST API for change control: the API twin of every change page.

Thin: reads through ``changes.selectors`` (via ``ScopedViewSet``), writes through ``changes.services``; the pages in
``changes.views`` use the same, so the two cannot disagree. The owner (the CMO, or a sponsor for its own products)
writes the change; a sponsor reads it with only its own product lines, filing assessments, routes and approvals
(the selectors scope them, and row-level security underneath) and writes only its own rows that point at it: its
filing decisions, the agency's approval of a prior-approval filing, and its signed approval or rejection (partner
actions). Edits of the change need the version read (If-Match → 412 when stale, ``version`` → 409, neither → 428).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.http import FileResponse, Http404, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from agreements.catalogue import ChangeClass
from changes import questionnaire, selectors, services
from changes.filing_rules import FilingCategory
from changes.forms import ChangeFilter
from changes.models import (
    AffectedProduct,
    Approval,
    ChangeDocument,
    ChangeRequest,
    EffectivenessReview,
    FilingAssessment,
    FilingDecision,
    RiskRating,
    SponsorRoute,
)
from part11.api import SignatureSerializer, SignSerializer, SignWithReasonSerializer
from part11.signatures import signatures_of
from qms.versioning import expected_version_from
from tenants import files
from tenants.models import Membership, Site
from tenants.permissions import Capability, can
from tenants.scoping import ScopedRecordViewSet

State = ChangeRequest.State
#: States in which what still blocks implementation is worth showing (the impact is assessed, not yet implemented).
BLOCKABLE = (State.ASSESSMENT, State.PENDING_APPROVAL, State.APPROVED)

# --- Serializers: reading -------------------------------------------------------------------------------------


class ChangeLineSerializer(serializers.ModelSerializer):
    product_code = serializers.CharField(source="product.code", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    sponsor_name = serializers.CharField(source="sponsor.name", read_only=True)

    class Meta:
        model = AffectedProduct
        fields = ["id", "product", "product_code", "product_name", "sponsor", "sponsor_name", "partnership"]
        read_only_fields = fields


class ChangeSerializer(serializers.ModelSerializer):
    """A change as every list shows it: the products are the reader's own lines only (``visible_lines``)."""

    owner_name = serializers.CharField(source="organization.name", read_only=True)
    site_name = serializers.CharField(source="site.name", read_only=True, default=None)
    effectiveness_due_at = serializers.DateTimeField(source="effectiveness_deadline.due_at", read_only=True,
                                                     default=None)
    products = serializers.SerializerMethodField()

    class Meta:
        model = ChangeRequest
        fields = ["id", "number", "title", "organization", "owner_name", "change_type", "site", "site_name",
                  "proposed_implementation_date", "permanent", "temporary_until", "risk_rating", "state",
                  "approval_round", "submitted_at", "approved_at", "implemented_at", "closed_at",
                  "effectiveness_due_at", "products", "version"]
        read_only_fields = fields

    @extend_schema_field(ChangeLineSerializer(many=True))
    def get_products(self, change: ChangeRequest) -> Any:
        return ChangeLineSerializer(getattr(change, "visible_lines", []), many=True).data


class FilingDecisionSerializer(serializers.ModelSerializer):
    """The product owner's confirmation or override of a suggested filing category (its own row)."""

    overridden = serializers.BooleanField(read_only=True)
    needs_agency_approval = serializers.BooleanField(read_only=True)

    class Meta:
        model = FilingDecision
        fields = ["id", "organization", "confirmed_category", "overridden", "override_reason", "decided_by_name",
                  "decided_at", "needs_agency_approval", "agency_approved_on", "agency_reference",
                  "approval_recorded_at"]
        read_only_fields = fields


class FilingAssessmentSerializer(serializers.ModelSerializer):
    """A suggested filing category for one product and market, the rule that fired as its rationale, and the
    sponsor's decision on it (if any)."""

    product_code = serializers.CharField(source="product.code", read_only=True)
    sponsor_name = serializers.CharField(source="sponsor.name", read_only=True)
    needs_decision = serializers.BooleanField(read_only=True)
    decision = serializers.SerializerMethodField()

    class Meta:
        model = FilingAssessment
        fields = ["id", "change", "line", "product", "product_code", "sponsor", "sponsor_name", "partnership",
                  "market", "suggested_category", "rule_id", "rule_text", "rules_version", "superseded",
                  "created_at", "needs_decision", "decision"]
        read_only_fields = fields

    @extend_schema_field(FilingDecisionSerializer(allow_null=True))
    def get_decision(self, assessment: FilingAssessment) -> Any:
        decision = getattr(assessment, "decision", None)  # a missing reverse one-to-one raises AttributeError
        return None if decision is None else FilingDecisionSerializer(decision).data


class SponsorRouteSerializer(serializers.ModelSerializer):
    """What one sponsor's agreement asks of the change in its approval round: a signed approval, or notice."""

    sponsor_name = serializers.CharField(source="sponsor.name", read_only=True)
    notice_due_on = serializers.SerializerMethodField(help_text="Notification only: the last day to tell")
    due_at = serializers.DateTimeField(source="deadline.due_at", read_only=True, default=None)
    notified_by = serializers.CharField(source="notified_by.printed_name", read_only=True, default=None)

    class Meta:
        model = SponsorRoute
        fields = ["id", "partnership", "sponsor", "sponsor_name", "requirement", "round", "source", "lead_days",
                  "notice_due_on", "due_at", "notified_at", "notified_by", "recipients", "created_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.DATE)
    def get_notice_due_on(self, route: SponsorRoute) -> Any:
        if route.requirement != SponsorRoute.Requirement.NOTIFY or route.lead_days is None:
            return None
        return services.notice_due_date(route.change, route.lead_days).isoformat()


class ChangeApprovalSerializer(serializers.ModelSerializer):
    """A sponsor's signed decision, with its signature manifested (printed name, meaning, date and time)."""

    organization_name = serializers.CharField(source="organization.name", read_only=True)
    decided_by = serializers.CharField(source="decided_by.printed_name", read_only=True)
    signatures = serializers.SerializerMethodField()

    class Meta:
        model = Approval
        fields = ["id", "partnership", "organization", "organization_name", "decision", "round", "comment",
                  "decided_by", "decided_at", "signatures"]
        read_only_fields = fields

    @extend_schema_field(SignatureSerializer(many=True))
    def get_signatures(self, approval: Approval) -> Any:
        return SignatureSerializer(signatures_of(approval), many=True).data


class ChangeHistorySerializer(SponsorRouteSerializer):
    """A route of an earlier approval round (the change was withdrawn for revision) with the decision given then."""

    approval = serializers.SerializerMethodField()

    class Meta(SponsorRouteSerializer.Meta):
        fields = [*SponsorRouteSerializer.Meta.fields, "approval"]
        read_only_fields = fields

    @extend_schema_field(ChangeApprovalSerializer(allow_null=True))
    def get_approval(self, route: SponsorRoute) -> Any:
        approval = self.context["approvals"].get(route.pk)
        return None if approval is None else ChangeApprovalSerializer(approval).data


class ChangeDocumentSerializer(serializers.ModelSerializer):
    """A document linked to the change with its SHA-256; ``url`` downloads it."""

    original_name = serializers.CharField(source="file.original_name", read_only=True)
    sha256 = serializers.CharField(source="file.sha256", read_only=True)
    size = serializers.IntegerField(source="file.size", read_only=True)
    mime = serializers.CharField(source="file.mime_type", read_only=True)
    uploaded_by = serializers.CharField(source="uploaded_by.printed_name", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = ChangeDocument
        fields = ["id", "change", "kind", "title", "original_name", "sha256", "size", "mime", "uploaded_by",
                  "uploaded_at", "url"]
        read_only_fields = fields

    def get_url(self, document: ChangeDocument) -> str:
        return reverse("api:change-document-content", args=[document.change_id, document.pk])


class EffectivenessReviewSerializer(serializers.ModelSerializer):
    reviewed_by = serializers.CharField(source="reviewed_by.printed_name", read_only=True)
    signatures = serializers.SerializerMethodField()

    class Meta:
        model = EffectivenessReview
        fields = ["effective", "summary", "reviewed_by", "reviewed_at", "signatures"]
        read_only_fields = fields

    @extend_schema_field(SignatureSerializer(many=True))
    def get_signatures(self, review: EffectivenessReview) -> Any:
        return SignatureSerializer(signatures_of(review), many=True).data


class ChangeDetailSerializer(ChangeSerializer):
    """One change as the reader may see it: its lines, the current round's routes and approvals, the current
    filing assessments with decisions, documents, the effectiveness review, signatures, and what still blocks
    implementation (a sponsor: only its own items)."""

    created_by = serializers.CharField(source="created_by.printed_name", read_only=True)
    assessed_by = serializers.CharField(source="assessed_by.printed_name", read_only=True, default=None)
    lines = serializers.SerializerMethodField()
    routes = serializers.SerializerMethodField()
    assessments = serializers.SerializerMethodField()
    approvals = serializers.SerializerMethodField()
    documents = serializers.SerializerMethodField()
    effectiveness_review = serializers.SerializerMethodField()
    signatures = serializers.SerializerMethodField()
    implementation_blockers = serializers.SerializerMethodField()

    class Meta(ChangeSerializer.Meta):
        fields = [*ChangeSerializer.Meta.fields, "description", "reason", "answers", "risk_rationale", "assessed_at",
                  "assessed_by", "cancel_reason", "created_by", "created_at", "lines", "routes", "assessments",
                  "approvals", "documents", "effectiveness_review", "signatures", "implementation_blockers"]
        read_only_fields = fields

    def _member(self) -> Membership:
        return self.context["membership"]

    @extend_schema_field(ChangeLineSerializer(many=True))
    def get_lines(self, change: ChangeRequest) -> Any:
        return ChangeLineSerializer(selectors.lines_of(membership=self._member(), change=change), many=True).data

    @extend_schema_field(SponsorRouteSerializer(many=True))
    def get_routes(self, change: ChangeRequest) -> Any:
        return SponsorRouteSerializer(selectors.routes_of(membership=self._member(), change=change), many=True).data

    @extend_schema_field(FilingAssessmentSerializer(many=True))
    def get_assessments(self, change: ChangeRequest) -> Any:
        return FilingAssessmentSerializer(selectors.assessments_of(membership=self._member(), change=change),
                                    many=True).data

    @extend_schema_field(ChangeApprovalSerializer(many=True))
    def get_approvals(self, change: ChangeRequest) -> Any:
        return ChangeApprovalSerializer(selectors.approvals_of(membership=self._member(), change=change),
                                        many=True).data

    @extend_schema_field(ChangeDocumentSerializer(many=True))
    def get_documents(self, change: ChangeRequest) -> Any:
        return ChangeDocumentSerializer(selectors.documents_of(membership=self._member(), change=change),
                                        many=True).data

    @extend_schema_field(EffectivenessReviewSerializer(allow_null=True))
    def get_effectiveness_review(self, change: ChangeRequest) -> Any:
        review = selectors.review_list(membership=self._member()).filter(change=change).first()
        return None if review is None else EffectivenessReviewSerializer(review).data

    @extend_schema_field(SignatureSerializer(many=True))
    def get_signatures(self, change: ChangeRequest) -> Any:
        return SignatureSerializer(signatures_of(change), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_implementation_blockers(self, change: ChangeRequest) -> list[str]:
        if change.state not in BLOCKABLE:
            return []
        return services.implementation_blockers(change, self._member())


# Schema-only shapes: a declared field called "label" would shadow Field.label, so they are built inline and the
# view answers plain dicts (``_question``).
ImpactQuestions = inline_serializer("ImpactQuestion", many=True, fields={
    "key": serializers.CharField(help_text="The key of its answer in ``answers``"),
    "label": serializers.CharField(),
    "help": serializers.CharField(),
    "kind": serializers.CharField(help_text="bool (yes or no) or choice (one of ``choices``)"),
    "choices": inline_serializer("ImpactQuestionChoice", many=True, fields={
        "value": serializers.CharField(), "label": serializers.CharField()}),
})


def _question(question: questionnaire.Question) -> dict[str, Any]:
    return {"key": question.key, "label": question.label, "help": question.help, "kind": question.kind,
            "choices": [{"value": value, "label": label} for value, label in question.choices]}


class AwaitingApprovalSerializer(serializers.ModelSerializer):
    """A change whose current round waits for the reader's signed approval."""

    number = serializers.CharField(source="change.number", read_only=True)
    title = serializers.CharField(source="change.title", read_only=True)
    change_type = serializers.CharField(source="change.change_type", read_only=True)
    proposed_implementation_date = serializers.DateField(source="change.proposed_implementation_date",
                                                         read_only=True)

    class Meta:
        model = SponsorRoute
        fields = ["id", "change", "number", "title", "change_type", "proposed_implementation_date", "partnership",
                  "round", "source"]
        read_only_fields = fields


class AwaitingFilingSerializer(serializers.ModelSerializer):
    """A suggested filing category waiting for the reader (the product's owner) to confirm or override."""

    number = serializers.CharField(source="change.number", read_only=True)
    title = serializers.CharField(source="change.title", read_only=True)
    product_code = serializers.CharField(source="product.code", read_only=True)

    class Meta:
        model = FilingAssessment
        fields = ["id", "change", "number", "title", "product", "product_code", "market", "suggested_category",
                  "rule_id", "rule_text"]
        read_only_fields = fields


class AwaitingAgencySerializer(serializers.ModelSerializer):
    """A prior-approval filing whose agency approval the reader has still to record."""

    number = serializers.CharField(source="change.number", read_only=True)
    title = serializers.CharField(source="change.title", read_only=True)
    product_code = serializers.CharField(source="assessment.product.code", read_only=True)
    market = serializers.CharField(source="assessment.market", read_only=True)

    class Meta:
        model = FilingDecision
        fields = ["id", "change", "number", "title", "assessment", "product_code", "market", "confirmed_category",
                  "decided_at"]
        read_only_fields = fields


AwaitingSerializer = inline_serializer("ChangesAwaiting", fields={
    "count": serializers.IntegerField(),
    "approvals": AwaitingApprovalSerializer(many=True),
    "filings": AwaitingFilingSerializer(many=True),
    "agency": AwaitingAgencySerializer(many=True),
})


# --- Serializers: writing -------------------------------------------------------------------------------------


class ChangeLineWriteSerializer(serializers.Serializer):
    product = serializers.IntegerField(help_text="A product your organization makes for a sponsor (or your own)")


class ChangeCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField()
    reason = serializers.CharField(help_text="Why the change is needed")
    change_type = serializers.ChoiceField(choices=ChangeClass.choices)
    site = serializers.IntegerField(required=False, allow_null=True, default=None,
                                    help_text="Your site where the change is made (a CMO must name one)")
    proposed_implementation_date = serializers.DateField()
    permanent = serializers.BooleanField(default=True)
    temporary_until = serializers.DateField(required=False, allow_null=True, default=None)
    lines = ChangeLineWriteSerializer(many=True, help_text="The affected products; each names one sponsor")


class ChangeUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False)
    reason = serializers.CharField(required=False)
    change_type = serializers.ChoiceField(choices=ChangeClass.choices, required=False,
                                          help_text="A new type returns an assessed change to draft")
    site = serializers.IntegerField(required=False, allow_null=True)
    proposed_implementation_date = serializers.DateField(required=False)
    permanent = serializers.BooleanField(required=False)
    temporary_until = serializers.DateField(required=False, allow_null=True)
    version = serializers.IntegerField(required=False)


class ChangeLinesSerializer(serializers.Serializer):
    lines = ChangeLineWriteSerializer(many=True)
    version = serializers.IntegerField(required=False)


class ImpactAssessmentSerializer(serializers.Serializer):
    answers = serializers.DictField(help_text="{question key: answer}, the questions of the change's type "
                                              "(GET /changes/questionnaire/?change_type=…)")
    risk_rating = serializers.ChoiceField(choices=RiskRating.choices)
    risk_rationale = serializers.CharField(allow_blank=True)
    version = serializers.IntegerField(required=False)


class FilingDecideSerializer(serializers.Serializer):
    assessment = serializers.IntegerField(help_text="The current filing assessment decided on")
    category = serializers.ChoiceField(choices=FilingCategory.choices,
                                       help_text="The suggested category to confirm it, another to override it")
    override_reason = serializers.CharField(required=False, allow_blank=True, default="")


class AgencyApprovalSerializer(serializers.Serializer):
    decision = serializers.IntegerField(help_text="The filing decision (prior-approval supplement or Type II)")
    approved_on = serializers.DateField()
    reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)


class ChangeNotifySerializer(serializers.Serializer):
    message = serializers.CharField(required=False, allow_blank=True, default="")
    partnerships = serializers.ListField(child=serializers.IntegerField(), required=False,
                                         help_text="Only these sponsors' partnerships (default: all not yet told)")


class ChangeWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)
    version = serializers.IntegerField(required=False)


class SponsorApprovalSerializer(SignSerializer):
    decision = serializers.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    comment = serializers.CharField(required=False, allow_blank=True, default="",
                                    help_text="Conditions of the approval; required to reject")


class EffectivenessRecordSerializer(serializers.Serializer):
    effective = serializers.BooleanField(help_text="The change achieved its purpose without side effects")
    summary = serializers.CharField(allow_blank=True, help_text="What was checked, and the evidence")
    version = serializers.IntegerField(required=False)


class ChangeDocumentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ChangeDocument.Kind.choices)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    file = serializers.FileField(help_text="PDF, PNG, JPEG, CSV, XLSX or DOCX (judged by content)")


# --- Viewset ----------------------------------------------------------------------------------------------------


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    incoming = serializer_class(data=data)
    incoming.is_valid(raise_exception=True)
    return dict(incoming.validated_data)


def _optional_version(request: Request) -> tuple[int | None, bool]:
    """A workflow step checks the version only when the client sends one (an edit always needs it)."""
    if request.headers.get("If-Match") or (hasattr(request.data, "get") and request.data.get("version") is not None):
        return expected_version_from(request)
    return None, False


def _product_ids(lines: list[dict[str, Any]]) -> list[int]:
    return [line["product"] for line in lines]


class ChangeViewSet(ScopedRecordViewSet):
    """Change requests the organization owns, or that affect its products (a sponsor: read-only, its own lines
    only, writing its own filing decisions and signed approval)."""

    selector = selectors.change_list
    detail_serializer_class = ChangeDetailSerializer
    filterset_class = ChangeFilter
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    action_capabilities = {"approve": Capability.APPROVE_QUALITY_RECORDS,
                           "close": Capability.APPROVE_QUALITY_RECORDS,
                           "cancel": Capability.APPROVE_QUALITY_RECORDS,
                           "sponsor_approval": Capability.APPROVE_QUALITY_RECORDS,
                           "filing_decide": Capability.APPROVE_QUALITY_RECORDS,
                           "agency_approval": Capability.APPROVE_QUALITY_RECORDS}
    #: The sponsor's own rows that point at the owner's change; the services decide whose they are to write.
    partner_actions = frozenset({"sponsor_approval", "filing_decide", "agency_approval"})
    http_method_names = ["get", "post", "patch", "put", "head", "options"]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return ChangeSerializer if self.action == "list" else ChangeDetailSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "membership": self.membership}

    def _site(self, site_id: int | None) -> Site | None:
        if site_id is None:
            return None
        site = Site.objects.filter(pk=site_id, organization_id=self.acting.organization_id).first()
        if site is None:
            raise serializers.ValidationError({"site": ["Choose one of your organization's sites."]})
        return site

    # --- Create and edit ------------------------------------------------------------------------------------

    @extend_schema(request=ChangeCreateSerializer, responses={201: ChangeDetailSerializer})
    def create(self, request: Request) -> Response:
        """Raise a change (a draft): the CMO for products it makes, a sponsor for its own products."""
        data = _valid(ChangeCreateSerializer, request.data)
        change = services.change_create(membership=self.acting, site=self._site(data.pop("site")),
                                        product_ids=_product_ids(data.pop("lines")), **data)
        return self.detail_response(change, status.HTTP_201_CREATED)

    @extend_schema(request=ChangeUpdateSerializer, responses=ChangeDetailSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Edit the description while the change is a draft or assessed (If-Match or ``version`` required)."""
        change = self.get_object()
        data = _valid(ChangeUpdateSerializer, request.data)
        expected, precondition = expected_version_from(request)
        data.pop("version", None)
        if "site" in data:
            data["site"] = self._site(data["site"])
        services.change_update(membership=self.acting, change=change, expected_version=expected,
                               precondition=precondition, **data)
        return self.detail_response(change)

    @extend_schema(request=ChangeLinesSerializer, responses=ChangeDetailSerializer)
    @action(detail=True, methods=["put"])
    def lines(self, request: Request, pk: str | None = None) -> Response:
        """Replace the affected products (If-Match or ``version`` required); once assessed, the filing suggestions
        follow."""
        change = self.get_object()
        data = _valid(ChangeLinesSerializer, request.data)
        expected, precondition = expected_version_from(request)
        services.lines_set(membership=self.acting, change=change, product_ids=_product_ids(data["lines"]),
                           expected_version=expected, precondition=precondition)
        return self.detail_response(change)

    # --- Impact and filing assessment -----------------------------------------------------------------------

    @extend_schema(parameters=[OpenApiParameter("change_type", str, enum=ChangeClass.values, required=True)],
                   responses=ImpactQuestions)
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def questionnaire(self, request: Request) -> Response:
        """The impact questions a change of this type must answer (the keys of ``answers``)."""
        change_type = request.query_params.get("change_type", "")
        if change_type not in ChangeClass.values:
            raise serializers.ValidationError({"change_type": ["Choose a change type."]})
        return Response([_question(question) for question in questionnaire.questions_for(change_type)])

    @extend_schema(request=ImpactAssessmentSerializer, responses=ChangeDetailSerializer)
    @action(detail=True, methods=["post"], url_path="impact-assessment", url_name="impact-assessment")
    def impact_assessment(self, request: Request, pk: str | None = None) -> Response:
        """Answer the questionnaire and rate the risk (If-Match or ``version`` required); the filing suggestions
        per product and market are computed (or recomputed) from the rule table."""
        change = self.get_object()
        data = _valid(ImpactAssessmentSerializer, request.data)
        expected, precondition = expected_version_from(request)
        services.impact_assess(membership=self.acting, change=change, answers=data["answers"],
                               risk_rating=data["risk_rating"], risk_rationale=data["risk_rationale"],
                               expected_version=expected, precondition=precondition)
        return self.detail_response(change)

    @extend_schema(parameters=[OpenApiParameter("all", bool, description="Include superseded assessments")],
                   responses=FilingAssessmentSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def assessments(self, request: Request, pk: str | None = None) -> Response:
        """The filing assessments the reader may see (a sponsor: its own products), current ones unless
        ``?all=1`` (superseded ones stay on record with any decision taken on them)."""
        change = self.get_object()
        current = request.query_params.get("all", "") not in ("1", "true", "yes")
        return Response(FilingAssessmentSerializer(
            selectors.assessments_of(membership=self.acting, change=change, current=current), many=True).data)

    @extend_schema(request=FilingDecideSerializer, responses={201: FilingAssessmentSerializer})
    @action(detail=True, methods=["post"], url_path="filing-decisions", url_name="filing-decisions")
    def filing_decide(self, request: Request, pk: str | None = None) -> Response:
        """The product's owner (sponsor) confirms a suggested filing category, or overrides it with the reason."""
        change = self.get_object()
        data = _valid(FilingDecideSerializer, request.data)
        assessment = selectors.assessments_of(membership=self.acting, change=change, current=False).filter(
            pk=data["assessment"]).first()
        if assessment is None:
            raise serializers.ValidationError({"assessment": ["No such filing assessment of this change that you "
                                                              "can see."]})
        services.filing_decide(membership=self.acting, assessment=assessment, category=data["category"],
                               override_reason=data["override_reason"])
        return self._assessment(change, assessment.pk, status.HTTP_201_CREATED)

    @extend_schema(request=AgencyApprovalSerializer, responses=FilingAssessmentSerializer)
    @action(detail=True, methods=["post"], url_path="agency-approvals", url_name="agency-approvals")
    def agency_approval(self, request: Request, pk: str | None = None) -> Response:
        """The product's owner records that the agency approved its prior-approval supplement or Type II."""
        change = self.get_object()
        data = _valid(AgencyApprovalSerializer, request.data)
        decision = selectors.decisions_of(membership=self.acting, change=change).filter(pk=data["decision"]).first()
        if decision is None:
            raise serializers.ValidationError({"decision": ["No such filing decision on this change that you "
                                                            "can see."]})
        services.filing_approval_record(membership=self.acting, decision=decision, approved_on=data["approved_on"],
                                        reference=data["reference"])
        return self._assessment(change, decision.assessment_id)

    def _assessment(self, change: ChangeRequest, assessment_id: int, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.assessments_of(membership=self.acting, change=change, current=False).get(pk=assessment_id)
        return Response(FilingAssessmentSerializer(fresh).data, status=code)

    # --- Approval routing ----------------------------------------------------------------------------------

    @extend_schema(request=None, responses=ChangeDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        """Impact assessed → pending approval: each affected partnership's route is fixed from its agreement
        (sponsor approval, or notice with a clock), in a new approval round."""
        return self.detail_response(services.change_submit(membership=self.acting, change=self.get_object()))

    @extend_schema(request=ChangeNotifySerializer, responses=ChangeDetailSerializer)
    @action(detail=True, methods=["post"])
    def notify(self, request: Request, pk: str | None = None) -> Response:
        """Tell the notification-only sponsors not yet told (or the named ones) now; their notice clocks are met."""
        change = self.get_object()
        data = _valid(ChangeNotifySerializer, request.data)
        services.change_notify(membership=self.acting, change=change, message=data["message"],
                               partnership_ids=data.get("partnerships"))
        return self.detail_response(change)

    @extend_schema(request=ChangeWithdrawSerializer, responses=ChangeDetailSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        """Pending approval → impact assessed, to revise and submit again (e.g. after a sponsor rejected it): the
        round's clocks stop and its sponsors are told; its routes and approvals stay as history."""
        change = self.get_object()
        data = _valid(ChangeWithdrawSerializer, request.data)
        expected, precondition = _optional_version(request)
        services.change_withdraw(membership=self.acting, change=change, reason=data["reason"],
                                 expected_version=expected, precondition=precondition)
        return self.detail_response(change)

    @extend_schema(request=SponsorApprovalSerializer, responses=ChangeDetailSerializer)
    @action(detail=True, methods=["post"], url_path="sponsor-approval", url_name="sponsor-approval")
    def sponsor_approval(self, request: Request, pk: str | None = None) -> Response:
        """The sponsor signs its approval (or its rejection, with the reason) of a change its agreement makes it
        approve. A wrong password answers 400 without raising out of the view, so the failed attempt stays
        recorded."""
        change = self.get_object()
        data = _valid(SponsorApprovalSerializer, request.data)
        services.approval_sign(request=request._request, membership=self.acting, change=change,
                               approve=data["decision"] == "approve", comment=data["comment"],
                               password=data["password"], otp=data.get("otp") or None)
        return self.detail_response(change)

    @extend_schema(request=SignSerializer, responses=ChangeDetailSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """The owner's QA approval (signed "approved"), after every required sponsor approval; not by the person
        who raised the change."""
        change = self.get_object()
        data = _valid(SignSerializer, request.data)
        services.change_sign_approve(request=request._request, membership=self.acting, change=change,
                                     password=data["password"], otp=data.get("otp") or None)
        return self.detail_response(change)

    # --- Implementation, effectiveness, closure, cancellation ----------------------------------------------

    @extend_schema(request=None, responses=ChangeDetailSerializer)
    @action(detail=True, methods=["post"])
    def implement(self, request: Request, pk: str | None = None) -> Response:
        """Approved → implemented. Refused (400, on ``state``) with everything still missing named: approvals,
        notices, filing decisions, the agency's approval of a prior-approval filing."""
        return self.detail_response(services.change_implement(membership=self.acting, change=self.get_object()))

    @extend_schema(request=EffectivenessRecordSerializer, responses=ChangeDetailSerializer)
    @action(detail=True, methods=["post"])
    def effectiveness(self, request: Request, pk: str | None = None) -> Response:
        """Implemented → effectiveness reviewed: the verdict and its evidence; the review clock is met."""
        change = self.get_object()
        data = _valid(EffectivenessRecordSerializer, request.data)
        expected, precondition = _optional_version(request)
        services.effectiveness_record(membership=self.acting, change=change, summary=data["summary"],
                                      effective=data["effective"], expected_version=expected,
                                      precondition=precondition)
        return self.detail_response(change)

    @extend_schema(request=SignSerializer, responses=ChangeDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        """The owner's QA closes the change by signing its effectiveness review ("closed")."""
        change = self.get_object()
        data = _valid(SignSerializer, request.data)
        services.change_sign_close(request=request._request, membership=self.acting, change=change,
                                   password=data["password"], otp=data.get("otp") or None)
        return self.detail_response(change)

    @extend_schema(request=SignWithReasonSerializer, responses=ChangeDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel before implementation: the reason is recorded, then the cancellation is signed over it."""
        change = self.get_object()
        data = _valid(SignWithReasonSerializer, request.data)
        services.change_cancel(request=request._request, membership=self.acting, change=change,
                               reason=data["reason"], password=data["password"], otp=data.get("otp") or None)
        return self.detail_response(change)

    # --- Documents and the dossier --------------------------------------------------------------------------

    @extend_schema(methods=["GET"], responses=ChangeDocumentSerializer(many=True))
    @extend_schema(methods=["POST"], request={"multipart/form-data": ChangeDocumentUploadSerializer},
                   responses={201: ChangeDocumentSerializer})
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def documents(self, request: Request, pk: str | None = None) -> Response:
        """The documents linked to the change; link one (multipart) once the change is approved."""
        change = self.get_object()
        if request.method == "GET":
            return Response(ChangeDocumentSerializer(selectors.documents_of(membership=self.acting, change=change),
                                               many=True).data)
        data = _valid(ChangeDocumentUploadSerializer, request.data)
        document = services.document_attach(membership=self.acting, change=change, upload=data["file"],
                                            kind=data["kind"], title=data["title"])
        fresh = selectors.documents_of(membership=self.acting, change=change).get(pk=document.pk)
        return Response(ChangeDocumentSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[OpenApiParameter("document_id", int, OpenApiParameter.PATH)],
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path=r"documents/(?P<document_id>[0-9]+)",
            url_name="document-content", filter_backends=[])
    def document_content(self, request: Request, pk: str | None = None, document_id: str = "") -> FileResponse:
        """Download a linked document (an attachment, with its SHA-256 in ``X-Checksum-SHA256``)."""
        change = self.get_object()
        document = selectors.documents_of(membership=self.acting, change=change).filter(pk=document_id).first()
        if document is None:
            raise Http404
        response = files.file_response(document.stored)
        response["Cache-Control"] = "private, no-store"
        return response

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path="dossier.pdf", url_name="dossier", filter_backends=[])
    def dossier(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The change dossier: the change, its lines, assessments, routes, approvals with their signatures,
        documents and audit trail, as the reader may see them."""
        change = self.get_object()
        if not can(self.acting, Capability.EXPORT):
            raise PermissionDenied(f"Your role ({self.acting.get_role_display()}) may not export records.")
        from changes.pdf import render_dossier  # WeasyPrint is heavy: loaded when a dossier is asked for

        pdf = render_dossier(membership=self.acting, change=change)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{change.number}-dossier.pdf"'
        response["X-Checksum-SHA256"] = hashlib.sha256(pdf).hexdigest()
        return response

    # --- Read-only parts and the sponsor's queue -----------------------------------------------------------

    @extend_schema(responses=SponsorRouteSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def routes(self, request: Request, pk: str | None = None) -> Response:
        """The current approval round's routes the reader may see (a sponsor: its own)."""
        change = self.get_object()
        return Response(SponsorRouteSerializer(selectors.routes_of(membership=self.acting, change=change),
                                               many=True).data)

    @extend_schema(responses=ChangeApprovalSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def approvals(self, request: Request, pk: str | None = None) -> Response:
        """The current approval round's signed sponsor decisions the reader may see."""
        change = self.get_object()
        return Response(ChangeApprovalSerializer(selectors.approvals_of(membership=self.acting, change=change),
                                           many=True).data)

    @extend_schema(responses=ChangeHistorySerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request: Request, pk: str | None = None) -> Response:
        """Earlier approval rounds (withdrawn for revision), newest first: each route with the decision given."""
        change = self.get_object()
        rounds = selectors.history_of(membership=self.acting, change=change)
        approvals = {route.pk: approval for route, approval in rounds if approval is not None}
        return Response(ChangeHistorySerializer([route for route, _ in rounds], many=True,
                                          context={"approvals": approvals}).data)

    @extend_schema(responses=AwaitingSerializer)
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def awaiting(self, request: Request) -> Response:
        """Changes awaiting my decision (a sponsor): approvals to sign, filing categories to confirm, agency
        approvals of prior-approval filings to record. Empty for an organization that decides none."""
        waiting = selectors.awaiting_decision(self.acting)
        approvals = AwaitingApprovalSerializer(waiting.approvals, many=True).data
        filings = AwaitingFilingSerializer(waiting.filings, many=True).data
        agency = AwaitingAgencySerializer(waiting.agency, many=True).data
        return Response({"count": len(approvals) + len(filings) + len(agency), "approvals": approvals,
                         "filings": filings, "agency": agency})
