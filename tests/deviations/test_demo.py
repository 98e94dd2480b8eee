"""The demo set: a dozen deviations at Acme in every state, the shared one, a repeat pair, an inconsistent pair,
overdue ones, CAPAs in every state — and each sponsor seeing only its own lines of the shared one."""

from django.core.management import call_command
from django.urls import reverse

from capa.models import Capa
from deviations.models import ConsistencyFlag, Deviation
from tenants import rls


def test_demo_deviations(db, tmp_path, settings, monkeypatch, client):
    settings.VAR_DIR = tmp_path
    monkeypatch.setenv("DEMO_PASSWORD", "seed-test-password")
    call_command("seed_demo", "--quiet-logins")
    call_command("seed_demo", "--quiet-logins")  # converges: no second set
    with rls.system_context("test"):
        deviations = list(Deviation.objects.all())
        assert len(deviations) == 12
        assert {d.state for d in deviations} == set(Deviation.State.values)
        assert any(d.is_repeat for d in deviations)
        assert ConsistencyFlag.objects.filter(state="open").count() == 1
        assert {c.state for c in Capa.objects.all()} == set(Capa.State.values)
        overdue = [d for d in deviations if d.closure_deadline and d.closure_deadline.state == "missed"]
        assert len(overdue) >= 2
        shared = next(d for d in deviations if d.lines.count() == 2)
    from tenants.models import User

    client.force_login(User.objects.get(username="northwind.qa"))
    page = client.get(reverse("deviation-detail", args=[shared.pk])).content.decode()
    assert "NWB-7-C0043" in page and "HLX-101" not in page and "Helix" not in page
