"""Shared isolation cases (DESIGN.md §5, after NetBox's ``APIViewTestCases``).

A test class for a scoped endpoint inherits ``ScopedAPICases`` (and ``ScopedPageCases`` for its pages), sets a
few attributes, and gets the cross-tenant 404, partner read-only 403, wrong-role 403 and anonymous cases:

    class TestSiteAPI(ScopedAPICases, PartnerReadOnlyAPICases, WrongRoleAPICases, OwnerWriteAPICases):
        basename = "site"
        owner, partner, outsider, wrong_role = "acme.qa", "helix.qa", "borealis.qa", "acme.operator"
        patch = {"address": "New address"}

        def make_object(self, cast):
            return cast.sites["Acme Boston"]

Each mixin adds only cases that apply: a read-only endpoint leaves out ``OwnerWriteAPICases``, an endpoint no
partner can see leaves out ``PartnerReadOnlyAPICases``; no case passes by returning early.

The route meta-test (tests/test_route_isolation.py) is separate: it requires every route to have a matrix there.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from django.db.models import Model
from django.urls import reverse

from tests.factories import Cast


class ScopedAPICases(ABC):
    basename: ClassVar[str]
    lookup: ClassVar[str] = "pk"
    owner: ClassVar[str]
    """A member of the owning organization with the write capability (or read, for read-only endpoints)."""
    outsider: ClassVar[str]
    """A member of an organization that must not see the object at all."""
    patch: ClassVar[dict[str, Any] | None] = None
    """A payload for write attempts in the cases that need one."""

    @abstractmethod
    def make_object(self, cast: Cast) -> Model:
        """The object the cases run against, owned by the ``owner``'s organization."""

    # helpers -------------------------------------------------------------------------------------------

    def list_url(self) -> str:
        return reverse(f"api:{self.basename}-list")

    def detail_url(self, obj: Model) -> str:
        return reverse(f"api:{self.basename}-detail", args=[getattr(obj, self.lookup)])

    @staticmethod
    def ids(response: Any, key: str = "id") -> set[Any]:
        assert response.status_code == 200, response.content
        return {row[key] for row in response.json()["results"]}

    # cases -----------------------------------------------------------------------------------------------

    def test_anonymous_is_401(self, cast: Cast) -> None:
        from rest_framework.test import APIClient

        obj = self.make_object(cast)
        client = APIClient()
        assert client.get(self.list_url()).status_code == 401
        assert client.get(self.detail_url(obj)).status_code == 401

    def test_owner_reads_list_and_detail(self, cast: Cast, api_for: Any) -> None:
        obj = self.make_object(cast)
        client = api_for(self.owner)
        assert getattr(obj, self.lookup) in self.ids(client.get(self.list_url()), self.lookup_key())
        assert client.get(self.detail_url(obj)).status_code == 200

    def test_outsider_gets_404_for_every_method(self, cast: Cast, api_for: Any) -> None:
        obj = self.make_object(cast)
        client = api_for(self.outsider)
        assert getattr(obj, self.lookup) not in self.ids(client.get(self.list_url()), self.lookup_key())
        url = self.detail_url(obj)
        missing = self.detail_url_for_missing()
        for method in ("get", "patch", "put", "delete"):
            foreign = getattr(client, method)(url, {}, format="json")
            absent = getattr(client, method)(missing, {}, format="json")
            if foreign.status_code == 405:  # method not offered at all: same for everyone
                continue
            assert foreign.status_code == 404, (method, foreign.status_code, foreign.content)
            assert foreign.json() == absent.json(), "a foreign row must look exactly like a missing one"

    # overridable details --------------------------------------------------------------------------------

    def lookup_key(self) -> str:
        return "id" if self.lookup == "pk" else self.lookup

    def detail_url_for_missing(self) -> str:
        return reverse(f"api:{self.basename}-detail", args=[987654321 if self.lookup == "pk" else "no-such-thing"])

    @staticmethod
    def snapshot(obj: Model) -> dict[str, Any]:
        fresh = type(obj)._default_manager.get(pk=obj.pk)
        return {f.attname: getattr(fresh, f.attname) for f in fresh._meta.concrete_fields}


