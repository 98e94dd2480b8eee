"""The route meta-test (DESIGN.md §3.2 layer 3).

1. ``test_every_route_is_declared`` walks every URL pattern and DRF route, with each HTTP method it accepts, and
   fails when a route has neither an isolation matrix below nor a reasoned entry in ``EXEMPT``, or when its
   matrix leaves out a method or one of the actors the model requires.
2. ``test_route_case`` runs every case of every matrix against the real stack (middleware, RLS, selectors).
   The terminal summary prints how many ran (tests/conftest.py); the count only grows.

The targets sit on the Northwind ↔ Borealis side of the cast, so that for each of them there is an owning
organization, a partner, an unpartnered sponsor (Helix), another CMO (Acme), and an auditor (Helix's) who sees
nothing until Northwind gives a live grant on the Northwind ↔ Borealis partnership.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tenants import grants
from tests.factories import Cast

ANON = None
GRANTEE = "auditor+grant"  # Helix's auditor holding a live grant on Northwind ↔ Borealis
MUTATING = {"post", "put", "patch", "delete"}

EXEMPT = {
    "login": "public: the login form",
    "logout": "ends the caller's own session; no tenant data",
    "password_change": "the caller's own password; tested in tests/platform/test_security.py",
    "password_change_done": "static confirmation page",
    "healthz": "public liveness probe, no data",
    "readyz": "public readiness probe, no tenant data",
    "api-schema": "public OpenAPI description, no data",
    "api-docs": "public API documentation page, no data",
    "api:api-root": "DRF's index of links, no data",
    "api:token": "exchanges credentials for a token; tested in tests/tenants/test_token_auth.py",
    "api:me": "the caller's own identity and memberships; tested in tests/tenants/test_token_auth.py",
    "verify-second-factor": "the caller's own second-factor code; tested in tests/platform/test_second_factor.py",
    "two-factor": "the caller's own authenticator enrolment; tested in tests/platform/test_second_factor.py",
    "password_reset_confirm": "public, guarded by a single-use token; tested in tests/tenants/test_member_add.py",
    "password_reset_complete": "static confirmation page",
    "admin:*": "platform superusers only; tenants are redirected to the admin login (test_admin_and_filters.py)",
}


@dataclass(frozen=True)
class Case:
    actor: str | None
    method: str
    status: int
    data: Any = None  # a dict; "grant" / "grant-page" / ...; or a function of the cast (built per test)
    visible: bool | None = None  # list routes: must the target appear in what the actor gets?


@dataclass
class Route:
    name: str  # "api:site-detail" or a page's URL name
    url: Callable[[Cast, Any], str]
    target: Callable[[Cast], Any]
    cases: list[Case] = field(default_factory=list)
    marker: Callable[[Any], str] | None = None  # for pages: text that shows the target is on the page

    @property
    def is_api(self) -> bool:
        return self.name.startswith("api:")


def live_grant(cast: Cast) -> Any:
    now = timezone.now()
    return grants.grant_create(
        membership=cast.memberships["northwind.qa"], partnership=cast.partnership("northwind", "borealis"),
        grantee_username="auditor", grantee_organization="helix", reason="route matrix: supplier audit",
        starts_at=now - dt.timedelta(hours=1), expires_at=now + dt.timedelta(days=1),
    )


def site(cast: Cast) -> Any:
    return cast.sites["Borealis Montreal"]


def product(cast: Cast) -> Any:
    return cast.products["NWB-9"]


def partnership(cast: Cast) -> Any:
    return cast.partnership("northwind", "borealis")


def member(cast: Cast) -> Any:
    return cast.memberships["borealis.qa"]


def stored_file(cast: Cast) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tenants import files

    return files.file_store(membership=cast.memberships["borealis.qa"], record=partnership(cast),
                            upload=SimpleUploadedFile("coa.pdf", PDF))


def signature(cast: Cast) -> Any:
    """Northwind's QA approver reviewed the Northwind ↔ Borealis partnership."""
    from django.test import RequestFactory

    from part11 import signatures
    from tests.factories import PASSWORD

    return signatures.sign(request=RequestFactory().post("/"), membership=cast.memberships["northwind.qa"],
                           record=partnership(cast), step="review", password=PASSWORD)


def audit_event(cast: Cast) -> Any:
    """The latest audit event of the Northwind ↔ Borealis partnership (shared by both parties)."""
    from part11.models import AuditEvent

    return AuditEvent.objects.filter(record_table="tenants_partnership", record_id=partnership(cast).pk).latest("seq")


def deadline(cast: Cast) -> Any:
    """Borealis owes Northwind a report: owned by Borealis, Northwind's QA roles in the audience."""
    from tests.clocks.helpers import route_deadline

    return route_deadline(cast)


def notification(cast: Cast) -> Any:
    """A reminder of that deadline in Borealis's QA approver's notification centre."""
    from tests.clocks.helpers import notification_for

    return notification_for(cast, "borealis.qa", deadline(cast))


def failed_notification(cast: Cast) -> Any:
    from tests.clocks.helpers import notification_for

    return notification_for(cast, "borealis.qa", deadline(cast), email_state="failed")


def closure(cast: Cast) -> Any:
    from tests.clocks.helpers import closure_for

    return closure_for(cast, "borealis")


def _agreements() -> Any:
    from tests.agreements import helpers

    return helpers


def agreement_draft(cast: Cast) -> Any:
    return _agreements().route_draft(cast)


def agreement_complete(cast: Cast) -> Any:
    return _agreements().route_complete(cast)


def agreement_in_review(cast: Cast) -> Any:
    return _agreements().route_in_review(cast)


def agreement_effective(cast: Cast) -> Any:
    return _agreements().route_effective(cast)


def agreement_v2(cast: Cast) -> Any:
    return _agreements().route_second_version(cast)


def consent(cast: Cast) -> Any:
    return _agreements().route_consent(cast)


def own_activity(cast: Cast) -> Any:
    return _agreements().route_activity(cast)


def _deviations() -> Any:
    from tests.deviations import routes

    return routes


def deviation_draft(cast: Cast) -> Any:
    return _deviations().draft(cast)


def deviation(cast: Cast) -> Any:
    """Reported (open) by a Borealis operator at Borealis Montreal, affecting Northwind's NWB-9."""
    return _deviations().reported(cast)


def deviation_classified(cast: Cast) -> Any:
    return _deviations().classified(cast)


def deviation_investigating(cast: Cast) -> Any:
    return _deviations().investigating(cast)


def deviation_pending(cast: Cast) -> Any:
    return _deviations().pending(cast)


def deviation_closed(cast: Cast) -> Any:
    return _deviations().closed(cast)


def deviation_notice(cast: Cast) -> Any:
    return _deviations().notice(cast)


def deviation_extension(cast: Cast) -> Any:
    return _deviations().extension(cast)


def consistency_flag(cast: Cast) -> Any:
    return _deviations().flag(cast)


def root_cause(cast: Cast) -> Any:
    return _deviations().own_cause(cast)


def capa(cast: Cast) -> Any:
    return _deviations().capa(cast)


def capa_action(cast: Cast) -> Any:
    return _deviations().capa_action(cast)


def capa_scheduled(cast: Cast) -> Any:
    return _deviations().capa_scheduled(cast)


def capa_closable(cast: Cast) -> Any:
    return _deviations().capa_closable(cast)


def built(name: str) -> Callable[[Cast], Any]:
    """Case data built by tests/deviations/routes.py from the target as it stands (its version, its lines)."""
    return lambda cast: getattr(_deviations(), name)(cast)


def _start_for(sponsor: str, cmo: str) -> Callable[[Cast], dict[str, Any]]:
    return lambda cast: {"partnership": cast.partnership(sponsor, cmo).pk}


def _consent_for(sponsor: str, cmo: str) -> Callable[[Cast], dict[str, Any]]:
    return lambda cast: {"partnership": cast.partnership(sponsor, cmo).pk, "subcontractor": "Sub GmbH",
                         "site": "Basel", "country": "CH", "activities": ["training"]}


def parties(expect: dict[str | None, int], method: str, data: Any = None) -> list[Case]:
    return [Case(actor, method, status, data) for actor, status in expect.items()]


# Who may write a draft agreement: both parties' QA; a party's org admin (no authoring role) 403; others 404.
DRAFT_WRITERS = {"northwind.qa": 200, "borealis.qa": 200, "northwind.admin": 403, "helix.qa": 404,
                 "acme.qa": 404, "auditor": 404, ANON: 401}
PAGE_WRITERS = {"northwind.qa": 302, "borealis.qa": 302, "northwind.admin": 403, "helix.qa": 404,
                "acme.qa": 404, "auditor": 404, ANON: 302}
PAGE_FORMS = {"northwind.qa": 200, "borealis.qa": 200, "northwind.admin": 403, "helix.qa": 404, "acme.qa": 404,
              "auditor": 404, ANON: 302}
AGREEMENT_READERS = {"northwind.qa": 200, "borealis.qa": 200, "helix.qa": 404, "acme.qa": 404, "auditor": 404,
                     GRANTEE: 404}
SIGN = {"password": "correct-horse-battery-staple"}
OVERRIDE = {**SIGN, "justification": "Route matrix: approval goes ahead, sections follow in v2."}
TERMS_POST = {"title": "QA Northwind–Borealis", "review_interval_months": 24, "deviation_closure_days": 30,
              "batch_review_days": 10, "change_notice_lead_days": 30, "audit_right": "on", "version": 1}

EXTEND = {"due_date": "2027-06-30", "reason": "route matrix: approved by the sponsor", "version": 1}
CLOSURE = {"calendar": "us_federal", "date": "2026-12-24", "reason": "route matrix: federal closure"}
EVERY_MEMBER = {"borealis.qa": 200, "helix.qa": 200, "acme.qa": 200, "auditor": 200}

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def detail(name: str, key: str = "pk") -> Callable[[Cast, Any], str]:
    return lambda cast, obj: reverse(name, args=[getattr(obj, key)])


def listing(name: str) -> Callable[[Cast, Any], str]:
    return lambda cast, obj: reverse(name)


def reads(expect: dict[str | None, int], method: str = "get") -> list[Case]:
    return [Case(actor, method, status) for actor, status in expect.items()]


