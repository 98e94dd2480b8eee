"""REST API for the tenancy core: organizations, sites, products, partnerships, members, tokens and "me".

Viewsets are thin: they read through the selectors in ``tenants.selectors`` (via ``ScopedViewSet``) and write
through ``tenants.services``; the pages in ``tenants.views`` use the same two modules.
"""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from qms.versioning import expected_version_from
from tenants import files, grants, selectors, services
from tenants import second_factor as second_factor_service
from tenants.context import authenticated_user, resolve_acting_membership
from tenants.models import (
    AccessGrant,
    Membership,
    MembershipToken,
    Organization,
    Partnership,
    Product,
    Site,
    StoredFile,
)
from tenants.permissions import Capability, Role, capabilities_of
from tenants.scoping import ScopedViewSet

# --- Serializers ----------------------------------------------------------------------------------------


class OrganizationRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "slug", "name", "kind"]


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "slug", "name", "kind", "is_active", "require_second_factor"]


class SecondFactorPolicySerializer(serializers.Serializer):
    required = serializers.BooleanField()  # type: ignore[assignment]  # a field named "required", as the API says
    reason = serializers.CharField()


class SiteSerializer(serializers.ModelSerializer):
    organization = OrganizationRefSerializer(read_only=True)
    activities = serializers.ListField(
        child=serializers.ChoiceField(choices=Site.Activity.choices), required=False, allow_empty=True
    )

    class Meta:
        model = Site
        fields = ["id", "organization", "name", "fei_number", "country", "address", "activities", "is_active",
                  "version"]
        read_only_fields = ["version"]
        validators: list[Any] = []  # uniqueness is checked by the service (full_clean), per organization


class ProductSerializer(serializers.ModelSerializer):
    organization = OrganizationRefSerializer(read_only=True)
    markets = serializers.ListField(
        child=serializers.ChoiceField(choices=Product.Market.choices), required=False, allow_empty=True
    )

    class Meta:
        model = Product
        fields = ["id", "organization", "code", "name", "dosage_form", "modality", "markets", "is_active",
                  "version"]
        read_only_fields = ["version"]
        validators: list[Any] = []


class SiteRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = ["id", "name", "country"]


class ProductRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "code", "name"]


class PartnershipSerializer(serializers.ModelSerializer):
    sponsor = OrganizationRefSerializer(read_only=True)
    cmo = OrganizationRefSerializer(read_only=True)
    sites = SiteRefSerializer(many=True, read_only=True)
    products = ProductRefSerializer(many=True, read_only=True)

    class Meta:
        model = Partnership
        fields = ["id", "sponsor", "cmo", "sites", "products", "stage", "tier", "start_date", "end_date"]


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    name = serializers.CharField(source="user.printed_name", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "username", "name", "email", "role", "is_active", "created_at"]
        read_only_fields = ["created_at"]


class MembershipSummarySerializer(serializers.ModelSerializer):
    organization = OrganizationRefSerializer(read_only=True)
    capabilities = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ["id", "organization", "role", "capabilities"]

    def get_capabilities(self, obj: Membership) -> list[str]:
        return sorted(c.value for c in capabilities_of(obj.role))


# --- Filters ------------------------------------------------------------------------------------------------


class SiteFilter(django_filters.FilterSet):
    organization = django_filters.CharFilter(field_name="organization__slug")

    class Meta:
        model = Site
        fields = ["country", "is_active", "organization"]


