"""The audit trail: captured in the database for every kind of write, append-only, hash-chained, scoped."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import ProgrammingError, connection, transaction
from django.urls import reverse

from part11.audit import reason_for_change, verify_chains
from part11.models import AuditEvent
from qms.dbroles import as_owner
from tenants import rls, services
from tenants.models import Site, User
from tests.tenants.test_rls import GLOBAL_TABLES

# Tables without the audit trigger, each with the reason.
NOT_AUDITED = {
    "part11_auditevent": "the trail itself",
    "tenants_securityevent": "itself an append-only event log (to be folded into the trail)",
    "clocks_deadlinestage": "derived from its audited deadline (due time, rule); firing is evidenced by the outbox",
    "clocks_notification": "the outbox: operational delivery state; every e-mail try is in clocks_deliveryattempt",
    "clocks_deliveryattempt": "itself the append-only record of delivery attempts (tenants cannot write it)",
    "tenants_recordcounter": "the last number issued per kind and year; each number is on its audited record",
}


def events(table, record_id):
    return list(AuditEvent.objects.filter(record_table=table, record_id=record_id).order_by("seq"))


def test_service_write_through_the_api_records_who_what_when_and_request(cast, api_for):
    site = cast.sites["Acme Boston"]
    response = api_for("acme.qa").patch(reverse("api:site-detail", args=[site.pk]),
                                        {"address": "1 New Street", "version": site.version,
                                         "reason": "site moved"}, format="json")
    assert response.status_code == 200
    event = events("tenants_site", site.pk)[-1]
    assert event.action == "update" and event.changes["address"][1] == "1 New Street"
    assert event.changes["address"][0] == site.address
    assert event.actor_user_id == cast.users["acme.qa"].pk
    assert event.actor_membership_id == cast.memberships["acme.qa"].pk
    assert event.organization_id == cast.orgs["acme"].pk
    assert event.request_id == response["X-Request-ID"] and len(event.request_id) == 32
    assert event.occurred_at.tzinfo is not None


def test_bulk_update_and_raw_sql_are_caught(cast):
    Site.objects.filter(organization=cast.orgs["acme"]).update(address="bulk")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tenants_site SET fei_number = '1' WHERE name = 'Borealis Montreal'")
        cursor.execute("DELETE FROM tenants_partnership_sites WHERE site_id = %s", [cast.sites["Acme Cork"].pk])
    assert AuditEvent.objects.filter(record_table="tenants_site", action="update",
                                     changes__address__1="bulk").count() == 2
    montreal = events("tenants_site", cast.sites["Borealis Montreal"].pk)[-1]
    assert montreal.changes == {"fei_number": [cast.sites["Borealis Montreal"].fei_number, "1"]}
    removed = AuditEvent.objects.get(record_table="tenants_partnership_sites", action="delete")
    assert removed.organization_id == cast.orgs["northwind"].pk and removed.partner_organization_id == cast.orgs[
        "acme"].pk


def test_create_and_delete_record_all_fields(cast):
    site = services.site_create(membership=cast.memberships["acme.qa"], name="Acme Raleigh", country="US")
    created = events("tenants_site", site.pk)[0]
    assert created.action == "create" and created.changes["name"] == [None, "Acme Raleigh"]
    Site.objects.filter(pk=site.pk).delete()
    deleted = events("tenants_site", site.pk)[-1]
    assert deleted.action == "delete" and deleted.changes["name"] == ["Acme Raleigh", None]


def test_reason_for_change_is_required_and_recorded(cast):
    site = cast.sites["Acme Boston"]
    with pytest.raises(ValidationError) as info:
        services.site_update(membership=cast.memberships["acme.qa"], site=site, address="x")
    assert "reason" in info.value.message_dict
    assert Site.objects.get(pk=site.pk).address != "x" and not events("tenants_site", site.pk)[1:]
    services.site_update(membership=cast.memberships["acme.qa"], site=Site.objects.get(pk=site.pk), address="x",
                         reason="CAPA-12: address corrected after site visit")
    assert events("tenants_site", site.pk)[-1].reason.startswith("CAPA-12")
    with transaction.atomic(), reason_for_change("bulk correction, CC-88"):
        Site.objects.filter(pk=site.pk).update(address="y")
    assert events("tenants_site", site.pk)[-1].reason == "bulk correction, CC-88"


def test_passwords_never_enter_the_trail(cast):
    user = cast.users["helix.viewer"]
    user.set_password("Another-long-passphrase-1")
    user.save(update_fields=["password"])
    event = events("tenants_user", user.pk)[-1]
    assert event.changes == {"password": ["***", "*** (changed)"]}
    assert event.organization_id is None


def test_no_op_update_writes_nothing(cast):
    before = AuditEvent.objects.count()
    Site.objects.filter(pk=cast.sites["Acme Boston"].pk).update(name="Acme Boston")
    assert AuditEvent.objects.count() == before


def test_app_role_cannot_write_the_trail(cast):
    event = AuditEvent.objects.first()
    for statement in ("UPDATE part11_auditevent SET reason = 'x' WHERE id = %s",
                      "DELETE FROM part11_auditevent WHERE id = %s"):
        with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
            connection.cursor().execute(statement, [event.pk])
    with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
        connection.cursor().execute(
            "INSERT INTO part11_auditevent (seq, record_table, record_id, action, changes, request_id, reason, "
            "occurred_at, prev_hash, hash) VALUES (1, 'x', 1, 'create', '{}', '', '', now(), '', 'forged')")


@pytest.mark.django_db(transaction=True)
def test_trigger_refuses_changes_even_for_the_owner_and_the_chain_detects_tampering(capsys):
    from tests.factories import build_cast

    with transaction.atomic(), rls.system_context("test: build the cast"):
        build_cast()
        checked, broken = verify_chains()
    assert checked > 20 and broken == []
    call_command("verify_audit_trail")
    assert "audit trail intact" in capsys.readouterr().out
    with as_owner():
        with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
            connection.cursor().execute("UPDATE part11_auditevent SET reason = 'x'")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("ALTER TABLE part11_auditevent DISABLE TRIGGER part11_auditevent_append_only")
            cursor.execute("SELECT id, organization_id, seq FROM part11_auditevent WHERE organization_id IS NOT NULL "
                           "ORDER BY organization_id, seq OFFSET 3 LIMIT 1")
            tampered_id, organization_id, seq = cursor.fetchone()
            cursor.execute("UPDATE part11_auditevent SET changes = '{\"name\": [null, \"forged\"]}' WHERE id = %s",
                           [tampered_id])
            cursor.execute("ALTER TABLE part11_auditevent ENABLE TRIGGER part11_auditevent_append_only")
    with pytest.raises(CommandError, match="broken in 1 chain"):
        call_command("verify_audit_trail")
    out = capsys.readouterr().out
    assert f"organization {organization_id}: first broken link at seq {seq} (event {tampered_id})" in out
    assert "content does not match its hash" in out


def test_partners_see_shared_events_others_see_nothing(cast):
    services.site_update(membership=cast.memberships["acme.qa"], site=cast.sites["Acme Boston"], address="y",
                         reason="test")
    for username, expected in (("acme.qa", True), ("borealis.qa", False), ("helix.qa", False)):
        membership = cast.memberships[username]
        with rls.scoped(rls.Context(user_id=membership.user_id, organization_id=membership.organization_id,
                                    membership_id=membership.pk)):
            seen = AuditEvent.objects.filter(record_table="tenants_site",
                                             record_id=cast.sites["Acme Boston"].pk).exists()
        assert seen is expected, username
    helix = cast.memberships["helix.qa"]
    with rls.scoped(rls.Context(user_id=helix.user_id, organization_id=helix.organization_id,
                                membership_id=helix.pk)):
        partnership_events = AuditEvent.objects.filter(record_table="tenants_partnership")
        assert {e.record_id for e in partnership_events} == {cast.partnership("helix", "acme").pk}


def test_every_tenant_table_is_audited(db):
    from django.apps import apps

    tables = {m._meta.db_table for m in apps.get_models(include_auto_created=True)}
    expected = (tables - set(GLOBAL_TABLES) - set(NOT_AUDITED)) | {"tenants_user"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                       "JOIN pg_proc p ON p.oid = t.tgfoid WHERE p.proname = 'qms_audit' AND NOT t.tgisinternal")
        audited = {row[0] for row in cursor.fetchall()}
    assert expected - audited == set(), f"tables without the audit trigger: {sorted(expected - audited)}"


def test_user_deactivation_is_audited_with_the_acting_admin(cast, client_for):
    client = client_for("acme.admin")
    response = client.post(reverse("member-edit", args=[cast.memberships["acme.operator"].pk]), {"role": "operator"})
    assert response.status_code == 302
    event = events("tenants_membership", cast.memberships["acme.operator"].pk)[-1]
    assert event.changes == {"is_active": [True, False]} and event.actor_user_id == cast.users["acme.admin"].pk
    assert User.objects.get(pk=cast.users["acme.operator"].pk).is_active  # the account itself stays
