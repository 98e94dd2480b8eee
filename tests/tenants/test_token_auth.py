"""Tokens are bound to one membership and act within that one organization."""

from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import PASSWORD, MembershipFactory


def issue(username, organization, password=PASSWORD):
    return APIClient().post(reverse("api:token"), {"username": username, "password": password,
                                                   "organization": organization}, format="json")


def token_client(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_issue_token_and_use_it(cast):
    response = issue("acme.qa", "acme")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["membership"]["organization"]["slug"] == "acme"
    me = token_client(body["token"]).get(reverse("api:me")).json()
    assert me["acting_membership"]["organization"]["slug"] == "acme" and me["token_bound"] is True
    assert [m["organization"]["slug"] for m in me["memberships"]] == ["acme"]


def test_token_of_acme_cannot_act_as_any_other_organization(cast):
    # Give acme.qa a second membership, at Borealis: the Acme token must still see only Acme's world.
    MembershipFactory(user=cast.users["acme.qa"], organization=cast.orgs["borealis"], role="qa_approver")
    key = issue("acme.qa", "acme").json()["token"]
    client = token_client(key)
    pairs = {(p["sponsor"]["slug"], p["cmo"]["slug"]) for p in
             client.get(reverse("api:partnership-list")).json()["results"]}
    assert pairs == {("helix", "acme"), ("northwind", "acme")}
    borealis_site = cast.sites["Borealis Montreal"]
    assert client.get(reverse("api:site-detail", args=[borealis_site.pk])).status_code == 404
    switch = client.post(reverse("api:me"), {"organization": "borealis"}, format="json")
    assert switch.status_code == 400
    assert switch.json()["error"]["fields"]["organization"]
    # A session that acts for Borealis cannot override the token either.
    both = APIClient()
    both.force_login(cast.users["acme.qa"])
    assert both.post(reverse("api:me"), {"organization": "borealis"}, format="json").status_code == 200
    assert both.get(reverse("api:site-detail", args=[borealis_site.pk])).status_code == 200
    both.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert both.get(reverse("api:site-detail", args=[borealis_site.pk])).status_code == 404


def test_token_refused_for_organization_user_is_not_member_of(cast):
    response = issue("acme.qa", "helix")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Unable to log in with the provided credentials and organization."
    assert issue("acme.qa", "acme", password="wrong").json() == response.json()
    assert issue("nobody", "acme").json() == response.json()


def test_token_request_validation_names_fields(cast):
    response = APIClient().post(reverse("api:token"), {"username": "acme.qa"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"password", "organization"}


def test_revoked_token_and_deactivated_membership_answer_401(cast):
    key = issue("acme.qa", "acme").json()["token"]
    client = token_client(key)
    assert client.delete(reverse("api:token")).status_code == 204
    assert client.get(reverse("api:me")).status_code == 401

    key2 = issue("acme.operator", "acme").json()["token"]
    membership = cast.memberships["acme.operator"]
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    assert token_client(key2).get(reverse("api:me")).status_code == 401


def test_only_hash_of_token_is_stored(cast):
    from tenants.models import MembershipToken

    key = issue("acme.qa", "acme").json()["token"]
    token = MembershipToken.objects.get()
    assert key not in (token.key_hash, token.prefix) and token.key_hash != key
    assert len(token.key_hash) == 64


def test_session_switch_through_api(cast, api_for):
    MembershipFactory(user=cast.users["auditor"], organization=cast.orgs["northwind"], role="auditor")
    client = api_for("auditor")
    assert client.get(reverse("api:me")).json()["acting_membership"]["organization"]["slug"] == "helix"
    response = client.post(reverse("api:me"), {"organization": "northwind"}, format="json")
    assert response.status_code == 200
    assert response.json()["acting_membership"]["organization"]["slug"] == "northwind"
    assert client.post(reverse("api:me"), {"organization": "acme"}, format="json").status_code == 400
