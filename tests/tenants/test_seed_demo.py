"""seed_demo loads the documented cast and converges instead of duplicating on a second run."""

from django.core.management import call_command

from changes.demo import REVIEWERS
from tenants import demo
from tenants.models import Membership, Organization, Partnership, Product, Site, User


def counts():
    return tuple(m.objects.count() for m in (Organization, Site, Product, Partnership, User, Membership))


def test_seed_is_idempotent_and_matches_the_cast(db, capsys, monkeypatch, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    monkeypatch.setenv("DEMO_PASSWORD", "seed-test-password")
    call_command("seed_demo")
    first = counts()
    call_command("seed_demo")
    # The cast, the superuser, and the CMOs' QA reviewers who raise the demo changes (changes/demo.py).
    users = len(demo.USERS) + len(REVIEWERS)
    assert counts() == first == (4, 3, 3, 3, users + 1, users)
    out = capsys.readouterr().out
    assert "password for all: seed-test-password" in out
    assert User.objects.get(username="helix.qa").check_password("seed-test-password")
    assert User.objects.get(username="admin").is_superuser
    acme_helix = Partnership.objects.get(sponsor__slug="helix", cmo__slug="acme")
    assert [p.code for p in acme_helix.products.all()] == ["HLX-101"]
    assert Membership.objects.get(user__username="auditor").organization.slug == "helix"
    from tenants.models import AccessGrant

    grant = AccessGrant.objects.get()  # the second run refreshed it rather than adding another
    assert grant.is_live() and grant.grantee_label == "auditor@helix"


def test_generated_password_is_kept(db, monkeypatch, tmp_path, settings, capsys):
    settings.VAR_DIR = tmp_path
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    call_command("seed_demo", "--quiet-logins")
    password = (tmp_path / "demo_password").read_text()
    assert User.objects.get(username="acme.qa").check_password(password)
    call_command("seed_demo", "--quiet-logins")
    assert (tmp_path / "demo_password").read_text() == password