class ProductFilter(django_filters.FilterSet):
    organization = django_filters.CharFilter(field_name="organization__slug")
    market = django_filters.CharFilter(field_name="markets", lookup_expr="contains", method="filter_market")

    class Meta:
        model = Product
        fields = ["modality", "is_active", "organization"]

    def filter_market(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.filter(markets__contains=[value.upper()])


class PartnershipFilter(django_filters.FilterSet):
    sponsor = django_filters.CharFilter(field_name="sponsor__slug")
    cmo = django_filters.CharFilter(field_name="cmo__slug")

    class Meta:
        model = Partnership
        fields = ["stage", "tier", "sponsor", "cmo"]


# --- Viewsets -------------------------------------------------------------------------------------------------


class OrganizationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The acting organization and its partners. Read-only: organizations are set up by the platform."""

    selector = selectors.organization_list
    serializer_class = OrganizationSerializer
    lookup_field = "slug"
    search_fields = ["name", "slug"]
    ordering_fields = ["name"]
    action_capabilities = {"second_factor": Capability.MANAGE_MEMBERS}

    @extend_schema(request=SecondFactorPolicySerializer, responses=OrganizationSerializer)
    @action(detail=True, methods=["post"], url_path="second-factor")
    def second_factor(self, request: Request, slug: str | None = None) -> Response:
        """Require (or stop requiring) a second factor for this organization's QA approvers. Org admins only."""
        organization = self.get_object()
        incoming = SecondFactorPolicySerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        organization = second_factor_service.organization_second_factor_set(
            membership=self.acting, organization=organization, required=incoming.validated_data["required"],
            reason=incoming.validated_data["reason"],
        )
        return Response(OrganizationSerializer(organization).data)


class _MasterDataViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedViewSet,
):
    """Sites and products: owners create and edit through the service; partners read; nobody deletes."""

    write_capability = Capability.MANAGE_MASTER_DATA
    create_service: Any
    update_service: Any
    instance_kwarg: str

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = type(self).create_service(membership=self.acting, **serializer.validated_data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().retrieve(request, *args, **kwargs)
        response["ETag"] = f'"{response.data["version"]}"'
        return response

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        """Writes must name the version they read: If-Match (412 when stale) or ``version`` (409 when stale)."""
        expected_version, precondition = expected_version_from(self.request)
        reason = self.request.data.get("reason") if hasattr(self.request.data, "get") else None
        serializer.instance = type(self).update_service(
            membership=self.acting, **{self.instance_kwarg: serializer.instance}, expected_version=expected_version,
            precondition=precondition, reason=reason, **serializer.validated_data,
        )

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in ("PUT", "PATCH") and response.status_code == 200 and isinstance(response.data, dict):
            response["ETag"] = f'"{response.data.get("version")}"'
        return response


class SiteViewSet(_MasterDataViewSet):
    selector = selectors.site_list
    serializer_class = SiteSerializer
    filterset_class = SiteFilter
    search_fields = ["name", "fei_number"]
    ordering_fields = ["name", "country"]
    create_service = services.site_create
    update_service = services.site_update
    instance_kwarg = "site"


class ProductViewSet(_MasterDataViewSet):
    selector = selectors.product_list
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    search_fields = ["name", "code"]
    ordering_fields = ["code", "name"]
    create_service = services.product_create
    update_service = services.product_update
    instance_kwarg = "product"


class PartnershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    selector = selectors.partnership_list
    serializer_class = PartnershipSerializer
    filterset_class = PartnershipFilter
    ordering_fields = ["start_date", "stage", "tier"]

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, pk: str | None = None) -> Any:
        """The partnership as a PDF record with signatures and audit trail; the export is audited."""
        from part11.pdf import pdf_response

        return pdf_response(membership=self.acting, record=self.get_object(), request=request._request)


class MemberAddSerializer(serializers.Serializer):
    email = serializers.EmailField()
    first_name = serializers.CharField(required=False, allow_blank=True, default="")
    last_name = serializers.CharField(required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=Role.choices)


class MemberAddedSerializer(MemberSerializer):
    set_password_url = serializers.CharField(allow_null=True, read_only=True)

    class Meta(MemberSerializer.Meta):
        fields = [*MemberSerializer.Meta.fields, "set_password_url"]


