"""HTML pages: isolation cases, what each cast member sees, and the forms' service-backed saves."""

import pytest
from django.urls import reverse

from tenants.models import Product, Site
from tests.factories import Cast
from tests.isolation import PartnerPagesCases, ScopedPageCases, WrongRolePageCases


class TestPartnershipDetailPage(ScopedPageCases):
    page = "partnership-detail"
    page_methods = ("get",)
    page_owner, page_outsider = "helix.qa", "northwind.qa"

    def make_page_object(self, cast: Cast):
        return cast.partnership("helix", "acme")


class TestSiteEditPage(ScopedPageCases, WrongRolePageCases, PartnerPagesCases):
    page = "site-edit"
    page_owner, page_outsider, page_wrong_role, page_partner = "acme.qa", "borealis.qa", "acme.operator", "helix.qa"

    def make_page_object(self, cast: Cast):
        return cast.sites["Acme Boston"]


class TestProductEditPage(ScopedPageCases, WrongRolePageCases, PartnerPagesCases):
    page = "product-edit"
    page_owner, page_outsider, page_wrong_role, page_partner = "helix.qa", "northwind.qa", "helix.viewer", "acme.qa"

    def make_page_object(self, cast: Cast):
        return cast.products["HLX-101"]


class TestMemberEditPage(ScopedPageCases, WrongRolePageCases):
    page = "member-edit"
    page_owner, page_outsider, page_wrong_role = "acme.admin", "helix.admin", "acme.qa"

    def make_page_object(self, cast: Cast):
        return cast.memberships["acme.operator"]


LIST_PAGES = ["home", "partnerships", "sites", "products"]


@pytest.mark.parametrize("name", LIST_PAGES + ["members", "site-create", "product-create"])
def test_list_and_create_pages_need_login(db, client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_dashboard_shows_only_own_partnerships(cast, client_for):
    body = client_for("helix.qa").get(reverse("home")).content.decode()
    assert "Helix Therapeutics ↔ Acme CDMO" in body
    assert "Northwind" not in body
    assert "Acting for <strong>Helix Therapeutics</strong>" in body


def test_cmo_dashboard_lists_both_sponsors(cast, client_for):
    body = client_for("acme.qa").get(reverse("partnerships")).content.decode()
    assert "Helix Therapeutics" in body and "Northwind Biologics" in body
    assert "Borealis" not in body


def test_site_list_shows_partner_sites_read_only(cast, client_for):
    body = client_for("helix.qa").get(reverse("sites")).content.decode()
    assert "Acme Boston" in body
    assert "Acme Cork" not in body  # in scope of Northwind's partnership, not Helix's
    assert "Borealis Montreal" not in body
    assert reverse("site-edit", args=[cast.sites["Acme Boston"].pk]) not in body
    assert "read-only" in body


def test_members_page_is_for_org_admins(cast, client_for):
    assert client_for("acme.qa").get(reverse("members")).status_code == 403
    body = client_for("acme.admin").get(reverse("members")).content.decode()
    assert "acme.operator" in body and "helix.qa" not in body


def test_viewer_cannot_open_create_form(cast, client_for):
    assert client_for("helix.viewer").get(reverse("product-create")).status_code == 403
    assert client_for("helix.viewer").post(reverse("product-create"), {"code": "X"}).status_code == 403
    assert not Product.objects.filter(code="X").exists()


def test_create_site_through_the_form(cast, client_for):
    response = client_for("acme.qa").post(
        reverse("site-create"),
        {"name": "Acme Raleigh", "country": "US", "fei_number": "3001112223", "activities": ["testing"],
         "is_active": "on"},
    )
    assert response.status_code == 302
    site = Site.objects.get(name="Acme Raleigh")
    assert site.organization == cast.orgs["acme"] and site.activities == ["testing"]


def test_form_errors_name_the_field_and_change_nothing(cast, client_for):
    response = client_for("acme.qa").post(
        reverse("site-create"), {"name": "Acme Boston", "country": "us", "fei_number": "12ab"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-field="country"' in body and "two-letter ISO 3166-1" in body
    assert 'data-field="fei_number"' in body
    assert Site.objects.filter(name="Acme Boston").count() == 1


def test_duplicate_name_is_a_field_error(cast, client_for):
    response = client_for("acme.qa").post(reverse("site-create"), {"name": "Acme Boston", "country": "US"})
    assert response.status_code == 200
    expected = ('<p class="field-error" role="alert" data-field="name">'
                "Your organization already has a site with this name.")
    assert expected in response.content.decode()


def test_sponsor_cannot_create_a_site(cast, client_for):
    response = client_for("helix.qa").post(reverse("site-create"), {"name": "Helix Plant", "country": "US"})
    assert response.status_code == 200
    assert "Only a CMO organization has manufacturing sites." in response.content.decode()
    assert not Site.objects.filter(name="Helix Plant").exists()


def test_edit_member_role_keeps_one_admin(cast, client_for):
    admin = cast.memberships["acme.admin"]
    response = client_for("acme.admin").post(reverse("member-edit", args=[admin.pk]), {"role": "viewer",
                                                                                        "is_active": "on"})
    assert response.status_code == 200
    assert "at least one active org admin" in response.content.decode()
    admin.refresh_from_db()
    assert admin.role == "org_admin"


def test_switch_organization_only_to_own_memberships(cast, client_for):
    from tests.factories import MembershipFactory

    MembershipFactory(user=cast.users["auditor"], organization=cast.orgs["northwind"], role="auditor")
    client = client_for("auditor")
    response = client.post(reverse("switch-organization"), {"organization": "northwind"})
    assert response.status_code == 302
    assert "Acting for <strong>Northwind Biologics</strong>" in client.get(reverse("home")).content.decode()
    client.post(reverse("switch-organization"), {"organization": "acme"})  # not a member
    body = client.get(reverse("home")).content.decode()
    assert "Acting for <strong>Northwind Biologics</strong>" in body
    assert "Northwind Biologics ↔ Acme CDMO" in body


def test_switch_ignores_offsite_next(cast, client_for):
    response = client_for("helix.qa").post(
        reverse("switch-organization"), {"organization": "helix", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("home")


def test_user_without_membership_sees_explanation(db, client):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="loner"))
    body = client.get(reverse("home")).content.decode()
    assert "not an active member of any organization" in body
    assert client.get(reverse("sites")).status_code == 403


def test_login_with_email_and_logout(cast, client):
    from tests.factories import PASSWORD

    response = client.post(reverse("login"), {"username": "HELIX.QA@example.com", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_login_failure_says_so(cast, client):
    response = client.post(reverse("login"), {"username": "helix.qa", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct" in response.content.decode()


def test_password_change(cast, client_for):
    from tests.factories import PASSWORD

    client = client_for("helix.viewer")
    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": "a-much-longer-Passphrase-42", "new_password2":
        "a-much-longer-Passphrase-42"})
    assert response.status_code == 302
    cast.users["helix.viewer"].refresh_from_db()
    assert cast.users["helix.viewer"].check_password("a-much-longer-Passphrase-42")
    assert cast.users["helix.viewer"].password.startswith("argon2")


def test_page_titles_are_plain_text(cast, client_for):
    import re

    client = client_for("helix.qa")
    for url in (reverse("home"), reverse("partnership-detail", args=[cast.partnership("helix", "acme").pk]),
                reverse("sites"), reverse("grants")):
        title = re.search(r"<title>(.*?)</title>", client.get(url).content.decode(), re.S).group(1)
        assert "<" not in title and len(title) < 120, (url, title)
