"""The one protected base for every API viewset and every HTML view that shows tenant data (DESIGN.md §3.2).

A subclass declares ``selector`` (a function taking ``membership=`` and returning the visible queryset), the
capability needed to read and the capability needed to write. It may not define ``queryset``,
``get_queryset`` or ``get_object``: the class refuses to be created if it tries, so a view cannot bypass
scoping by accident. Escape hatches, where one is ever needed, are named ``unscoped_*`` so a grep finds them.

Answers, in this order:
1. not logged in → 401 (API) or redirect to login (pages);
2. no active membership → 403;
3. role lacks the read capability → 403;
4. object not visible to the acting organization → 404, the same as an object that does not exist;
5. write by a role without the write capability → 403;
6. write to a visible row owned by a partner (sponsor looking at a CMO row) → 403, read-only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404
from rest_framework import exceptions, generics, mixins, permissions, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from tenants.context import resolve_acting_membership
from tenants.models import Membership
from tenants.permissions import Capability, can

PROTECTED_ATTRIBUTES = ("queryset", "get_queryset", "get_object")

Selector = Callable[..., QuerySet[Any]]

PARTNER_READ_ONLY = "This record belongs to a partner organization and is read-only for you."
NO_MEMBERSHIP = "You have no active membership in any organization."


def _forbid_scoping_overrides(cls: type, base: type) -> None:
    if cls is base:
        return
    for name in PROTECTED_ATTRIBUTES:
        if name in cls.__dict__:
            raise TypeError(
                f"{cls.__qualname__} may not define {name!r}: declare `selector` instead, so every query "
                f"is scoped to the acting membership (tenants/scoping.py)."
            )


def owner_organization_id(obj: Model) -> int | None:
    """The organization that owns ``obj`` (and so may change it), read from the model's ``owner_field``."""
    field = getattr(obj, "owner_field", None)
    if field is None:
        return None
    if field == "self":
        return obj.pk
    return getattr(obj, f"{field}_id")


def owned_by(obj: Model, organization_id: int) -> bool:
    """Whether ``organization_id`` owns ``obj``: its ``owner_field``, or one of the owners of a jointly owned record
    (a quality agreement belongs to both parties: ``owner_organization_ids()``)."""
    joint = getattr(obj, "owner_organization_ids", None)
    if joint is not None:
        return organization_id in joint()
    return owner_organization_id(obj) == organization_id


def check_write(membership: Membership, capability: Capability | None, obj: Model | None) -> None:
    """Raise PermissionDenied unless ``membership`` may write ``obj`` (or create, when ``obj`` is None)."""
    if capability is None or not can(membership, capability):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) may not do this.")
    if obj is not None and not owned_by(obj, membership.organization_id):
        raise PermissionDenied(PARTNER_READ_ONLY)


class _MembershipCapability(permissions.BasePermission):
    """Role checks for ScopedViewSet; object-level writes are decided after the (scoped) lookup."""

    def has_permission(self, request: Request, view: Any) -> bool:
        membership = view.membership
        if membership is None:
            raise exceptions.PermissionDenied(NO_MEMBERSHIP)
        if not can(membership, view.read_capability):
            return False
        if request.method in permissions.SAFE_METHODS or getattr(view, "detail", False):
            return True
        capability = view.write_capability_for_action()
        if capability is None or not can(membership, capability):
            raise exceptions.PermissionDenied(f"Your role ({membership.get_role_display()}) may not do this.")
        return True

    def has_object_permission(self, request: Request, view: Any, obj: Model) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        if getattr(view, "action", None) in view.partner_actions:
            capability = view.write_capability_for_action()
            if capability is None or not can(view.membership, capability):
                raise exceptions.PermissionDenied(f"Your role ({view.membership.get_role_display()}) may not do this.")
            return True
        try:
            check_write(view.membership, view.write_capability_for_action(), obj)
        except PermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        return True


