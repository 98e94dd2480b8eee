"""Services: validation by field, ownership, nothing changed on failure; API validation error shape."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from tenants import services
from tenants.models import Site


def test_site_update_by_partner_refused(cast):
    with pytest.raises(PermissionDenied, match="read-only"):
        services.site_update(membership=cast.memberships["helix.qa"], site=cast.sites["Acme Boston"], address="x")


def test_unknown_field_refused(cast):
    with pytest.raises(ValidationError) as info:
        services.site_update(
            membership=cast.memberships["acme.qa"],
            site=cast.sites["Acme Boston"],
            organization_id=cast.orgs["borealis"].pk,
        )
    assert "organization_id" in info.value.message_dict


def test_api_validation_errors_name_fields_and_change_nothing(cast, api_for):
    before = Site.objects.count()
    response = api_for("acme.qa").post(
        reverse("api:site-list"),
        {"name": "Acme Boston", "country": "Ireland", "activities": ["brewing"]},
        format="json",
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"country", "activities"}
    response = api_for("acme.qa").post(
        reverse("api:site-list"), {"name": "Acme Boston", "country": "IE"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"name": ["Your organization already has a site with this name."]}
    assert Site.objects.count() == before


def test_deactivating_member_revokes_tokens(cast, http_request):
    from tenants.auth import token_identity

    key, token = services.token_issue(
        request=http_request,
        username="acme.operator",
        password="correct-horse-battery-staple",
        organization_slug="acme",
    )
    services.membership_update(
        membership=cast.memberships["acme.admin"], target=cast.memberships["acme.operator"], is_active=False
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token_identity(key) is None


def test_last_admin_cannot_demote_self(cast):
    with pytest.raises(ValidationError) as info:
        services.membership_update(
            membership=cast.memberships["acme.admin"], target=cast.memberships["acme.admin"], role="viewer"
        )
    assert "role" in info.value.message_dict
