"""Per-object grants: time-boxed, audited by who/why/when, enforced by selectors and by row-level security."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from tenants import grants, rls, selectors
from tenants.models import AccessGrant, PartnershipUserObjectPermission
from tests.isolation import ScopedAPICases, ScopedPageCases, WrongRolePageCases


def give(cast, *, grantor="northwind.qa", grantee="auditor", org="helix", hours=24, starts_ago=1):
    now = timezone.now()
    return grants.grant_create(
        membership=cast.memberships[grantor], partnership=cast.partnership("northwind", "acme"),
        grantee_username=grantee, grantee_organization=org, reason="Helix QA audit of Acme Cork, ref AUD-7",
        starts_at=now - dt.timedelta(hours=starts_ago), expires_at=now + dt.timedelta(hours=hours),
    )


def partnership_ids(api, username):
    return {p["id"] for p in api(username).get(reverse("api:partnership-list")).json()["results"]}


def test_live_grant_shows_partnership_and_its_scope_read_only(cast, api_for):
    target = cast.partnership("northwind", "acme")
    assert target.pk not in partnership_ids(api_for, "auditor")
    give(cast)
    client = api_for("auditor")
    assert target.pk in partnership_ids(api_for, "auditor")
    assert client.get(reverse("api:partnership-detail", args=[target.pk])).status_code == 200
    sites = {s["name"] for s in client.get(reverse("api:site-list")).json()["results"]}
    assert sites == {"Acme Boston", "Acme Cork"}  # Boston via Helix's own partnership, Cork via the grant
    products = {p["code"] for p in client.get(reverse("api:product-list")).json()["results"]}
    assert products == {"HLX-101", "NWB-7"}
    cork = cast.sites["Acme Cork"].pk
    assert client.patch(reverse("api:site-detail", args=[cork]), {"address": "x"}, format="json").status_code == 403
    # The grant is to the auditor's membership, not to Helix: helix.qa still sees nothing of it.
    assert target.pk not in partnership_ids(api_for, "helix.qa")


def test_rls_agrees_with_selectors_under_a_grant(cast):
    from django.db import connection

    give(cast)
    membership = cast.memberships["auditor"]
    expected = set(selectors.site_list(membership=membership).values_list("id", flat=True))
    with rls.scoped(rls.Context(user_id=membership.user_id, organization_id=membership.organization_id,
                                membership_id=membership.pk)), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM tenants_site")
        assert {r[0] for r in cursor.fetchall()} == expected
        cursor.execute("SELECT id FROM tenants_partnership")
        assert {r[0] for r in cursor.fetchall()} == set(
            selectors.partnership_list(membership=membership).values_list("id", flat=True))


def test_expired_grant_is_ignored_before_the_task_runs(cast, api_for):
    grant = give(cast)
    AccessGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    target = cast.partnership("northwind", "acme")
    assert target.pk not in partnership_ids(api_for, "auditor")
    assert api_for("auditor").get(reverse("api:partnership-detail", args=[target.pk])).status_code == 404
    assert PartnershipUserObjectPermission.objects.count() == 1  # the task has not run yet
    assert grants.expire_access_grants() == 1
    grant.refresh_from_db()
    assert grant.expired_at is not None
    assert PartnershipUserObjectPermission.objects.count() == 0
    assert grants.expire_access_grants() == 0  # idempotent
    from tenants.models import SecurityEvent

    kinds = list(SecurityEvent.objects.order_by("at", "pk").values_list("kind", flat=True))
    assert kinds == ["access_granted", "access_expired"]


def test_future_grant_not_live_yet(cast, api_for):
    now = timezone.now()
    grants.grant_create(
        membership=cast.memberships["northwind.qa"], partnership=cast.partnership("northwind", "acme"),
        grantee_username="auditor", grantee_organization="helix", reason="next week's audit",
        starts_at=now + dt.timedelta(days=7), expires_at=now + dt.timedelta(days=8),
    )
    assert cast.partnership("northwind", "acme").pk not in partnership_ids(api_for, "auditor")


def test_guardian_single_object_check(cast):
    target = cast.partnership("northwind", "acme")
    auditor = cast.memberships["auditor"]
    assert not grants.has_live_grant(auditor, target)
    grant = give(cast)
    auditor.user.__dict__.pop("_perm_cache", None)
    assert grants.has_live_grant(auditor, target)
    grants.grant_revoke(membership=cast.memberships["northwind.qa"], grant=grant, reason="audit closed early")
    fresh = type(auditor).objects.select_related("user").get(pk=auditor.pk)
    assert not grants.has_live_grant(fresh, target)
    assert PartnershipUserObjectPermission.objects.count() == 0


def test_only_the_sponsor_may_grant_a_partnership(cast):
    with pytest.raises(ValidationError) as info:
        give(cast, grantor="acme.qa")
    assert "partnership" in info.value.message_dict


def test_grant_validation_names_fields(cast):
    with pytest.raises(ValidationError) as info:
        give(cast, grantee="nobody")
    assert "grantee_username" in info.value.message_dict
    with pytest.raises(ValidationError) as info:
        give(cast, hours=24 * 400)
    assert "expires_at" in info.value.message_dict
    with pytest.raises(ValidationError) as info:
        give(cast, hours=-1, starts_ago=2)
    assert "expires_at" in info.value.message_dict
    assert AccessGrant.objects.count() == 0


def test_roles_without_grant_capability_cannot_grant(cast):
    from tests.factories import MembershipFactory

    viewer = MembershipFactory(organization=cast.orgs["northwind"], role="viewer")
    with pytest.raises(PermissionDenied):
        give(cast, grantor=None) if False else grants.grant_create(
            membership=viewer, partnership=cast.partnership("northwind", "acme"), grantee_username="auditor",
            grantee_organization="helix", reason="x", starts_at=timezone.now(),
            expires_at=timezone.now() + dt.timedelta(hours=1))


def test_api_create_list_and_revoke(cast, api_for):
    target = cast.partnership("northwind", "acme")
    expires = (timezone.now() + dt.timedelta(days=2)).isoformat()
    client = api_for("northwind.qa")
    response = client.post(reverse("api:grant-list"), {
        "partnership": target.pk, "grantee_username": "auditor", "grantee_organization": "helix",
        "reason": "supplier audit", "expires_at": expires}, format="json")
    assert response.status_code == 201, response.content
    grant_id = response.json()["id"]
    assert response.json()["is_live"] is True and response.json()["grantee_label"] == "auditor@helix"
    # The grantee sees the grant it holds, but cannot revoke it; an outsider does not see it at all.
    held = api_for("auditor").get(reverse("api:grant-list")).json()["results"]
    assert [g["id"] for g in held] == [grant_id]
    assert api_for("auditor").post(reverse("api:grant-revoke", args=[grant_id]), {"reason": "x"},
                                   format="json").status_code == 403
    assert api_for("borealis.qa").get(reverse("api:grant-detail", args=[grant_id])).status_code == 404
    assert api_for("borealis.qa").post(reverse("api:grant-revoke", args=[grant_id]), {"reason": "x"},
                                       format="json").status_code == 404
    missing_reason = client.post(reverse("api:grant-revoke", args=[grant_id]), {}, format="json")
    assert missing_reason.status_code == 400 and "reason" in missing_reason.json()["error"]["fields"]
    revoked = client.post(reverse("api:grant-revoke", args=[grant_id]), {"reason": "done"}, format="json")
    assert revoked.status_code == 200 and revoked.json()["is_live"] is False
    assert target.pk not in partnership_ids(api_for, "auditor")


def test_api_cannot_grant_a_partnership_it_does_not_sponsor(cast, api_for):
    response = api_for("acme.qa").post(reverse("api:grant-list"), {
        "partnership": cast.partnership("northwind", "acme").pk, "grantee_username": "auditor",
        "grantee_organization": "helix", "reason": "x",
        "expires_at": (timezone.now() + dt.timedelta(days=1)).isoformat()}, format="json")
    assert response.status_code == 400 and "partnership" in response.json()["error"]["fields"]


def test_viewer_cannot_grant_through_the_api(cast, api_for):
    response = api_for("helix.viewer").post(reverse("api:grant-list"), {}, format="json")
    assert response.status_code == 403


class TestGrantAPI(ScopedAPICases):
    basename = "grant"
    owner, outsider = "northwind.qa", "borealis.qa"

    def make_object(self, cast):
        return give(cast)


class TestGrantRevokePage(ScopedPageCases, WrongRolePageCases):
    page = "grant-revoke"
    page_owner, page_outsider, page_wrong_role = "northwind.qa", "acme.qa", "auditor"

    def make_page_object(self, cast):
        return give(cast)


def test_grant_pages(cast, client_for):
    client = client_for("northwind.qa")
    body = client.get(reverse("grant-create")).content.decode()
    assert "Northwind Biologics ↔ Acme CDMO" in body and "Northwind Biologics ↔ Borealis" in body
    now = timezone.now()
    response = client.post(reverse("grant-create"), {
        "partnership": cast.partnership("northwind", "acme").pk, "grantee_username": "auditor",
        "grantee_organization": "helix", "reason": "audit", "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "expires_at": (now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302, response.content.decode()[-2000:]
    body = client.get(reverse("grants")).content.decode()
    assert "auditor@helix" in body and "live" in body
    grant = AccessGrant.objects.get()
    response = client.post(reverse("grant-revoke", args=[grant.pk]), {"reason": "visit cancelled"})
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None and "visit cancelled" in grant.reason
    assert client_for("acme.qa").get(reverse("grant-create")).status_code == 200  # a CMO form lists nothing
    assert client_for("helix.viewer").get(reverse("grant-create")).status_code == 403


def test_expiry_task_is_registered_with_beat(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["expire-access-grants"]
    assert schedule["task"] == "tenants.tasks.expire_access_grants" and schedule["schedule"] <= 60