def sees(expect: dict[str | None, bool | int], method: str = "get") -> list[Case]:
    """List routes: ``True``/``False`` is "200 and the target is (not) there"; an int is a status."""
    return [Case(actor, method, 200, visible=v) if isinstance(v, bool) else Case(actor, method, v)
            for actor, v in expect.items()]


SITE_PUT = {"name": "Borealis Montreal", "country": "CA", "fei_number": "3012345678", "version": 1,
            "reason": "route matrix"}
SITE_PAGE_POST = {**SITE_PUT, "is_active": "on"}
PRODUCT_PUT = {"code": "NWB-9", "name": "Borvacimab", "dosage_form": "Infusion", "modality": "biologic",
               "version": 1, "reason": "route matrix"}
PRODUCT_PAGE_POST = {**PRODUCT_PUT, "is_active": "on", "markets": ["US"]}


def _grant_post(cast: Cast) -> dict[str, Any]:
    return {"partnership": partnership(cast).pk, "grantee_username": "auditor", "grantee_organization": "helix",
            "reason": "audit", "expires_at": (timezone.now() + dt.timedelta(days=1)).isoformat()}


# Deviations and CAPA: Borealis (the CMO) owns them; Northwind, whose NWB-9 they affect, reads them; the sponsor's
# partner actions are comments and acknowledging its notices. A grant on the partnership does not reach them.
DEVIATION_READERS = {"borealis.qa": 200, "borealis.admin": 200, "northwind.qa": 200, "northwind.admin": 200,
                     "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 404}
# Extension requests, consistency flags: Borealis's alone (Northwind gets 404 like everyone else).
CMO_ONLY_READERS = {"borealis.qa": 200, "borealis.admin": 200, "northwind.qa": 404, "helix.qa": 404, "acme.qa": 404,
                    "auditor": 404, GRANTEE: 404}
# Writes on a Borealis deviation or CAPA: its QA approver; its org admin (no authoring role) and the partner 403.
CMO_WRITES = {"borealis.qa": 200, "borealis.admin": 403, "northwind.qa": 403, "helix.qa": 404, "acme.qa": 404,
              "auditor": 404, GRANTEE: 404, ANON: 401}
CMO_PAGE_FORMS = {"borealis.qa": 200, "borealis.admin": 403, "northwind.qa": 403, "helix.qa": 404, "acme.qa": 404,
                  "auditor": 404, GRANTEE: 404, ANON: 302}
CMO_PAGE_WRITES = {**CMO_PAGE_FORMS, "borealis.qa": 302}
CMO_ONLY_WRITES = {**CMO_WRITES, "northwind.qa": 404}
CMO_ONLY_PAGE_FORMS = {**CMO_PAGE_FORMS, "northwind.qa": 404}
CMO_ONLY_PAGE_WRITES = {**CMO_PAGE_WRITES, "northwind.qa": 404}
CANCEL = {"reason": "Route matrix: raised in error", **SIGN}


ROUTES: list[Route] = [
    # --- API -------------------------------------------------------------------------------------------------
    Route("api:site-detail", detail("api:site-detail"), site, [
        *reads({"borealis.qa": 200, "northwind.qa": 200, "helix.qa": 404, "acme.qa": 404, "auditor": 404,
                GRANTEE: 200, ANON: 401}),
        *[Case(a, "patch", s, {"address": "Rue Sherbrooke 1200", "version": 1, "reason": "moved"}) for a, s in {
            "borealis.qa": 200, "northwind.qa": 403, "helix.qa": 404, "acme.qa": 404, GRANTEE: 403, ANON: 401}.items()],
        *[Case(a, "put", s, SITE_PUT) for a, s in {"borealis.qa": 200, "northwind.qa": 403, "acme.qa": 404,
                                                   ANON: 401}.items()],
    ]),
    Route("api:site-list", listing("api:site-list"), site, [
        *sees({"borealis.qa": True, "northwind.qa": True, "helix.qa": False, "acme.qa": False, "auditor": False,
               GRANTEE: True, ANON: 401}),
        Case("borealis.qa", "post", 201, {"name": "Borealis Laval", "country": "CA"}),
        Case("helix.qa", "post", 400, {"name": "Helix Plant", "country": "US"}),
        Case("auditor", "post", 403, {"name": "x", "country": "US"}),
        Case(ANON, "post", 401, {"name": "x", "country": "US"}),
    ]),
    Route("api:product-detail", detail("api:product-detail"), product, [
        *reads({"northwind.qa": 200, "borealis.qa": 200, "helix.qa": 404, "acme.qa": 404, "auditor": 404,
                GRANTEE: 200, ANON: 401}),
        *[Case(a, "patch", s, {"dosage_form": "Concentrate", "version": 1, "reason": "new form"}) for a, s in {
            "northwind.qa": 200, "borealis.qa": 403, "helix.qa": 404, "acme.qa": 404, GRANTEE: 403, ANON: 401}.items()],
        *[Case(a, "put", s, PRODUCT_PUT) for a, s in {"northwind.qa": 200, "borealis.qa": 403, "acme.qa": 404,
                                                      ANON: 401}.items()],
    ]),
    Route("api:product-list", listing("api:product-list"), product, [
        *sees({"northwind.qa": True, "borealis.qa": True, "helix.qa": False, "acme.qa": False, "auditor": False,
               GRANTEE: True, ANON: 401}),
        Case("northwind.qa", "post", 201, {"code": "NWB-10", "name": "x", "dosage_form": "Vial",
                                           "modality": "biologic"}),
        Case("borealis.qa", "post", 400, {"code": "B-1", "name": "x", "dosage_form": "Vial", "modality": "biologic"}),
        Case("auditor", "post", 403, {"code": "A-1"}),
        Case(ANON, "post", 401, {"code": "A-1"}),
    ]),
    Route("api:partnership-detail", detail("api:partnership-detail"), partnership, reads({
        "northwind.qa": 200, "borealis.qa": 200, "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 200,
        ANON: 401})),
    Route("api:partnership-list", listing("api:partnership-list"), partnership, sees({
        "northwind.qa": True, "borealis.qa": True, "helix.qa": False, "acme.qa": False, "auditor": False,
        GRANTEE: True, ANON: 401})),
    Route("api:partnership-pdf", detail("api:partnership-pdf"), partnership, reads({
        "northwind.qa": 200, "borealis.qa": 200, "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 200,
        ANON: 401})),
    Route("api:organization-detail", detail("api:organization-detail", "slug"), lambda c: c.orgs["borealis"], reads({
        "borealis.qa": 200, "northwind.qa": 200, "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 200,
        ANON: 401})),
    Route("api:organization-list", listing("api:organization-list"), lambda c: c.orgs["borealis"], sees({
        "borealis.qa": True, "northwind.qa": True, "helix.qa": False, "acme.qa": False, "auditor": False,
        GRANTEE: True, ANON: 401})),
    Route("api:organization-second-factor", detail("api:organization-second-factor", "slug"),
          lambda c: c.orgs["borealis"], [
              Case(a, "post", s, {"required": True, "reason": "route matrix"}) for a, s in {
                  "borealis.admin": 200, "borealis.qa": 403, "northwind.admin": 403, "helix.admin": 404,
                  "acme.admin": 404, "auditor": 404, GRANTEE: 403, ANON: 401}.items()]),
    Route("api:member-detail", detail("api:member-detail"), member, [
        *reads({"borealis.admin": 200, "borealis.qa": 403, "northwind.admin": 404, "helix.admin": 404,
                "acme.admin": 404, "auditor": 403, GRANTEE: 403, ANON: 401}),
        *[Case(a, "patch", s, {"role": "qa_reviewer"}) for a, s in {
            "borealis.admin": 200, "borealis.qa": 403, "northwind.admin": 404, "acme.admin": 404, ANON: 401}.items()],
        *[Case(a, "put", s, {"role": "qa_reviewer", "is_active": True}) for a, s in {
            "borealis.admin": 200, "helix.admin": 404, ANON: 401}.items()],
    ]),
    Route("api:member-list", listing("api:member-list"), member, [
        *sees({"borealis.admin": True, "northwind.admin": False, "helix.admin": False, "acme.admin": False,
               "borealis.qa": 403, "auditor": 403, ANON: 401}),
        Case("borealis.admin", "post", 201, {"email": "new@borealis.example", "first_name": "N", "last_name": "M",
                                             "role": "viewer"}),
        Case("acme.admin", "post", 201, {"email": "new@acme.example", "first_name": "N", "last_name": "M",
                                         "role": "viewer"}),  # into Acme, its own organization
        Case("borealis.qa", "post", 403, {"email": "x@borealis.example", "role": "viewer"}),
        Case("helix.qa", "post", 403, {"email": "x@helix.example", "role": "viewer"}),
        Case("auditor", "post", 403, {"email": "x@helix.example", "role": "viewer"}),
        Case(ANON, "post", 401, {"email": "x@y.example", "role": "viewer"}),
    ]),
    Route("api:grant-detail", detail("api:grant-detail"), live_grant, reads({
        "northwind.qa": 200, "borealis.qa": 404, "helix.qa": 404, "acme.qa": 404, GRANTEE: 200, ANON: 401})),
    Route("api:grant-revoke", detail("api:grant-revoke"), live_grant, [
        Case(a, "post", s, {"reason": "route matrix"}) for a, s in {
            "northwind.qa": 200, "borealis.qa": 404, "helix.qa": 404, "acme.qa": 404, GRANTEE: 403,
            ANON: 401}.items()]),
    Route("api:grant-list", listing("api:grant-list"), live_grant, [
        *sees({"northwind.qa": True, "borealis.qa": False, "helix.qa": False, "acme.qa": False, GRANTEE: True,
               ANON: 401}),
        Case("northwind.qa", "post", 201, "grant"),
        Case("borealis.qa", "post", 400, "grant"),
        Case("auditor", "post", 403, "grant"),
        Case(ANON, "post", 401, "grant"),
    ]),
    Route("api:file-detail", detail("api:file-detail"), stored_file, reads({
        "borealis.qa": 200, "northwind.qa": 200, "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 200,
        ANON: 401})),
    Route("api:file-download", detail("api:file-download"), stored_file, reads({
        "borealis.qa": 200, "northwind.qa": 200, "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 200,
        ANON: 401})),
    Route("api:file-list", listing("api:file-list"), stored_file, [
        *sees({"borealis.qa": True, "northwind.qa": True, "helix.qa": False, "acme.qa": False, "auditor": False,
               GRANTEE: True, ANON: 401}),
        Case("northwind.qa", "post", 201, "upload"),
        Case("acme.qa", "post", 404, "upload"),
        Case("helix.qa", "post", 404, "upload"),
        Case("auditor", "post", 403, "upload"),
        Case(ANON, "post", 401, "upload"),
    ]),
    Route("api:audit-event-list", listing("api:audit-event-list"), lambda c: audit_event(c), sees({
        "borealis.qa": True, "northwind.qa": True, "helix.qa": False, "acme.qa": False, "auditor": False,
        "borealis.admin": True, "acme.operator": 403, ANON: 401})),
    Route("api:audit-event-detail", detail("api:audit-event-detail"), lambda c: audit_event(c), reads({
        "borealis.qa": 200, "northwind.qa": 200, "helix.qa": 404, "acme.qa": 404, "auditor": 404,
        "acme.operator": 403, ANON: 401})),
    Route("api:audit-event-reviewed", listing("api:audit-event-reviewed"), partnership, [
        Case(a, "post", s, "record-ref") for a, s in {
            "northwind.qa": 201, "borealis.qa": 201, "helix.qa": 404, "acme.qa": 404, "auditor": 403,
            GRANTEE: 403, "acme.operator": 403, ANON: 401}.items()]),
    Route("api:audit-event-export", listing("api:audit-event-export"), lambda c: audit_event(c), reads({
        "borealis.qa": 200, "helix.qa": 200, "acme.qa": 200, "auditor": 200, "acme.operator": 403, ANON: 401})),
    Route("api:signature-list", listing("api:signature-list"), signature, [
        *sees({"northwind.qa": True, "borealis.qa": True, "helix.qa": False, "acme.qa": False, "auditor": False,
               GRANTEE: True, ANON: 401}),
        *[Case(a, "post", s, "sign") for a, s in {
            "borealis.qa": 201, "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 403, ANON: 401}.items()],
    ]),
    Route("api:signature-detail", detail("api:signature-detail"), signature, reads({
        "northwind.qa": 200, "borealis.qa": 200, "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 200,
        ANON: 401})),
    Route("api:signature-verify", detail("api:signature-verify"), signature, reads({
        "northwind.qa": 200, "borealis.qa": 200, "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 200,
        ANON: 401})),
    # Clocks: Borealis owns the deadline, Northwind is told; grants on the partnership do not extend to clocks.
    Route("api:deadline-list", listing("api:deadline-list"), deadline, sees({
        "borealis.qa": True, "northwind.qa": True, "borealis.admin": True, "helix.qa": False, "acme.qa": False,
        "auditor": False, GRANTEE: False, ANON: 401})),
    Route("api:deadline-mine", listing("api:deadline-mine"), deadline, sees({
        "borealis.qa": True, "northwind.qa": True, "borealis.admin": False, "northwind.admin": False,
        "helix.qa": False, "acme.qa": False, "auditor": False, ANON: 401})),
    Route("api:deadline-detail", detail("api:deadline-detail"), deadline, reads({
        "borealis.qa": 200, "northwind.qa": 200, "borealis.admin": 200, "helix.qa": 404, "acme.qa": 404,
        "auditor": 404, GRANTEE: 404, ANON: 401})),
    Route("api:deadline-extend", detail("api:deadline-extend"), deadline, [
        Case(a, "post", s, EXTEND) for a, s in {
            "borealis.qa": 200, "northwind.qa": 403, "borealis.admin": 403, "helix.qa": 404, "acme.qa": 404,
            "auditor": 404, GRANTEE: 404, ANON: 401}.items()]),
    Route("api:deadline-complete", detail("api:deadline-complete"), deadline, [
        Case(a, "post", s) for a, s in {
            "borealis.qa": 200, "northwind.qa": 403, "borealis.admin": 403, "helix.qa": 404, "acme.qa": 404,
            "auditor": 404, ANON: 401}.items()]),
    Route("api:deadline-cancel", detail("api:deadline-cancel"), deadline, [
        Case(a, "post", s, {"reason": "route matrix"}) for a, s in {
            "borealis.qa": 200, "northwind.qa": 403, "borealis.admin": 403, "helix.qa": 404, "acme.qa": 404,
            "auditor": 404, ANON: 401}.items()]),
    Route("api:notification-list", listing("api:notification-list"), notification, sees({
        "borealis.qa": True, "borealis.admin": False, "northwind.qa": False, "helix.qa": False, "acme.qa": False,
        "auditor": False, ANON: 401})),
    Route("api:notification-detail", detail("api:notification-detail"), notification, reads({
        "borealis.qa": 200, "borealis.admin": 404, "northwind.qa": 404, "helix.qa": 404, "acme.qa": 404,
        "auditor": 404, ANON: 401})),
    Route("api:notification-read", detail("api:notification-read"), notification, [
        Case(a, "post", s) for a, s in {
            "borealis.qa": 200, "borealis.admin": 404, "northwind.qa": 404, "helix.qa": 404, "acme.qa": 404,
            "auditor": 404, ANON: 401}.items()]),
    Route("api:notification-unread-count", listing("api:notification-unread-count"), notification,
          reads({**EVERY_MEMBER, ANON: 401})),
    Route("api:notification-read-all", listing("api:notification-read-all"), notification,
          reads({**EVERY_MEMBER, ANON: 401}, method="post")),
    Route("api:notification-failure-list", listing("api:notification-failure-list"), failed_notification, sees({
        "borealis.admin": True, "northwind.admin": False, "helix.admin": False, "acme.admin": False,
        "borealis.qa": 403, "auditor": 403, ANON: 401})),
    Route("api:notification-failure-detail", detail("api:notification-failure-detail"), failed_notification, reads({
        "borealis.admin": 200, "borealis.qa": 403, "northwind.admin": 404, "helix.admin": 404, "acme.admin": 404,
        "auditor": 403, ANON: 401})),
    Route("api:notification-failure-retry", detail("api:notification-failure-retry"), failed_notification, [
        Case(a, "post", s) for a, s in {
            "borealis.admin": 200, "borealis.qa": 403, "northwind.admin": 404, "helix.admin": 404,
            "acme.admin": 404, "auditor": 403, ANON: 401}.items()]),
    Route("api:closure-day-list", listing("api:closure-day-list"), closure, [
        *sees({"borealis.qa": True, "borealis.admin": True, "northwind.qa": False, "helix.qa": False,
               "acme.qa": False, "auditor": False, ANON: 401}),
        Case("borealis.qa", "post", 201, CLOSURE),
        Case("helix.viewer", "post", 403, CLOSURE),
        Case("acme.operator", "post", 403, CLOSURE),
        Case("auditor", "post", 403, CLOSURE),
        Case(ANON, "post", 401, CLOSURE),
    ]),
    Route("api:closure-day-detail", detail("api:closure-day-detail"), closure, reads({
        "borealis.qa": 200, "northwind.qa": 404, "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 404,
        ANON: 401})),
    Route("api:closure-day-withdraw", detail("api:closure-day-withdraw"), closure, [
        Case(a, "post", s, {"reason": "route matrix"}) for a, s in {
            "borealis.qa": 200, "northwind.qa": 404, "helix.qa": 404, "acme.qa": 404, "auditor": 404,
            ANON: 401}.items()]),
    Route("api:calendar", lambda c, o: reverse("api:calendar", args=["us_federal"]), closure,
          reads({**EVERY_MEMBER, ANON: 401})),
    # Agreements: only the two parties of Northwind ↔ Borealis; a grant on the partnership does not reach them.
    Route("api:agreement-list", listing("api:agreement-list"), agreement_draft, [
        *sees({"northwind.qa": True, "borealis.qa": True, "helix.qa": False, "acme.qa": False, "auditor": False,
               GRANTEE: False, ANON: 401}),
        Case("acme.qa", "post", 201, _start_for("helix", "acme")),
        Case("borealis.qa", "post", 400, _start_for("helix", "acme")),  # not its partnership
        Case("northwind.qa", "post", 400, _start_for("northwind", "borealis")),  # a draft is already open
        Case("helix.viewer", "post", 403, _start_for("helix", "acme")),
        Case("auditor", "post", 403, _start_for("helix", "acme")),
        Case(ANON, "post", 401, _start_for("helix", "acme")),
    ]),
    Route("api:agreement-detail", detail("api:agreement-detail"), agreement_draft, [
        *reads({**AGREEMENT_READERS, ANON: 401}),
        *parties(DRAFT_WRITERS, "patch", {"title": "Renamed", "version": 1}),
    ]),
    Route("api:agreement-sections", detail("api:agreement-sections"), agreement_draft,
          parties(DRAFT_WRITERS, "put", {"key": "scope", "body": "NWB-9 at Montreal", "version": 1})),
    Route("api:agreement-raci", detail("api:agreement-raci"), agreement_draft,
          parties(DRAFT_WRITERS, "put", {"rows": {"capa": {"sponsor": "I", "cmo": "RA"}}, "version": 1})),
    Route("api:agreement-windows", detail("api:agreement-windows"), agreement_draft, parties(DRAFT_WRITERS, "put", {
        "windows": {"oos": {"amount": 2, "unit": "business_days", "calendar": "us_federal"}}, "version": 1})),
    Route("api:agreement-data-sharing", detail("api:agreement-data-sharing"), agreement_draft, parties(
        DRAFT_WRITERS, "put", {"terms": [{"data": "Executed batch records", "format": "PDF",
                                          "frequency": "per batch"}]})),
    Route("api:agreement-findings", detail("api:agreement-findings"), agreement_draft,
          reads({**AGREEMENT_READERS, ANON: 401})),
    Route("api:agreement-submit", detail("api:agreement-submit"), agreement_complete,
          parties(DRAFT_WRITERS, "post")),
    Route("api:agreement-return-to-draft", detail("api:agreement-return-to-draft"), agreement_in_review,
          parties(DRAFT_WRITERS, "post", {"reason": "route matrix"})),
    Route("api:agreement-approve", detail("api:agreement-approve"), agreement_in_review,
          parties(DRAFT_WRITERS, "post", SIGN)),
    Route("api:agreement-override", detail("api:agreement-override"), agreement_in_review,
          parties(DRAFT_WRITERS, "post", OVERRIDE)),
    Route("api:agreement-terminate", detail("api:agreement-terminate"), agreement_effective,
          parties(DRAFT_WRITERS, "post", {"reason": "route matrix: supply ends"})),
    Route("api:agreement-comparison", detail("api:agreement-comparison"), agreement_v2,
          reads({**AGREEMENT_READERS, ANON: 401})),
    Route("api:agreement-pdf", detail("api:agreement-pdf"), agreement_draft, reads({**AGREEMENT_READERS, ANON: 401})),
    Route("api:consent-list", listing("api:consent-list"), consent, [
        *sees({"northwind.qa": True, "borealis.qa": True, "helix.qa": False, "acme.qa": False, "auditor": False,
               GRANTEE: False, ANON: 401}),
        Case("borealis.qa", "post", 201, _consent_for("northwind", "borealis")),
        Case("northwind.qa", "post", 403, _consent_for("northwind", "borealis")),  # the CMO declares them
        Case("acme.qa", "post", 400, _consent_for("northwind", "borealis")),  # not its partnership
        Case("helix.viewer", "post", 403, _consent_for("helix", "acme")),
        Case("auditor", "post", 403, _consent_for("helix", "acme")),
        Case(ANON, "post", 401, _consent_for("helix", "acme")),
    ]),
    Route("api:consent-detail", detail("api:consent-detail"), consent, reads({**AGREEMENT_READERS, ANON: 401})),
    Route("api:consent-approve", detail("api:consent-approve"), consent, parties({
        "northwind.qa": 200, "borealis.qa": 403, "northwind.admin": 403, "helix.qa": 404, "acme.qa": 404,
        "auditor": 404, ANON: 401}, "post", SIGN)),
    Route("api:consent-withdraw", detail("api:consent-withdraw"), consent, parties({
        "northwind.qa": 200, "borealis.qa": 200, "northwind.admin": 403, "helix.qa": 404, "acme.qa": 404,
        "auditor": 404, ANON: 401}, "post", {"reason": "route matrix"})),
    Route("api:gmp-activity-list", listing("api:gmp-activity-list"), own_activity, [
        *[Case(a, "get", 200, visible=v) for a, v in {
            "borealis.qa": True, "northwind.qa": False, "helix.qa": False, "acme.qa": False,
            "auditor": False}.items()],
        Case(ANON, "get", 401),
        Case("borealis.qa", "post", 201, {"code": "visual_inspection", "name": "Visual inspection",
                                          "critical": True}),
        Case("helix.viewer", "post", 403, {"code": "x", "name": "x", "critical": False}),
        Case("auditor", "post", 403, {"code": "x", "name": "x", "critical": False}),
        Case(ANON, "post", 401, {"code": "x", "name": "x", "critical": False}),
    ]),
    Route("api:gmp-activity-detail", detail("api:gmp-activity-detail"), own_activity, reads({
        "borealis.qa": 200, "northwind.qa": 404, "helix.qa": 404, "acme.qa": 404, "auditor": 404, ANON: 401})),
    # --- Pages -------------------------------------------------------------------------------------------------
    Route("agreements", listing("agreements"), agreement_draft, sees({
        "northwind.qa": True, "borealis.qa": True, "helix.qa": False, "acme.qa": False, "auditor": False,
        GRANTEE: False, ANON: 302}), marker=lambda a: f'href="/agreements/{a.pk}/"'),
    Route("agreement-start", listing("agreement-start"), agreement_draft, [
        *reads({"northwind.qa": 200, "acme.qa": 200, "helix.viewer": 403, "auditor": 403, ANON: 302}),
        Case("acme.qa", "post", 302, _start_for("helix", "acme")),
        Case("northwind.qa", "post", 200, _start_for("northwind", "borealis")),  # refused: a draft is open
        Case("helix.viewer", "post", 403, _start_for("helix", "acme")),
        Case("auditor", "post", 403, _start_for("helix", "acme")),
        Case(ANON, "post", 302, _start_for("helix", "acme")),
    ]),
    Route("agreement-detail", detail("agreement-detail"), agreement_draft, reads({**AGREEMENT_READERS, ANON: 302})),
    Route("agreement-terms", detail("agreement-terms"), agreement_draft, [
        *reads(PAGE_FORMS), *parties(PAGE_WRITERS, "post", TERMS_POST)]),
    Route("agreement-section", lambda c, a: reverse("agreement-section", args=[a.pk, "scope"]), agreement_draft, [
        *reads(PAGE_FORMS), *parties(PAGE_WRITERS, "post", {"body": "NWB-9 at Montreal", "version": 1})]),
    Route("agreement-raci", detail("agreement-raci"), agreement_draft, [
        *reads(PAGE_FORMS), *parties(PAGE_WRITERS, "post", {"version": 1, "sponsor-capa": "I", "cmo-capa": "RA"})]),
    Route("agreement-raci-add", detail("agreement-raci-add"), agreement_draft, [
        *reads(PAGE_FORMS), *parties(PAGE_WRITERS, "post", {"code": "media-fill", "name": "Media fill",
                                                            "critical": "on"})]),
    Route("agreement-windows", detail("agreement-windows"), agreement_draft, [
        *reads(PAGE_FORMS), *parties(PAGE_WRITERS, "post", {"version": 1, "amount-oos": 2,
                                                            "unit-oos": "business_days",
                                                            "calendar-oos": "us_federal"})]),
    Route("agreement-data-sharing", detail("agreement-data-sharing"), agreement_draft, [
        *reads(PAGE_FORMS), *parties(PAGE_WRITERS, "post", {"terms": "Executed batch records | PDF | per batch"})]),
    Route("agreement-submit", detail("agreement-submit"), agreement_complete, parties(PAGE_WRITERS, "post")),
    Route("agreement-return", detail("agreement-return"), agreement_in_review, [
        *reads(PAGE_FORMS), *parties(PAGE_WRITERS, "post", {"reason": "route matrix"})]),
    Route("agreement-approve", detail("agreement-approve"), agreement_in_review, [
        *reads(PAGE_FORMS), *parties(PAGE_WRITERS, "post", SIGN)]),
    Route("agreement-override", detail("agreement-override"), agreement_in_review, [
        *reads(PAGE_FORMS), *parties(PAGE_WRITERS, "post", OVERRIDE)]),
    Route("agreement-terminate", detail("agreement-terminate"), agreement_effective, [
        *reads(PAGE_FORMS), *parties(PAGE_WRITERS, "post", {"reason": "route matrix: supply ends"})]),
    Route("agreement-compare", detail("agreement-compare"), agreement_v2, reads({**AGREEMENT_READERS, ANON: 302})),
    Route("agreement-pdf", detail("agreement-pdf"), agreement_draft, reads({
        **AGREEMENT_READERS, "borealis.admin": 200, "helix.viewer": 403, ANON: 302})),
    Route("consents", listing("consents"), consent, sees({
        "northwind.qa": True, "borealis.qa": True, "helix.qa": False, "acme.qa": False, "auditor": False,
        GRANTEE: False, ANON: 302}), marker=lambda c: "Nordic Sterility Labs"),
    Route("consent-propose", listing("consent-propose"), consent, [
        Case("borealis.qa", "post", 302, _consent_for("northwind", "borealis")),
        Case("northwind.qa", "post", 400, _consent_for("northwind", "borealis")),  # not a CMO: refused
        Case("helix.viewer", "post", 403, _consent_for("helix", "acme")),
        Case("auditor", "post", 403, _consent_for("helix", "acme")),
        Case("acme.operator", "post", 403, _consent_for("helix", "acme")),
        Case(ANON, "post", 302, _consent_for("helix", "acme")),
    ]),
    Route("consent-approve", detail("consent-approve"), consent, [
        *reads({"northwind.qa": 200, "borealis.qa": 200, "northwind.admin": 403, "helix.qa": 404, "acme.qa": 404,
                "auditor": 404, ANON: 302}),
        *parties({"northwind.qa": 302, "borealis.qa": 403, "northwind.admin": 403, "helix.qa": 404,
                  "acme.qa": 404, "auditor": 404, ANON: 302}, "post", SIGN),
    ]),
    Route("consent-withdraw", detail("consent-withdraw"), consent, [
        *reads({"northwind.qa": 200, "borealis.qa": 200, "northwind.admin": 403, "helix.qa": 404, "acme.qa": 404,
                "auditor": 404, ANON: 302}),
        *parties(PAGE_WRITERS, "post", {"reason": "route matrix"}),
    ]),
    # --- Pages -------------------------------------------------------------------------------------------------
    Route("my-deadlines", listing("my-deadlines"), deadline, sees({
        "borealis.qa": True, "northwind.qa": True, "borealis.admin": False, "helix.qa": False, "acme.qa": False,
        "auditor": False, GRANTEE: False, ANON: 302}), marker=lambda d: f'href="/deadlines/{d.pk}/"'),
    Route("deadlines", listing("deadlines"), deadline, sees({
        "borealis.qa": True, "northwind.qa": True, "borealis.admin": True, "helix.qa": False, "acme.qa": False,
        "auditor": False, GRANTEE: False, ANON: 302}), marker=lambda d: f'href="/deadlines/{d.pk}/"'),
    Route("deadline-detail", detail("deadline-detail"), deadline, reads({
        "borealis.qa": 200, "northwind.qa": 200, "borealis.admin": 200, "helix.qa": 404, "acme.qa": 404,
        "auditor": 404, GRANTEE: 404, ANON: 302})),
    Route("deadline-extend", detail("deadline-extend"), deadline, [
        *reads({"borealis.qa": 200, "northwind.qa": 403, "borealis.admin": 403, "helix.qa": 404, "acme.qa": 404,
                "auditor": 404, ANON: 302}),
        *[Case(a, "post", s, EXTEND) for a, s in {
            "borealis.qa": 302, "northwind.qa": 403, "borealis.admin": 403, "helix.qa": 404, "acme.qa": 404,
            "auditor": 404, ANON: 302}.items()],
    ]),
    Route("deadline-complete", detail("deadline-complete"), deadline, [
        Case(a, "post", s) for a, s in {
            "borealis.qa": 302, "northwind.qa": 403, "borealis.admin": 403, "helix.qa": 404, "acme.qa": 404,
            "auditor": 404, ANON: 302}.items()]),
    Route("deadline-cancel", detail("deadline-cancel"), deadline, [
        *reads({"borealis.qa": 200, "northwind.qa": 403, "borealis.admin": 403, "helix.qa": 404, "acme.qa": 404,
                "auditor": 404, ANON: 302}),
        *[Case(a, "post", s, {"reason": "route matrix"}) for a, s in {
            "borealis.qa": 302, "northwind.qa": 403, "helix.qa": 404, "acme.qa": 404, "auditor": 404,
            ANON: 302}.items()],
    ]),
    Route("notifications", listing("notifications"), notification, sees({
        "borealis.qa": True, "borealis.admin": False, "northwind.qa": False, "helix.qa": False, "acme.qa": False,
        "auditor": False, ANON: 302}), marker=lambda n: f'data-testid="notification-{n.pk}"'),
    Route("notification-badge", listing("notification-badge"), notification, reads({
        **{a: 200 for a in EVERY_MEMBER}, ANON: 302})),
    Route("notifications-read-all", listing("notifications-read-all"), notification, reads({
        **{a: 302 for a in EVERY_MEMBER}, ANON: 302}, method="post")),
    Route("notification-open", detail("notification-open"), notification, [
        Case(a, "post", s) for a, s in {
            "borealis.qa": 302, "borealis.admin": 404, "northwind.qa": 404, "helix.qa": 404, "acme.qa": 404,
            "auditor": 404, ANON: 302}.items()]),
    Route("notification-failures", listing("notification-failures"), failed_notification, sees({
        "borealis.admin": True, "northwind.admin": False, "helix.admin": False, "acme.admin": False,
        "borealis.qa": 403, "auditor": 403, ANON: 302}),
        marker=lambda n: f'action="/notifications/failures/{n.pk}/retry/"'),
    Route("notification-retry", detail("notification-retry"), failed_notification, [
        Case(a, "post", s) for a, s in {
            "borealis.admin": 302, "borealis.qa": 403, "northwind.admin": 404, "helix.admin": 404,
            "acme.admin": 404, "auditor": 403, ANON: 302}.items()]),
    Route("calendars", listing("calendars"), closure, sees({
        "borealis.qa": True, "borealis.admin": True, "northwind.qa": False, "helix.qa": False, "acme.qa": False,
        "auditor": False, ANON: 302}), marker=lambda c: c.reason),
    Route("closure-add", listing("closure-add"), closure, [
        Case("borealis.qa", "post", 302, CLOSURE),
        Case("helix.viewer", "post", 403, CLOSURE),
        Case("acme.operator", "post", 403, CLOSURE),
        Case("auditor", "post", 403, CLOSURE),
        Case(ANON, "post", 302, CLOSURE),
    ]),
    Route("closure-withdraw", detail("closure-withdraw"), closure, [
        *reads({"borealis.qa": 200, "northwind.qa": 404, "helix.qa": 404, "acme.qa": 404, "auditor": 404,
                ANON: 302}),
        *[Case(a, "post", s, {"reason": "route matrix"}) for a, s in {
            "borealis.qa": 302, "northwind.qa": 404, "helix.qa": 404, "acme.qa": 404, "auditor": 404,
            ANON: 302}.items()],
    ]),
    # --- Pages -------------------------------------------------------------------------------------------------
    Route("home", listing("home"), partnership, sees({
        "northwind.qa": True, "borealis.qa": True, "helix.qa": False, "acme.qa": False, "auditor": False,
        GRANTEE: True, ANON: 302}), marker=lambda p: f'href="/partnerships/{p.pk}/"'),
    Route("partnerships", listing("partnerships"), partnership, sees({
        "northwind.qa": True, "borealis.qa": True, "helix.qa": False, "acme.qa": False, "auditor": False,
        GRANTEE: True, ANON: 302}), marker=lambda p: f'href="/partnerships/{p.pk}/"'),
    Route("partnership-detail", detail("partnership-detail"), partnership, reads({
        "northwind.qa": 200, "borealis.qa": 200, "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 200,
        ANON: 302})),
    Route("partnership-file-upload", detail("partnership-file-upload"), partnership, [
        *[Case(a, "post", s, "upload-page") for a, s in {
            "northwind.qa": 302, "borealis.qa": 302, "helix.qa": 404, "acme.qa": 404, "auditor": 404,
            GRANTEE: 403, ANON: 302}.items()],
        Case("northwind.qa", "get", 302),
    ]),
    Route("file-download", detail("file-download"), stored_file, reads({
        "borealis.qa": 200, "northwind.qa": 200, "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 200,
        ANON: 302})),
    Route("sites", listing("sites"), site, sees({
        "borealis.qa": True, "northwind.qa": True, "helix.qa": False, "acme.qa": False, "auditor": False,
        GRANTEE: True, ANON: 302}), marker=lambda s: s.name),
    Route("site-create", listing("site-create"), site, [
        *reads({"borealis.qa": 200, "acme.qa": 200, "helix.viewer": 403, "auditor": 403, ANON: 302}),
        Case("borealis.qa", "post", 302, {"name": "Borealis Laval", "country": "CA"}),
        Case("acme.operator", "post", 403, {"name": "Acme Laval", "country": "CA"}),
        Case("helix.viewer", "post", 403, {"name": "x", "country": "US"}),
        Case(ANON, "post", 302, {"name": "x", "country": "US"}),
    ]),
    Route("site-edit", detail("site-edit"), site, [
        *reads({"borealis.qa": 200, "northwind.qa": 403, "helix.qa": 404, "acme.qa": 404, "auditor": 404,
                GRANTEE: 403, ANON: 302}),
        *[Case(a, "post", s, SITE_PAGE_POST) for a, s in {
            "borealis.qa": 302, "northwind.qa": 403, "helix.qa": 404, "acme.qa": 404, GRANTEE: 403, ANON: 302}.items()],
    ]),
    Route("products", listing("products"), product, sees({
        "northwind.qa": True, "borealis.qa": True, "helix.qa": False, "acme.qa": False, "auditor": False,
        GRANTEE: True, ANON: 302}), marker=lambda p: p.name),
    Route("product-create", listing("product-create"), product, [
        *reads({"northwind.qa": 200, "acme.operator": 403, "helix.viewer": 403, "auditor": 403, ANON: 302}),
        Case("northwind.qa", "post", 302, {"code": "NWB-10", "name": "x", "dosage_form": "Vial",
                                           "modality": "biologic"}),
        Case("acme.qa", "post", 200, {"code": "A-1", "name": "x", "dosage_form": "Vial",  # refused: not a sponsor
                                      "modality": "biologic"}),
        Case("helix.viewer", "post", 403, {"code": "x"}),
        Case(ANON, "post", 302, {"code": "x"}),
    ]),
    Route("product-edit", detail("product-edit"), product, [
        *reads({"northwind.qa": 200, "borealis.qa": 403, "helix.qa": 404, "acme.qa": 404, "auditor": 404,
                GRANTEE: 403, ANON: 302}),
        *[Case(a, "post", s, PRODUCT_PAGE_POST) for a, s in {
            "northwind.qa": 302, "borealis.qa": 403, "helix.qa": 404, "acme.qa": 404, GRANTEE: 403,
            ANON: 302}.items()],
    ]),
    Route("members", listing("members"), member, sees({
        "borealis.admin": True, "northwind.admin": False, "helix.admin": False, "acme.admin": False,
        "borealis.qa": 403, "auditor": 403, ANON: 302}), marker=lambda m: m.user.email),
    Route("member-create", listing("member-create"), member, [
        *reads({"borealis.admin": 200, "borealis.qa": 403, "helix.qa": 403, "acme.qa": 403, "auditor": 403,
                ANON: 302}),
        Case("borealis.admin", "post", 302, {"email": "new@borealis.example", "first_name": "N", "last_name": "M",
                                             "role": "viewer"}),
        Case("borealis.qa", "post", 403, {"email": "x@borealis.example", "role": "viewer"}),
        Case(ANON, "post", 302, {"email": "x@borealis.example", "role": "viewer"}),
    ]),
    Route("member-edit", detail("member-edit"), member, [
        *reads({"borealis.admin": 200, "borealis.qa": 403, "northwind.admin": 404, "helix.admin": 404,
                "acme.admin": 404, "auditor": 403, ANON: 302}),
        *[Case(a, "post", s, {"role": "qa_reviewer", "is_active": "on"}) for a, s in {
            "borealis.admin": 302, "borealis.qa": 403, "northwind.admin": 404, "acme.admin": 404, ANON: 302}.items()],
    ]),
    Route("grants", listing("grants"), live_grant, sees({
        "northwind.qa": True, "borealis.qa": False, "helix.qa": False, "acme.qa": False, GRANTEE: True,
        ANON: 302}), marker=lambda g: "auditor@helix"),
    Route("grant-create", listing("grant-create"), partnership, [
        *reads({"northwind.qa": 200, "acme.operator": 403, "helix.viewer": 403, "auditor": 403, ANON: 302}),
        Case("northwind.qa", "post", 302, "grant-page"),
        Case("acme.qa", "post", 200, "grant-page"),  # refused: not Acme's to grant
        Case("auditor", "post", 403, "grant-page"),
        Case(ANON, "post", 302, "grant-page"),
    ]),
    Route("grant-revoke", detail("grant-revoke"), live_grant, [
        *reads({"northwind.qa": 200, "borealis.qa": 404, "helix.qa": 404, "acme.qa": 404, GRANTEE: 403,
                ANON: 302}),
        *[Case(a, "post", s, {"reason": "route matrix"}) for a, s in {
            "northwind.qa": 302, "borealis.qa": 404, "helix.qa": 404, "acme.qa": 404, GRANTEE: 403,
            ANON: 302}.items()],
    ]),
    Route("organization-security", listing("organization-security"), lambda c: c.orgs["borealis"], [
        *reads({"borealis.admin": 200, "borealis.qa": 403, "helix.qa": 403, "acme.operator": 403, "auditor": 403,
                ANON: 302}),
        Case("borealis.admin", "post", 302, {"require_second_factor": "on", "reason": "route matrix"}),
        Case("borealis.qa", "post", 403, {"require_second_factor": "on", "reason": "x"}),
        Case(ANON, "post", 302, {"require_second_factor": "on", "reason": "x"}),
    ]),
    Route("audit-search", listing("audit-search"), lambda c: audit_event(c), sees({
        "borealis.qa": True, "northwind.qa": True, "helix.qa": False, "acme.qa": False, "auditor": False,
        "acme.operator": 403, ANON: 302}), marker=lambda e: f"#{e.seq} {e.hash[:12]}"),
    Route("audit-export", listing("audit-export"), lambda c: audit_event(c), reads({
        "borealis.qa": 200, "helix.qa": 200, "acme.qa": 200, "auditor": 200, "acme.operator": 403, ANON: 302})),
    Route("audit-trail-reviewed", lambda c, p: reverse("audit-trail-reviewed", args=["tenants_partnership", p.pk]),
          partnership, [
              Case(a, "post", s) for a, s in {
                  "northwind.qa": 302, "borealis.qa": 302, "helix.qa": 404, "acme.qa": 404, "auditor": 403,
                  GRANTEE: 403, ANON: 302}.items()]),
    Route("record-history", lambda c, e: reverse("record-history", args=[e.record_table, e.record_id]),
          lambda c: audit_event(c), reads({
              "borealis.qa": 200, "northwind.qa": 200, "helix.qa": 404, "acme.qa": 404, "auditor": 404,
              GRANTEE: 404, "acme.operator": 403, ANON: 302})),
    Route("partnership-pdf", detail("partnership-pdf"), partnership, reads({
        "northwind.qa": 200, "borealis.qa": 200, "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 200,
        ANON: 302})),
    Route("signature-verify", detail("signature-verify"), signature, reads({
        "northwind.qa": 200, "borealis.qa": 200, "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 200,
        ANON: 302})),
    Route("partnership-sign", detail("partnership-sign"), partnership, [
        *[Case(a, "post", s, "sign-page") for a, s in {
            "borealis.qa": 302, "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 403, ANON: 302}.items()],
        Case("northwind.qa", "get", 302),
    ]),
    Route("switch-organization", listing("switch-organization"), lambda c: c.orgs["northwind"], [
        Case("northwind.qa", "post", 302, {"organization": "northwind"}),
        Case("helix.qa", "post", 302, {"organization": "northwind"}),  # refused with a message, still helix
        Case("acme.qa", "post", 302, {"organization": "northwind"}),
        Case("auditor", "post", 302, {"organization": "northwind"}),
        Case(ANON, "post", 302, {"organization": "northwind"}),
        Case("northwind.qa", "get", 405),
    ]),
    # --- Deviations and CAPA (API): Borealis owns them at Borealis Montreal; they affect Northwind's NWB-9 -------
    Route("api:deviation-list", listing("api:deviation-list"), deviation, [
        *sees({"borealis.qa": True, "borealis.admin": True, "northwind.qa": True, "northwind.admin": True,
               "helix.qa": False, "acme.qa": False, "auditor": False, GRANTEE: False, ANON: 401}),
        Case("borealis.qa", "post", 201, built("create_api")),
        Case("borealis.admin", "post", 403, built("create_api")),  # no operations role
        Case("northwind.qa", "post", 400, built("create_api")),  # a sponsor has no site: the CMO records them
        Case("acme.qa", "post", 400, built("create_api")),  # not its site
        Case("helix.viewer", "post", 403, built("create_api")),
        Case("auditor", "post", 403, built("create_api")),
        Case(ANON, "post", 401, built("create_api")),
    ]),
    Route("api:deviation-counts", listing("api:deviation-counts"), deviation, reads({
        "borealis.qa": 200, "northwind.qa": 200, "helix.qa": 200, "acme.qa": 200, "auditor": 200, ANON: 401})),
    Route("api:deviation-export", listing("api:deviation-export"), deviation, reads({
        "borealis.qa": 200, "borealis.admin": 200, "northwind.qa": 200, "helix.qa": 200, "acme.qa": 200,
        "auditor": 200, "helix.viewer": 403, ANON: 401})),
    Route("api:deviation-detail", detail("api:deviation-detail"), deviation, [
        *reads({**DEVIATION_READERS, ANON: 401}), *parties(CMO_WRITES, "patch", built("edit_api"))]),
    Route("api:deviation-lines", detail("api:deviation-lines"), deviation,
          parties(CMO_WRITES, "put", built("lines_api"))),
    Route("api:deviation-report", detail("api:deviation-report"), deviation_draft, parties(CMO_WRITES, "post")),
    Route("api:deviation-classify", detail("api:deviation-classify"), deviation,
          parties(CMO_WRITES, "post", built("classify_post"))),
    Route("api:deviation-notify", detail("api:deviation-notify"), deviation_classified,
          parties(CMO_WRITES, "post", {"message": "Route matrix: batch NWB-9-L001 on hold"})),
    Route("api:deviation-start-investigation", detail("api:deviation-start-investigation"), deviation_classified,
          parties(CMO_WRITES, "post")),
    Route("api:deviation-investigation", detail("api:deviation-investigation"), deviation_investigating,
          parties(CMO_WRITES, "put", built("investigation_api"))),
    Route("api:deviation-submit", detail("api:deviation-submit"), deviation_investigating,
          parties(CMO_WRITES, "post")),
    Route("api:deviation-return-for-rework", detail("api:deviation-return-for-rework"), deviation_pending,
          parties(CMO_WRITES, "post", {"reason": "Route matrix: assess each batch"})),
    # Reported by a Borealis operator: Borealis's QA approver may sign (author ≠ approver); Northwind was told.
    Route("api:deviation-close", detail("api:deviation-close"), deviation_pending, parties(CMO_WRITES, "post", SIGN)),
    Route("api:deviation-cancel", detail("api:deviation-cancel"), deviation, parties(CMO_WRITES, "post", CANCEL)),
    Route("api:deviation-reopen", detail("api:deviation-reopen"), deviation_closed,
          parties(CMO_WRITES, "post", {"reason": "Route matrix: new stability data"})),
    Route("api:deviation-comments", detail("api:deviation-comments"), deviation, [
        *reads({**DEVIATION_READERS, ANON: 401}),
        *parties({"borealis.qa": 201, "northwind.qa": 201, "borealis.admin": 403, "northwind.admin": 403,
                  "helix.qa": 404, "acme.qa": 404, "auditor": 404, GRANTEE: 404, ANON: 401}, "post",
                 {"kind": "question", "body": "Route matrix: was batch NWB-9-L001 filled?"}),
    ]),
    Route("api:deviation-extensions", detail("api:deviation-extensions"), deviation,
          parties({**CMO_WRITES, "borealis.qa": 201}, "post", built("extension_post"))),
    Route("api:deviation-pdf", detail("api:deviation-pdf"), deviation, reads({**DEVIATION_READERS, ANON: 401})),
    Route("api:deviation-notice-list", listing("api:deviation-notice-list"), deviation_notice, sees({
        "borealis.qa": True, "borealis.admin": True, "northwind.qa": True, "northwind.admin": True,
        "helix.qa": False, "acme.qa": False, "auditor": False, GRANTEE: False, ANON: 401})),
    Route("api:deviation-notice-detail", detail("api:deviation-notice-detail"), deviation_notice,
          reads({**DEVIATION_READERS, ANON: 401})),
    # The sponsor's partner action: Northwind's QA acknowledges the notice Borealis sent it; Borealis cannot.
    Route("api:deviation-notice-acknowledge", detail("api:deviation-notice-acknowledge"), deviation_notice, parties({
        "northwind.qa": 200, "northwind.admin": 403, "borealis.qa": 403, "borealis.admin": 403, "helix.qa": 404,
        "acme.qa": 404, "auditor": 404, GRANTEE: 404, ANON: 401}, "post", {"note": "Received; our QP is informed."})),
    Route("api:deviation-extension-list", listing("api:deviation-extension-list"), deviation_extension, sees({
        "borealis.qa": True, "borealis.admin": True, "northwind.qa": False, "northwind.admin": False,
        "helix.qa": False, "acme.qa": False, "auditor": False, GRANTEE: False, ANON: 401})),
    Route("api:deviation-extension-detail", detail("api:deviation-extension-detail"), deviation_extension,
          reads({**CMO_ONLY_READERS, ANON: 401})),
    Route("api:deviation-extension-approve", detail("api:deviation-extension-approve"), deviation_extension,
          parties(CMO_ONLY_WRITES, "post", {"note": "Route matrix: justified"})),
    Route("api:deviation-extension-reject", detail("api:deviation-extension-reject"), deviation_extension,
          parties(CMO_ONLY_WRITES, "post", {"note": "Route matrix: not justified"})),
    Route("api:consistency-flag-list", listing("api:consistency-flag-list"), consistency_flag, sees({
        "borealis.qa": True, "borealis.admin": True, "northwind.qa": False, "northwind.admin": False,
        "helix.qa": False, "acme.qa": False, "auditor": False, GRANTEE: False, ANON: 401})),
    Route("api:consistency-flag-detail", detail("api:consistency-flag-detail"), consistency_flag,
          reads({**CMO_ONLY_READERS, ANON: 401})),
    Route("api:consistency-flag-review", detail("api:consistency-flag-review"), consistency_flag,
          parties(CMO_ONLY_WRITES, "post", {"note": "Route matrix: different fill volumes justify it"})),
    # Not paginated ({"version", "codes"}): whether Borealis's own code shows is checked on the taxonomy page.
    Route("api:root-cause-list", listing("api:root-cause-list"), root_cause, [
        *reads({"borealis.qa": 200, "northwind.qa": 200, "helix.qa": 200, "acme.qa": 200, "auditor": 200,
                ANON: 401}),
        Case("borealis.qa", "post", 201, {"code": "MAC-B2", "name": "Agitator seal wear", "category": "MAC"}),
        Case("northwind.qa", "post", 403, {"code": "MAC-N1", "name": "x", "category": "MAC"}),  # a sponsor
        Case("borealis.admin", "post", 403, {"code": "MAC-B2", "name": "Agitator seal wear", "category": "MAC"}),
        Case("helix.viewer", "post", 403, {"code": "MAC-H1", "name": "x", "category": "MAC"}),
        Case("acme.operator", "post", 403, {"code": "MAC-A1", "name": "x", "category": "MAC"}),
        Case("auditor", "post", 403, {"code": "MAC-H1", "name": "x", "category": "MAC"}),
        Case(ANON, "post", 401, {"code": "MAC-H1", "name": "x", "category": "MAC"}),
    ]),
    # A sponsor sees the CAPA its CMO linked to a deviation affecting it (read-only).
    Route("api:capa-list", listing("api:capa-list"), capa, [
        *sees({"borealis.qa": True, "borealis.admin": True, "northwind.qa": True, "northwind.admin": True,
               "helix.qa": False, "acme.qa": False, "auditor": False, GRANTEE: False, ANON: 401}),
        Case("borealis.qa", "post", 201, built("capa_post")),
        Case("northwind.qa", "post", 201, built("capa_post")),  # Northwind's own CAPA on a deviation it sees
        Case("borealis.admin", "post", 403, built("capa_post")),
        Case("helix.qa", "post", 400, built("capa_post")),  # a deviation it cannot see
        Case("acme.qa", "post", 400, built("capa_post")),
        Case("auditor", "post", 403, built("capa_post")),
        Case(ANON, "post", 401, built("capa_post")),
    ]),
    Route("api:capa-detail", detail("api:capa-detail"), capa, [
        *reads({**DEVIATION_READERS, ANON: 401}), *parties(CMO_WRITES, "patch", built("capa_edit_api"))]),
    Route("api:capa-actions", detail("api:capa-actions"), capa,
          parties({**CMO_WRITES, "borealis.qa": 201}, "post", built("action_post"))),
    Route("api:capa-effectiveness", detail("api:capa-effectiveness"), capa,
          parties(CMO_WRITES, "put", built("effectiveness_post"))),
    Route("api:capa-effectiveness-result", detail("api:capa-effectiveness-result"), capa_scheduled,
          parties(CMO_WRITES, "post", {"passed": True, "note": "Route matrix: no excursion in 20 batches"})),
    Route("api:capa-close", detail("api:capa-close"), capa_closable, parties(CMO_WRITES, "post", SIGN)),
    Route("api:capa-cancel", detail("api:capa-cancel"), capa, parties(CMO_WRITES, "post", CANCEL)),
    Route("api:capa-pdf", detail("api:capa-pdf"), capa, reads({**DEVIATION_READERS, ANON: 401})),
    Route("api:capa-action-list", listing("api:capa-action-list"), capa_action, sees({
        "borealis.qa": True, "borealis.admin": True, "northwind.qa": True, "northwind.admin": True,
        "helix.qa": False, "acme.qa": False, "auditor": False, GRANTEE: False, ANON: 401})),
    Route("api:capa-action-detail", detail("api:capa-action-detail"), capa_action,
          reads({**DEVIATION_READERS, ANON: 401})),
    Route("api:capa-action-complete", detail("api:capa-action-complete"), capa_action,
          parties(CMO_WRITES, "post", {"evidence": "Route matrix: probes recalibrated (WO-7781)"})),
    # --- Pages -------------------------------------------------------------------------------------------------
    Route("deviations", listing("deviations"), deviation, sees({
        "borealis.qa": True, "borealis.admin": True, "northwind.qa": True, "northwind.admin": True,
        "helix.qa": False, "acme.qa": False, "auditor": False, GRANTEE: False, ANON: 302}),
        marker=lambda d: f'href="{reverse("deviation-detail", args=[d.pk])}"'),
    Route("deviation-create", listing("deviation-create"), deviation, [
        *reads({"borealis.qa": 200, "borealis.admin": 403, "acme.operator": 200, "helix.viewer": 403,
                "auditor": 403, "northwind.qa": 200, ANON: 302}),  # a sponsor's QA gets an empty form (no site)
        Case("borealis.qa", "post", 302, built("create_page")),
        Case("borealis.admin", "post", 403, built("create_page")),
        Case("northwind.qa", "post", 400, built("create_page")),  # refused: a sponsor has no site
        Case("acme.qa", "post", 400, built("create_page")),  # refused: not its site
        Case("helix.viewer", "post", 403, built("create_page")),
        Case("auditor", "post", 403, built("create_page")),
        Case(ANON, "post", 302, built("create_page")),
    ]),
    Route("deviation-export", listing("deviation-export"), deviation, reads({
        "borealis.qa": 200, "borealis.admin": 200, "northwind.qa": 200, "helix.qa": 200, "acme.qa": 200,
        "auditor": 200, "helix.viewer": 403, ANON: 302})),
    Route("deviation-detail", detail("deviation-detail"), deviation, reads({**DEVIATION_READERS, ANON: 302})),
    Route("deviation-edit", detail("deviation-edit"), deviation, [
        *reads(CMO_PAGE_FORMS), *parties(CMO_PAGE_WRITES, "post", built("edit_page"))]),
    Route("deviation-lines", detail("deviation-lines"), deviation, [
        *reads(CMO_PAGE_FORMS), *parties(CMO_PAGE_WRITES, "post", built("lines_page"))]),
    Route("deviation-report", detail("deviation-report"), deviation_draft, parties(CMO_PAGE_WRITES, "post")),
    Route("deviation-classify", detail("deviation-classify"), deviation, [
        *reads(CMO_PAGE_FORMS), *parties(CMO_PAGE_WRITES, "post", built("classify_post"))]),
    Route("deviation-notify", detail("deviation-notify"), deviation_classified, [
        *reads(CMO_PAGE_FORMS), *parties(CMO_PAGE_WRITES, "post", {"message": "Route matrix: batch on hold"})]),
    Route("deviation-start", detail("deviation-start"), deviation_classified, parties(CMO_PAGE_WRITES, "post")),
    Route("deviation-investigation", detail("deviation-investigation"), deviation_investigating, [
        *reads(CMO_PAGE_FORMS), *parties(CMO_PAGE_WRITES, "post", built("investigation_page"))]),
    Route("deviation-submit", detail("deviation-submit"), deviation_investigating,
          parties(CMO_PAGE_WRITES, "post")),
    Route("deviation-return", detail("deviation-return"), deviation_pending, [
        *reads(CMO_PAGE_FORMS), *parties(CMO_PAGE_WRITES, "post", {"reason": "Route matrix: assess each batch"})]),
    Route("deviation-close", detail("deviation-close"), deviation_pending, [
        *reads(CMO_PAGE_FORMS), *parties(CMO_PAGE_WRITES, "post", SIGN)]),
    Route("deviation-cancel", detail("deviation-cancel"), deviation, [
        *reads(CMO_PAGE_FORMS), *parties(CMO_PAGE_WRITES, "post", CANCEL)]),
    Route("deviation-reopen", detail("deviation-reopen"), deviation_closed, [
        *reads(CMO_PAGE_FORMS), *parties(CMO_PAGE_WRITES, "post", {"reason": "Route matrix: new stability data"})]),
    # Posting a comment needs an authoring role (checked before the lookup): the auditor gets 403 like the admins.
    Route("deviation-comment", detail("deviation-comment"), deviation, parties({
        "borealis.qa": 302, "northwind.qa": 302, "borealis.admin": 403, "northwind.admin": 403, "helix.qa": 404,
        "acme.qa": 404, "auditor": 403, GRANTEE: 403, ANON: 302}, "post",
        {"kind": "question", "body": "Route matrix: was batch NWB-9-L001 filled?"})),
    Route("deviation-extension", detail("deviation-extension"), deviation, [
        *reads(CMO_PAGE_FORMS), *parties(CMO_PAGE_WRITES, "post", built("extension_post"))]),
    Route("deviation-file-upload", detail("deviation-file-upload"), deviation, [
        *reads(CMO_PAGE_FORMS), *parties(CMO_PAGE_WRITES, "post", "upload-page")]),
    Route("deviation-pdf", detail("deviation-pdf"), deviation, reads({
        **DEVIATION_READERS, "helix.viewer": 403, ANON: 302})),
    # Not a write of the notice (writes = False): Borealis's QA gets the form, and 403 from the service on sending it.
    Route("deviation-acknowledge", detail("deviation-acknowledge"), deviation_notice, [
        *reads({"northwind.qa": 200, "borealis.qa": 200, "northwind.admin": 403, "borealis.admin": 403,
                "helix.qa": 404, "acme.qa": 404, "auditor": 403, GRANTEE: 403, ANON: 302}),
        *parties({"northwind.qa": 302, "borealis.qa": 403, "northwind.admin": 403, "helix.qa": 404, "acme.qa": 404,
                  "auditor": 403, GRANTEE: 403, ANON: 302}, "post", {"note": "Received; our QP is informed."}),
    ]),
    Route("deviation-extension-decide", detail("deviation-extension-decide"), deviation_extension, [
        *reads(CMO_ONLY_PAGE_FORMS),
        *parties(CMO_ONLY_PAGE_WRITES, "post", {"decision": "approve", "note": "Route matrix: justified"})]),
    Route("deviation-consistency", listing("deviation-consistency"), consistency_flag, sees({
        "borealis.qa": True, "borealis.admin": True, "northwind.qa": False, "northwind.admin": False,
        "helix.qa": False, "acme.qa": False, "auditor": False, GRANTEE: False, ANON: 302}),
        marker=lambda f: f.differences),
    Route("deviation-flag-review", detail("deviation-flag-review"), consistency_flag, [
        *reads(CMO_ONLY_PAGE_FORMS),
        *parties(CMO_ONLY_PAGE_WRITES, "post", {"note": "Route matrix: different fill volumes justify it"})]),
    Route("deviation-taxonomy", listing("deviation-taxonomy"), root_cause, sees({
        "borealis.qa": True, "borealis.admin": True, "northwind.qa": False, "helix.qa": False, "acme.qa": False,
        "auditor": False, ANON: 302}), marker=lambda c: f"<code>{c.code}</code>"),
    Route("deviation-cause-add", listing("deviation-cause-add"), root_cause, [
        Case("borealis.qa", "post", 302, {"parent": "MAC", "code": "MAC-B2", "name": "Agitator seal wear"}),
        Case("northwind.qa", "post", 403, {"parent": "MAC", "code": "MAC-N1", "name": "x"}),  # a sponsor
        Case("borealis.admin", "post", 403, {"parent": "MAC", "code": "MAC-B2", "name": "Agitator seal wear"}),
        Case("helix.viewer", "post", 403, {"parent": "MAC", "code": "MAC-H1", "name": "x"}),
        Case("acme.operator", "post", 403, {"parent": "MAC", "code": "MAC-A1", "name": "x"}),
        Case("auditor", "post", 403, {"parent": "MAC", "code": "MAC-H1", "name": "x"}),
        Case(ANON, "post", 302, {"parent": "MAC", "code": "MAC-H1", "name": "x"}),
    ]),
    Route("capas", listing("capas"), capa, sees({
        "borealis.qa": True, "borealis.admin": True, "northwind.qa": True, "northwind.admin": True,
        "helix.qa": False, "acme.qa": False, "auditor": False, GRANTEE: False, ANON: 302}),
        marker=lambda c: f'href="{reverse("capa-detail", args=[c.pk])}"'),
    Route("capa-create", listing("capa-create"), deviation, [
        *reads({"borealis.qa": 200, "borealis.admin": 403, "northwind.qa": 200, "acme.qa": 200, "helix.viewer": 403,
                "auditor": 403, ANON: 302}),
        Case("borealis.qa", "post", 302, built("capa_post")),
        Case("northwind.qa", "post", 302, built("capa_post")),  # Northwind's own CAPA on a deviation it sees
        Case("borealis.admin", "post", 403, built("capa_post")),
        Case("helix.qa", "post", 400, built("capa_post")),  # refused: a deviation it cannot see
        Case("acme.qa", "post", 400, built("capa_post")),
        Case("auditor", "post", 403, built("capa_post")),
        Case(ANON, "post", 302, built("capa_post")),
    ]),
    Route("capa-detail", detail("capa-detail"), capa, reads({**DEVIATION_READERS, ANON: 302})),
    Route("capa-edit", detail("capa-edit"), capa, [
        *reads(CMO_PAGE_FORMS), *parties(CMO_PAGE_WRITES, "post", built("capa_edit_page"))]),
    Route("capa-action-add", detail("capa-action-add"), capa, [
        *reads(CMO_PAGE_FORMS), *parties(CMO_PAGE_WRITES, "post", built("action_post"))]),
    Route("capa-effectiveness", detail("capa-effectiveness"), capa, [
        *reads(CMO_PAGE_FORMS), *parties(CMO_PAGE_WRITES, "post", built("effectiveness_post"))]),
    Route("capa-effectiveness-result", detail("capa-effectiveness-result"), capa_scheduled, [
        *reads(CMO_PAGE_FORMS),
        *parties(CMO_PAGE_WRITES, "post", {"result": "passed", "note": "Route matrix: no excursion in 20 batches"})]),
    Route("capa-close", detail("capa-close"), capa_closable, [
        *reads(CMO_PAGE_FORMS), *parties(CMO_PAGE_WRITES, "post", SIGN)]),
    Route("capa-cancel", detail("capa-cancel"), capa, [
        *reads(CMO_PAGE_FORMS), *parties(CMO_PAGE_WRITES, "post", CANCEL)]),
    Route("capa-pdf", detail("capa-pdf"), capa, reads({**DEVIATION_READERS, "helix.viewer": 403, ANON: 302})),
    # The action's owner (or a QA author) completes it: the form is not a write of the CAPA (writes = False), so
    # Northwind and Borealis's org admin get the form, and 403 from the service on sending it.
    Route("capa-action-complete", detail("capa-action-complete"), capa_action, [
        *reads({"borealis.qa": 200, "borealis.admin": 200, "northwind.qa": 200, "helix.qa": 404, "acme.qa": 404,
                "auditor": 404, GRANTEE: 404, ANON: 302}),
        *parties({"borealis.qa": 302, "borealis.admin": 403, "northwind.qa": 403, "helix.qa": 404, "acme.qa": 404,
                  "auditor": 404, GRANTEE: 404, ANON: 302}, "post", {"evidence": "Route matrix: WO-7781"}),
    ]),

]

# Batches keep their matrices beside their targets (tests/batches/); they use the Case/Route/helpers above.
from tests.batches.routes import batch_routes  # noqa: E402

ROUTES += batch_routes()

# Change control likewise (tests/changes/).
from tests.changes.routes import change_routes  # noqa: E402

ROUTES += change_routes()

# And inspections (tests/inspections/).
from tests.inspections.routes import inspection_routes  # noqa: E402

ROUTES += inspection_routes()

BY_NAME = {route.name: route for route in ROUTES}

# Detail routes must say what each of these gets: anonymous, the owner, an unpartnered sponsor (Helix),
# another CMO (Acme), and the auditor (with or without a grant).
REQUIRED_ACTOR_PREFIXES = (None, "helix.", "acme.", "auditor")


# --- 1. Every route is declared ------------------------------------------------------------------------------


def _walk(patterns: list[Any], namespace: str = "") -> list[tuple[str, Any]]:
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found += _walk(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            found.append((f"{namespace}{pattern.name}" if pattern.name else f"{namespace}<unnamed {pattern.pattern}>",
                          pattern.callback))
    return found


def _methods(callback: Any) -> set[str] | None:
    actions = getattr(callback, "actions", None)
    if actions:  # a DRF viewset route
        return {m for m in actions if m not in {"head", "options"}}
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is not None:
        return {m for m in view_class.http_method_names if hasattr(view_class, m) and m not in {"head", "options"}}
    return None  # a function view: its matrix declares the methods


def _exempt(name: str) -> bool:
    return name in EXEMPT or any(key.endswith(":*") and name.startswith(key[:-1]) for key in EXEMPT)


def undeclared_routes() -> list[str]:
    problems = []
    seen: set[str] = set()
    for name, callback in _walk(get_resolver().url_patterns):
        if name in seen or _exempt(name):
            continue
        seen.add(name)
        route = BY_NAME.get(name)
        if route is None:
            problems.append(f"{name}: no isolation matrix in tests/test_route_isolation.py and no EXEMPT reason")
            continue
        declared = {case.method for case in route.cases}
        methods = _methods(callback)
        if methods is not None and not methods <= declared:
            problems.append(f"{name}: methods without cases: {sorted(methods - declared)}")
        actors = {case.actor for case in route.cases}
        for prefix in REQUIRED_ACTOR_PREFIXES:
            if not any(a == prefix if prefix is None else (a or "").startswith(prefix) for a in actors):
                if prefix in ("helix.", "auditor") and name in {"switch-organization"}:
                    continue
                problems.append(f"{name}: no case for {prefix or 'anonymous'}")
    problems += [f"{name}: matrix for a route that no longer exists" for name in sorted(set(BY_NAME) - seen)]
    return problems


def test_every_route_is_declared() -> None:
    problems = undeclared_routes()
    assert not problems, "\n".join(problems)


def test_a_new_undeclared_route_fails_the_meta_test(settings) -> None:
    """Proof the meta-test bites: add a scratch route with no matrix and it is reported."""
    import sys
    import types

    from django.urls import clear_url_caches, include, path
    from django.views.generic import TemplateView

    scratch = types.ModuleType("scratch_urls")
    scratch.urlpatterns = [path("", include(settings.ROOT_URLCONF)),
                           path("scratch/leak/", TemplateView.as_view(), name="scratch-leak")]
    sys.modules["scratch_urls"] = scratch
    settings.ROOT_URLCONF = "scratch_urls"
    clear_url_caches()
    try:
        assert "scratch-leak: no isolation matrix in tests/test_route_isolation.py and no EXEMPT reason" in (
            undeclared_routes())
    finally:
        del sys.modules["scratch_urls"]
        clear_url_caches()


# --- 2. Run the cases ----------------------------------------------------------------------------------------

ALL_CASES = [(route, case) for route in ROUTES for case in route.cases]


def _client(route: Route, cast: Cast, actor: str | None) -> Any:
    client = APIClient() if route.is_api else Client()
    if actor is not None:
        client.force_login(cast.users[actor.removesuffix("+grant")])
    return client


def _payload(route: Route, case: Case, cast: Cast) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import PASSWORD

    if callable(case.data):
        return case.data(cast)
    if case.data == "record-ref":
        return {"record_type": "tenants_partnership", "record_id": partnership(cast).pk}
    if case.data == "sign":
        return {"record_type": "tenants_partnership", "record_id": partnership(cast).pk, "step": "review",
                "password": PASSWORD}
    if case.data == "sign-page":
        return {"step": "review", "password": PASSWORD}
    if case.data == "upload":
        return {"record_type": "partnership", "record_id": partnership(cast).pk,
                "file": SimpleUploadedFile("coa.pdf", PDF)}
    if case.data == "upload-page":
        return {"file": SimpleUploadedFile("coa.pdf", PDF)}
    if case.data == "grant":
        return _grant_post(cast)
    if case.data == "grant-page":
        now = timezone.now()
        return {"partnership": partnership(cast).pk, "grantee_username": "auditor", "grantee_organization": "helix",
                "reason": "audit", "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
                "expires_at": (now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")}
    return case.data


@pytest.mark.parametrize(("route", "case"), ALL_CASES,
                         ids=[f"{r.name}|{c.method}|{c.actor or 'anonymous'}" for r, c in ALL_CASES])
def test_route_case(cast: Cast, route: Route, case: Case) -> None:
    target = route.target(cast)
    if case.actor == GRANTEE and route.target is not live_grant:
        live_grant(cast)
    url = route.url(cast, target)
    client = _client(route, cast, case.actor)
    payload = _payload(route, case, cast)
    if route.is_api:
        has_file = isinstance(payload, dict) and any(hasattr(v, "read") for v in payload.values())
        encoding = "multipart" if case.data == "upload" or has_file else "json"
        response = getattr(client, case.method)(url, payload, format=encoding)
    else:
        response = getattr(client, case.method)(url, payload or {})
    detail_body = b"(streamed)" if response.streaming else response.content[:400]
    assert response.status_code == case.status, (route.name, case, detail_body)
    if case.actor is None and case.status == 302:
        assert response["Location"].startswith(reverse("login")), response["Location"]
    if case.visible is not None:
        if route.is_api:
            rows = response.json()["results"]
            shown = any(row.get("id") == target.pk and ("slug" not in row or row["slug"] == target.slug)
                        for row in rows)
        else:
            assert route.marker is not None, route.name
            shown = route.marker(target) in response.content.decode()
        assert shown is case.visible, (route.name, case.actor, "visible" if case.visible else "hidden")