class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, ScopedViewSet):
    """Members of the acting organization; listing and changing them is the org admin's job."""

    selector = selectors.member_list
    serializer_class = MemberSerializer
    read_capability = Capability.MANAGE_MEMBERS
    write_capability = Capability.MANAGE_MEMBERS
    filterset_fields = ["role", "is_active"]
    search_fields = ["user__username", "user__email", "user__last_name"]
    ordering_fields = ["user__username", "role"]

    @extend_schema(request=MemberAddSerializer, responses={201: MemberAddedSerializer})
    def create(self, request: Request) -> Response:
        """Add a person by e-mail; a new account comes with a single-use link to set its password."""
        incoming = MemberAddSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        member, link = services.member_add(membership=self.acting, **incoming.validated_data,
                                           set_password_url=lambda user: set_password_link(request, user))
        member.set_password_url = link  # type: ignore[attr-defined]
        return Response(MemberAddedSerializer(member).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        data = serializer.validated_data
        target = cast(Membership, serializer.instance)
        serializer.instance = services.membership_update(
            membership=self.acting, target=target, role=data.get("role"), is_active=data.get("is_active")
        )


# --- Authentication and identity ----------------------------------------------------------------------


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(help_text="Username or e-mail address")
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    organization = serializers.SlugField(help_text="Slug of the organization the token will act for")
    otp = serializers.CharField(
        required=False, allow_blank=True, max_length=10,
        help_text="Second-factor code, when the account has one or the organization requires it",
    )


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    membership = MembershipSummarySerializer()


class LoginRateThrottle(AnonRateThrottle):
    rate = "20/min"


class TokenView(APIView):
    """Issue a token bound to one membership (POST), or revoke the token used for this request (DELETE)."""

    permission_classes = [AllowAny]
    throttle_classes = [LoginRateThrottle]

    @extend_schema(request=TokenRequestSerializer, responses={201: TokenResponseSerializer}, auth=[])
    def post(self, request: Request) -> Response:
        incoming = TokenRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        key, token = services.token_issue(
            request=request._request,
            username=incoming.validated_data["username"],
            password=incoming.validated_data["password"],
            organization_slug=incoming.validated_data["organization"],
            otp=incoming.validated_data.get("otp") or None,
        )
        body = {"token": key, "membership": MembershipSummarySerializer(token.membership).data}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        if not isinstance(request.auth, MembershipToken):
            return Response(
                {"error": {"code": "invalid", "message": "Send the token to revoke in the Authorization header.",
                           "fields": {}}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        services.token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    email = serializers.EmailField()
    acting_membership = MembershipSummarySerializer(allow_null=True)
    memberships = MembershipSummarySerializer(many=True)
    token_bound = serializers.BooleanField()


class ActiveOrganizationSerializer(serializers.Serializer):
    organization = serializers.SlugField()


class MeView(APIView):
    """Who am I, which organization do I act for, which others may I switch to (session only)."""

    permission_classes = [IsAuthenticated]

    def _body(self, request: Request) -> dict[str, Any]:
        user = authenticated_user(request)
        token_bound = isinstance(request.auth, MembershipToken)
        acting = resolve_acting_membership(request)
        memberships = [acting] if token_bound else list(selectors.memberships_of_user(user=user))
        return MeSerializer(
            {
                "username": user.username,
                "name": user.printed_name,
                "email": user.email,
                "acting_membership": acting,
                "memberships": memberships,
                "token_bound": token_bound,
            }
        ).data

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(self._body(request))

    @extend_schema(request=ActiveOrganizationSerializer, responses=MeSerializer)
    def post(self, request: Request) -> Response:
        """Switch the session's acting organization. A token cannot switch: it acts for exactly one."""
        if isinstance(request.auth, MembershipToken):
            return Response(
                {"error": {"code": "invalid", "message": "A token acts within exactly one organization.",
                           "fields": {"organization": ["Tokens cannot switch organization."]}}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        incoming = ActiveOrganizationSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        request._request.membership = services.active_organization_switch(  # type: ignore[attr-defined]
            user=authenticated_user(request), session=request.session, slug=incoming.validated_data["organization"]
        )
        return Response(self._body(request))



# --- Access grants ------------------------------------------------------------------------------------------


class GrantSerializer(serializers.ModelSerializer):
    partnership = PartnershipSerializer(read_only=True)
    granted_by = OrganizationRefSerializer(source="organization", read_only=True)
    is_live = serializers.SerializerMethodField()

    class Meta:
        model = AccessGrant
        fields = ["id", "partnership", "granted_by", "grantor_label", "grantee_label", "reason", "starts_at",
                  "expires_at", "revoked_at", "is_live", "created_at"]

    def get_is_live(self, obj: AccessGrant) -> bool:
        return obj.is_live()


class GrantCreateSerializer(serializers.Serializer):
    partnership = serializers.PrimaryKeyRelatedField(queryset=Partnership.objects.none())
    grantee_username = serializers.CharField(max_length=150)
    grantee_organization = serializers.SlugField()
    reason = serializers.CharField()
    starts_at = serializers.DateTimeField(required=False)
    expires_at = serializers.DateTimeField()

    def __init__(self, *args: Any, membership: Membership | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if membership is not None:
            partnership_field: Any = self.fields["partnership"]
            partnership_field.queryset = selectors.grantable_partnerships(membership=membership)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class GrantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Time-boxed view access: given by the data owner, held by one membership, revocable, self-expiring."""

    selector = selectors.grant_list
    serializer_class = GrantSerializer
    write_capability = Capability.GRANT_ACCESS
    filterset_fields = ["partnership"]
    ordering_fields = ["starts_at", "expires_at"]

    @extend_schema(request=GrantCreateSerializer, responses={201: GrantSerializer})
    def create(self, request: Request) -> Response:
        incoming = GrantCreateSerializer(data=request.data, membership=self.acting)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        grant = grants.grant_create(
            membership=self.acting, partnership=data["partnership"], grantee_username=data["grantee_username"],
            grantee_organization=data["grantee_organization"], reason=data["reason"],
            starts_at=data.get("starts_at") or timezone.now(), expires_at=data["expires_at"],
        )
        return Response(GrantSerializer(grant).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReasonSerializer, responses=GrantSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        grant = self.get_object()
        incoming = ReasonSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        grant = grants.grant_revoke(membership=self.acting, grant=grant, reason=incoming.validated_data["reason"])
        return Response(GrantSerializer(grant).data)


# --- Stored files ---------------------------------------------------------------------------------------------


class StoredFileSerializer(serializers.ModelSerializer):
    organization = OrganizationRefSerializer(read_only=True)
    uploaded_by = serializers.CharField(source="uploaded_by.printed_name", read_only=True)
    record_type = serializers.SerializerMethodField()

    class Meta:
        model = StoredFile
        fields = ["id", "record_type", "record_id", "original_name", "mime_type", "size", "sha256", "organization",
                  "uploaded_by", "uploaded_at"]

    def get_record_type(self, obj: StoredFile) -> str:
        return {"tenants_partnership": "partnership"}.get(obj.record_table, obj.record_table)


UPLOAD_RECORD_CHOICES = [("partnership", "Partnership")]


class UploadSerializer(serializers.Serializer):
    record_type = serializers.ChoiceField(choices=UPLOAD_RECORD_CHOICES)
    record_id = serializers.IntegerField()
    file = serializers.FileField()


class StoredFileViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Files on records the acting organization can see; upload (multipart) and download as attachment."""

    selector = files.file_list
    serializer_class = StoredFileSerializer
    write_capability = Capability.AUTHOR_QUALITY_RECORDS
    filterset_fields = ["record_id", "sha256"]

    @extend_schema(request={"multipart/form-data": UploadSerializer}, responses={201: StoredFileSerializer})
    def create(self, request: Request) -> Response:
        incoming = UploadSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        record = get_object_or_404(selectors.partnership_list(membership=self.acting),
                                   pk=incoming.validated_data["record_id"])
        stored = files.file_store(membership=self.acting, record=record, upload=incoming.validated_data["file"])
        return Response(StoredFileSerializer(stored).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        return files.file_response(self.get_object())


def set_password_link(request: Any, user: Any) -> str:
    """Absolute single-use link to set a password (Django's password-reset token: dies once it is used)."""
    from django.contrib.auth.tokens import default_token_generator
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    path = reverse("password_reset_confirm", args=[urlsafe_base64_encode(force_bytes(user.pk)),
                                                   default_token_generator.make_token(user)])
    return request.build_absolute_uri(path)
