"""Optional TOTP second factor, required for QA approvers when the organization switches it on."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from tenants import second_factor
from tenants.models import SecurityEvent
from tests.factories import PASSWORD


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def login(client, username):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD}, REMOTE_ADDR="198.51.100.20")


def enrol(cast, username) -> TOTPDevice:
    device = second_factor.enrolment_start(user=cast.users[username])
    second_factor.enrolment_confirm(user=cast.users[username], code=code_for(device))
    device.refresh_from_db()
    return device


def test_enrolment_through_the_page(cast, client_for):
    client = client_for("helix.qa")
    page = client.get(reverse("two-factor")).content.decode()
    assert 'data-testid="totp-qr"' in page
    uri = re.search(r'<img src="([^"]+)"[^>]*data-testid="totp-qr"', page).group(1)
    assert uri.startswith("data:image/svg+xml")
    from urllib.parse import unquote

    svg = unquote(uri.split(",", 1)[1].replace("&amp;", "&").replace("&#x27;", "'"))
    assert re.search(r"<svg xmlns=[\"']http://www.w3.org/2000/svg", svg)  # standalone: renders in an <img>
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page).group(1)
    device = TOTPDevice.objects.get(user=cast.users["helix.qa"], confirmed=False)
    assert secret.replace(" ", "") in __import__("base64").b32encode(device.bin_key).decode()
    bad = client.post(reverse("two-factor"), {"action": "confirm", "code": "000000"})
    assert "not valid" in bad.content.decode()
    good = client.post(reverse("two-factor"), {"action": "confirm", "code": code_for(device)})
    assert good.status_code == 302
    assert TOTPDevice.objects.get(user=cast.users["helix.qa"]).confirmed


def test_login_asks_for_the_code_once_enrolled(cast):
    device = enrol(cast, "acme.qa")
    client = Client()
    assert login(client, "acme.qa").status_code == 302
    response = client.get(reverse("sites"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("verify-second-factor"))
    api = client.get(reverse("api:site-list"))
    assert api.status_code == 403 and api.json()["error"]["code"] == "second_factor_required"
    wrong = client.post(reverse("verify-second-factor"), {"code": "123456", "next": "/sites/"})
    assert wrong.status_code == 200 and "not valid" in wrong.content.decode()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None,
                                                   last_t=-1)
    right = client.post(reverse("verify-second-factor"), {"code": code_for(device), "next": "/sites/"})
    assert right.status_code == 302 and right["Location"] == "/sites/"
    assert client.get(reverse("sites")).status_code == 200


def test_required_for_qa_approvers_when_the_organization_switches_it_on(cast, client_for):
    admin = client_for("helix.admin")
    response = admin.post(reverse("organization-security"), {"require_second_factor": "on", "reason": "policy Q4"})
    assert response.status_code == 302
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SECOND_FACTOR_POLICY)
    assert event.detail == {"required": True} and event.organization == cast.orgs["helix"]
    approver = client_for("helix.qa")
    response = approver.get(reverse("sites"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("two-factor"))
    assert "requires QA approvers" in approver.get(reverse("two-factor")).content.decode()
    assert approver.get(reverse("api:site-list")).json()["error"]["code"] == "second_factor_required"
    # Other roles are not affected.
    assert client_for("helix.viewer").get(reverse("sites")).status_code == 200
    # Without the reason, nothing changes.
    response = admin.post(reverse("organization-security"), {"reason": ""})
    assert "Say why" in response.content.decode()
    cast.orgs["helix"].refresh_from_db()
    assert cast.orgs["helix"].require_second_factor is True


def test_required_policy_through_the_api(cast, api_for):
    response = api_for("northwind.admin").post(
        reverse("api:organization-second-factor", args=["northwind"]), {"required": True, "reason": "policy"},
        format="json")
    assert response.status_code == 200 and response.json()["require_second_factor"] is True
    partner = api_for("acme.admin").post(reverse("api:organization-second-factor", args=["northwind"]),
                                         {"required": False, "reason": "x"}, format="json")
    assert partner.status_code == 403


def _token(username, organization, **extra):
    return APIClient().post(reverse("api:token"), {"username": username, "password": PASSWORD,
                                                   "organization": organization, **extra}, format="json",
                            REMOTE_ADDR="198.51.100.21")


def test_token_needs_the_code_when_enrolled(cast):
    device = enrol(cast, "borealis.qa")
    missing = _token("borealis.qa", "borealis")
    assert missing.status_code == 400 and "otp" in missing.json()["error"]["fields"]
    assert _token("borealis.qa", "borealis", otp="000000").status_code == 400
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None,
                                                   last_t=-1)
    assert _token("borealis.qa", "borealis", otp=code_for(device)).status_code == 201


def test_token_refused_for_required_approver_without_device(cast):
    org = cast.orgs["acme"]
    org.require_second_factor = True
    org.save(update_fields=["require_second_factor"])
    response = _token("acme.qa", "acme")
    assert response.status_code == 400 and "otp" in response.json()["error"]["fields"]
    assert _token("acme.operator", "acme").status_code == 201  # not a QA approver


def test_cannot_remove_required_second_factor(cast, client_for):
    org = cast.orgs["helix"]
    org.require_second_factor = True
    org.save(update_fields=["require_second_factor"])
    device = enrol(cast, "helix.qa")
    client = client_for("helix.qa")
    client.post(reverse("verify-second-factor"), {"code": code_for(device)})
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    response = client.post(reverse("two-factor"), {"action": "remove", "code": code_for(device)})
    assert "cannot be removed" in response.content.decode()
    assert TOTPDevice.objects.filter(user=cast.users["helix.qa"], confirmed=True).exists()


@pytest.mark.parametrize("username", ["helix.qa", "helix.viewer", "auditor"])
def test_non_admins_cannot_change_the_policy(cast, client_for, username):
    assert client_for(username).post(reverse("organization-security"),
                                     {"require_second_factor": "on", "reason": "x"}).status_code == 403
