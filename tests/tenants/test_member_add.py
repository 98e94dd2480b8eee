"""Org admins add members by e-mail; new accounts get a single-use set-password link."""

import re

from django.core import mail
from django.test import Client
from django.urls import reverse

from tenants.models import Membership, User


def test_add_a_new_person_through_the_api_and_set_the_password(cast, api_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for("acme.admin").post(reverse("api:member-list"), {
            "email": "Quinn.Reviewer@acme.example", "first_name": "Quinn", "last_name": "Reyes",
            "role": "qa_reviewer"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["role"] == "qa_reviewer" and body["email"] == "quinn.reviewer@acme.example"
    link = body["set_password_url"]
    assert link and "/account/set-password/" in link
    assert len(mail.outbox) == 1 and link in mail.outbox[0].body
    user = User.objects.get(email="quinn.reviewer@acme.example")
    assert not user.has_usable_password()
    client = Client()
    path = link.split("testserver", 1)[1]
    form_url = client.get(path)["Location"]  # Django swaps the token for a session marker first
    response = client.post(form_url, {"new_password1": "A-long-enough-passphrase-9", "new_password2":
                                      "A-long-enough-passphrase-9"})
    assert response.status_code == 302
    assert client.post(reverse("login"), {"username": "quinn.reviewer@acme.example",
                                          "password": "A-long-enough-passphrase-9"}).status_code == 302
    # The link works once.
    assert "already been used" in Client().get(path, follow=True).content.decode()


def test_existing_account_gains_a_membership_without_a_link(cast, api_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for("acme.admin").post(reverse("api:member-list"), {
            "email": "helix.qa@example.com", "role": "auditor"}, format="json")
    assert response.status_code == 201 and response.json()["set_password_url"] is None
    assert Membership.objects.filter(user=cast.users["helix.qa"], organization=cast.orgs["acme"]).exists()
    assert "existing account" in mail.outbox[0].body


def test_add_errors_name_the_field(cast, api_for):
    client = api_for("acme.admin")
    duplicate = client.post(reverse("api:member-list"), {"email": "acme.qa@example.com", "role": "viewer"},
                            format="json")
    assert duplicate.status_code == 400 and "email" in duplicate.json()["error"]["fields"]
    nameless = client.post(reverse("api:member-list"), {"email": "new@acme.example", "role": "viewer"},
                           format="json")
    assert nameless.status_code == 400 and "first_name" in nameless.json()["error"]["fields"]
    bad_role = client.post(reverse("api:member-list"), {"email": "new@acme.example", "role": "boss"},
                           format="json")
    assert bad_role.status_code == 400 and "role" in bad_role.json()["error"]["fields"]
    assert not User.objects.filter(email="new@acme.example").exists()


def test_only_org_admins_add_members(cast, api_for, client_for):
    assert api_for("acme.qa").post(reverse("api:member-list"), {"email": "x@y.z", "role": "viewer"},
                                   format="json").status_code == 403
    assert client_for("acme.qa").get(reverse("member-create")).status_code == 403


def test_add_through_the_page(cast, client_for):
    client = client_for("borealis.admin")
    response = client.post(reverse("member-create"), {"email": "ops@borealis.example", "first_name": "Olga",
                                                      "last_name": "Paquet", "role": "operator"}, follow=True)
    body = response.content.decode()
    assert "ops@borealis.example" in body and re.search(r"/account/set-password/[^/]+/[^/]+/", body)
    assert Membership.objects.get(user__email="ops@borealis.example").role == "operator"