class ScopedViewSet(viewsets.GenericViewSet):
    """Base for every tenant-data API viewset."""

    selector: ClassVar[Selector]
    read_capability: ClassVar[Capability] = Capability.VIEW
    write_capability: ClassVar[Capability | None] = None
    #: Extra actions that need another capability than ``write_capability`` (e.g. {"second_factor": ...}).
    action_capabilities: ClassVar[dict[str, Capability]] = {}
    #: Actions a partner that sees the object may take on it without owning it: they write the partner's own rows
    #: pointing at it (a sponsor's comment on a CMO deviation, its acknowledgement of a CMO notice). The service
    #: still decides who may; only the owner-only check is skipped.
    partner_actions: ClassVar[frozenset[str]] = frozenset()
    permission_classes = [permissions.IsAuthenticated, _MembershipCapability]

    membership: Membership | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _forbid_scoping_overrides(cls, ScopedViewSet)

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)
        self.membership = resolve_acting_membership(request) if request.user.is_authenticated else None

    def write_capability_for_action(self) -> Capability | None:
        return self.action_capabilities.get(getattr(self, "action", "") or "", self.write_capability)

    @property
    def acting(self) -> Membership:
        """The acting membership of an authenticated request (permission checks ran before any handler)."""
        if self.membership is None:
            raise exceptions.NotAuthenticated()
        return self.membership

    def get_queryset(self) -> QuerySet[Any]:
        selector = getattr(type(self), "selector", None)
        if selector is None:
            raise ImproperlyConfigured(f"{type(self).__name__} must declare `selector`")
        if self.membership is None:  # schema generation and anonymous introspection see nothing
            return _empty(self)
        return selector(membership=self.membership)

    def get_object(self) -> Any:
        queryset = self.filter_queryset(self.get_queryset())
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        # DRF's lookup accepts any path segment: one that is not an id (``/batches/queries/``) is a 404 like a
        # missing row, never a 500 (generics.get_object_or_404 turns the ValueError into Http404).
        obj = generics.get_object_or_404(queryset, **{self.lookup_field: self.kwargs[lookup_url_kwarg]})
        self.check_object_permissions(self.request, obj)
        return obj


class ScopedRecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Base for the viewset of a quality record (a deviation, a CAPA, a change, a 483, …): retrieve and every
    write answer with the same full representation, so a client always holds what the next If-Match needs.

    A subclass declares ``detail_serializer_class``; a child record whose edits are guarded by its parent's
    version (an observation and its 483) overrides ``etag_version``."""

    detail_serializer_class: ClassVar[type[BaseSerializer]]

    def etag_version(self, obj: Any) -> int | None:
        """The version If-Match is checked against, sent as the ``ETag``; None sends none."""
        return getattr(obj, "version", None)

    def detail_response(self, obj: Model, code: int = status.HTTP_200_OK) -> Response:
        """``obj`` re-read through the selector (annotations and the acting party's view current after a
        write), serialized in full for the acting membership, with its ``ETag``."""
        fresh = self.get_queryset().get(pk=obj.pk)
        response = Response(self.detail_serializer_class(fresh, context={"membership": self.acting}).data,
                            status=code)
        version = self.etag_version(fresh)
        if version is not None:
            response["ETag"] = f'"{version}"'
        return response

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.detail_response(self.get_object())


def _empty(view: ScopedViewSet) -> QuerySet[Any]:
    model = view.get_serializer_class().Meta.model  # type: ignore[attr-defined]  # every ModelSerializer has Meta
    return model._default_manager.none()


class ScopedPageMixin(LoginRequiredMixin):
    """Base for every tenant-data HTML view (list, detail, form). Same rules and answers as the API."""

    selector: ClassVar[Selector]
    read_capability: ClassVar[Capability] = Capability.VIEW
    write_capability: ClassVar[Capability | None] = None
    #: Form pages set this: even showing the form needs the write capability (and, for edits, ownership).
    writes: ClassVar[bool] = False
    pk_url_kwarg = "pk"
    #: Pages read with GET and write with POST; PUT/PATCH/DELETE belong to the API.
    http_method_names: Sequence[str] = ["get", "post", "head", "options"]

    membership: Membership

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _forbid_scoping_overrides(cls, ScopedPageMixin)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        membership = getattr(request, "membership", None)
        if not membership:
            raise PermissionDenied(NO_MEMBERSHIP)
        self.membership = membership
        if not can(membership, self.read_capability):
            raise PermissionDenied(f"Your role ({membership.get_role_display()}) may not see this page.")
        if self.writes and self.pk_url_kwarg not in kwargs:
            check_write(membership, self.write_capability, None)
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    #: Optional django-filter FilterSet applied to the selector's queryset (the same one the API twin uses).
    filterset_class: ClassVar[Any] = None

    def filter_data(self) -> Any:
        """What the FilterSet filters on: the query string, unless a page fixes it (e.g. from the URL)."""
        return self.request.GET  # type: ignore[attr-defined]

    def get_queryset(self) -> QuerySet[Any]:
        queryset = type(self).selector(membership=self.membership)
        if self.filterset_class is None:
            return queryset
        self.filterset = self.filterset_class(self.filter_data(), queryset=queryset,
                                              request=self.request)  # type: ignore[attr-defined]
        return self.filterset.qs if self.filterset.is_valid() else queryset.none()

    def get_object(self, queryset: QuerySet[Any] | None = None) -> Any:
        obj = get_object_or_404(self.get_queryset(), pk=self.kwargs[self.pk_url_kwarg])  # type: ignore[attr-defined]
        if self.writes:
            check_write(self.membership, self.write_capability, obj)
        return obj