class PartnerReadOnlyAPICases:
    """A partnered organization reads the object; any write answers 403 and changes nothing."""

    partner: ClassVar[str]

    def test_partner_reads_but_cannot_write(self, cast: Cast, api_for: Any) -> None:
        obj = self.make_object(cast)
        client = api_for(self.partner)
        assert client.get(self.detail_url(obj)).status_code == 200
        before = self.snapshot(obj)
        response = client.patch(self.detail_url(obj), self.patch or {}, format="json")
        assert response.status_code in (403, 405), response.content
        assert self.snapshot(obj) == before


class WrongRoleAPICases:
    """A member of the owning organization whose role lacks the write capability gets 403."""

    wrong_role: ClassVar[str]

    def test_wrong_role_cannot_write(self, cast: Cast, api_for: Any) -> None:
        obj = self.make_object(cast)
        client = api_for(self.wrong_role)
        before = self.snapshot(obj)
        response = client.patch(self.detail_url(obj), self.patch or {}, format="json")
        assert response.status_code in (403, 405), response.content
        if response.status_code == 403:
            assert response.json()["error"]["code"] == "permission_denied"
        assert self.snapshot(obj) == before


class OwnerWriteAPICases:
    """The owner's writer can change the object through the API (the service runs)."""

    patch: ClassVar[dict[str, Any]]

    def test_owner_write(self, cast: Cast, api_for: Any) -> None:
        obj = self.make_object(cast)
        response = api_for(self.owner).patch(self.detail_url(obj), self.patch, format="json")
        assert response.status_code == 200, response.content
        obj.refresh_from_db()
        for name, value in self.patch.items():
            if name == "version":  # the version read; the write moved the record past it
                assert obj.version == value + 1
                continue
            if name == "reason":  # not a field: it is recorded in the audit trail
                continue
            assert getattr(obj, name) == value


class ScopedPageCases(ABC):
    """The same cases for an HTML detail or edit page (``page``: URL name taking the object's pk)."""

    page: ClassVar[str]
    page_methods: ClassVar[tuple[str, ...]] = ("get", "post")
    """What the page answers; a read-only page answers 405 to POST for everyone, before any lookup."""
    page_owner: ClassVar[str]
    page_outsider: ClassVar[str]

    @abstractmethod
    def make_page_object(self, cast: Cast) -> Model:
        """The object the page cases run against, owned by the ``page_owner``'s organization."""

    def page_url(self, obj: Model) -> str:
        return reverse(self.page, args=[obj.pk])

    def test_page_anonymous_redirects_to_login(self, cast: Cast) -> None:
        from django.test import Client

        response = Client().get(self.page_url(self.make_page_object(cast)))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_page_owner_200(self, cast: Cast, client_for: Any) -> None:
        assert client_for(self.page_owner).get(self.page_url(self.make_page_object(cast))).status_code == 200

    def test_page_outsider_404(self, cast: Cast, client_for: Any) -> None:
        obj = self.make_page_object(cast)
        client = client_for(self.page_outsider)
        for method in self.page_methods:
            assert getattr(client, method)(self.page_url(obj), {}).status_code == 404, method


class WrongRolePageCases:
    """A member of the owning organization whose role may not use the page gets 403 on GET and POST."""

    page_wrong_role: ClassVar[str]

    def test_page_wrong_role_403(self, cast: Cast, client_for: Any) -> None:
        obj = self.make_page_object(cast)
        client = client_for(self.page_wrong_role)
        assert client.get(self.page_url(obj)).status_code == 403
        assert client.post(self.page_url(obj), {}).status_code == 403


class PartnerPagesCases:
    """For edit pages: a partner who can see the object still gets 403 on its edit page."""

    page_partner: ClassVar[str]

    def test_page_partner_403(self, cast: Cast, client_for: Any) -> None:
        obj = self.make_page_object(cast)
        client = client_for(self.page_partner)
        assert client.get(self.page_url(obj)).status_code == 403
        assert client.post(self.page_url(obj), {}).status_code == 403
