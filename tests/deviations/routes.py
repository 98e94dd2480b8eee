"""Targets for the route matrix (tests/test_route_isolation.py): deviations and CAPA on Northwind ↔ Borealis.

Each target is a deviation (or a record hanging off one) that Borealis, the CMO, owns at Borealis Montreal and
that affects Northwind's NWB-9, built through the services in the state its route needs. The first-line report is
written by a Borealis operator, so that Borealis's QA approver may sign its closure (author ≠ approver); an
extension request is written by a Borealis QA reviewer, so that the QA approver may decide it.

The functions under "Data the cases send" build a case's payload from the target as it stands (its version, its
lines), since a payload is a function of the cast only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from capa import services as capa_services
from capa.models import Capa, CapaAction
from deviations import services
from deviations.models import ConsistencyFlag, Deviation, ExtensionRequest, Notice, RootCauseCode
from tenants.permissions import Role
from tests.deviations.helpers import acting, capa_for, classify, close, investigate, notify, report, submit
from tests.factories import (
    Cast,
    MembershipFactory,
    OrganizationFactory,
    PartnershipFactory,
    ProductFactory,
    UserFactory,
)

CMO, QA = "borealis", "borealis.qa"
OPERATOR, REVIEWER = "borealis.operator", "borealis.reviewer"
SITE, PRODUCT = "Borealis Montreal", "NWB-9"


def member(cast: Cast, username: str, role: str, org: str = CMO) -> Any:
    """Add a member to the cast (once): Borealis has only a QA approver and an org admin."""
    if username not in cast.memberships:
        user = UserFactory(username=username, first_name="Route", last_name=username.split(".")[-1].title(),
                           email=f"{username}@example.com")
        cast.users[username] = user
        cast.memberships[username] = MembershipFactory(user=user, organization=cast.orgs[org], role=role)
    return cast.memberships[username]


# --- Deviations, one per workflow state ------------------------------------------------------------------------


def _report(cast: Cast, *, draft: bool = False, products: tuple[str, ...] = (PRODUCT,), **kwargs: Any) -> Deviation:
    member(cast, OPERATOR, Role.OPERATOR)
    return report(cast, by=OPERATOR, site=SITE, products=products, title="Bioreactor pH excursion",
                  area="Bioreactor BR-2000", step="Cell culture", draft=draft, **kwargs)


def draft(cast: Cast) -> Deviation:
    return _report(cast, draft=True)


def reported(cast: Cast) -> Deviation:
    """Open (reported): its closure clock runs; not classified yet."""
    return _report(cast)


def classified(cast: Cast) -> Deviation:
    """Classified major: Northwind's notice is pending (not yet told)."""
    return classify(cast, reported(cast), by=QA)


def notified(cast: Cast) -> Deviation:
    deviation = classified(cast)
    notify(cast, deviation, by=QA)
    return Deviation.objects.get(pk=deviation.pk)


def investigating(cast: Cast) -> Deviation:
    """Under investigation, the write-up complete (ready to submit)."""
    return investigate(cast, notified(cast), by=QA)


def pending(cast: Cast) -> Deviation:
    """Pending QA approval, Northwind told: Borealis's QA approver (not the reporter) may sign the closure."""
    return submit(cast, investigating(cast), by=QA)


def closed(cast: Cast) -> Deviation:
    return close(cast, pending(cast), by=QA)


def notice(cast: Cast) -> Notice:
    """Borealis's notice to Northwind, sent: Northwind's QA may acknowledge it."""
    return Notice.objects.get(deviation=notified(cast), sponsor=cast.orgs["northwind"], superseded=False)


def extension(cast: Cast) -> ExtensionRequest:
    """A pending request (by a Borealis QA reviewer) to move the closure target; the QA approver decides."""
    deviation = reported(cast)
    member(cast, REVIEWER, Role.QA_REVIEWER)
    with acting(cast, REVIEWER):
        return services.extension_request(membership=cast.memberships[REVIEWER], deviation=deviation,
                                          due_date=later(120), justification="Root cause needs a vendor study.")


def flag(cast: Cast) -> ConsistencyFlag:
    """Borealis classified the same root cause at the same step major for Northwind and minor for another sponsor.

    The other sponsor (Orion) is a partner of Borealis only: Helix and Acme stay outside."""
    orion = OrganizationFactory(slug="orion", name="Orion Vaccines", kind="sponsor")
    product = ProductFactory(organization=orion, code="ORN-1", name="Orivax")
    partnership = PartnershipFactory(sponsor=orion, cmo=cast.orgs[CMO])
    partnership.sites.add(cast.sites[SITE])
    partnership.products.add(product)
    cast.products["ORN-1"] = product
    investigate(cast, classify(cast, reported(cast), "major", by=QA), by=QA)
    investigate(cast, classify(cast, _report(cast, products=("ORN-1",)), "minor", by=QA), by=QA)
    return ConsistencyFlag.objects.get(organization=cast.orgs[CMO])


def own_cause(cast: Cast) -> RootCauseCode:
    """A sub-code Borealis added to its taxonomy."""
    with acting(cast, QA):
        return services.cause_add(membership=cast.memberships[QA], code="MAC-B1",
                                  name="Bioreactor probe drift", parent="MAC")


# --- CAPA --------------------------------------------------------------------------------------------------------


def capa(cast: Cast) -> Capa:
    """Borealis's CAPA on the deviation affecting NWB-9: Northwind reads it."""
    return capa_for(cast, reported(cast), by=QA)


def capa_action(cast: Cast) -> CapaAction:
    """An open corrective action, owned by Borealis's QA approver."""
    with acting(cast, QA):
        return capa_services.action_add(membership=cast.memberships[QA], capa=capa(cast), kind="corrective",
                                        description="Recalibrate the pH probes.", owner=cast.memberships[QA],
                                        due_date=later(30))


def capa_scheduled(cast: Cast) -> Capa:
    """The effectiveness check is planned: a QA approver records its result."""
    target = capa(cast)
    with acting(cast, QA):
        return capa_services.effectiveness_plan(membership=cast.memberships[QA], capa=target,
                                                criteria="No pH excursion in 20 batches", due_date=later(90))


def capa_closable(cast: Cast) -> Capa:
    """Its action done, its check scheduled under the procedure that allows closing before it."""
    action = capa_action(cast)
    with acting(cast, QA):
        capa_services.action_complete(membership=cast.memberships[QA], action=action, evidence="Calibrated: WO-7781")
        return capa_services.effectiveness_plan(membership=cast.memberships[QA], capa=Capa.objects.get(
            pk=action.capa_id), criteria="No pH excursion in 20 batches", due_date=later(90),
            close_before_check="SOP-QA-014 §6.3")


# --- Data the cases send ------------------------------------------------------------------------------------------


def later(days: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def current(cast: Cast) -> Deviation:
    """The target deviation as it stands (the latest Borealis recorded)."""
    return Deviation.objects.filter(organization=cast.orgs[CMO]).latest("id")


def current_capa(cast: Cast) -> Capa:
    return Capa.objects.filter(organization=cast.orgs[CMO]).latest("id")


def _header(cast: Cast) -> dict[str, Any]:
    return {"title": "Bioreactor pH excursion", "site": cast.sites[SITE].pk, "area_equipment": "Bioreactor BR-2000",
            "process_step": "Cell culture", "category": "manufacturing", "discovered_by": "Line operator",
            "description": "pH fell below 6.8 for 12 minutes during the production culture.",
            "immediate_actions": "Base addition; culture held."}


def create_api(cast: Cast) -> dict[str, Any]:
    return {**_header(cast), "discovered_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
            "lines": [{"product": cast.products[PRODUCT].pk, "batch_numbers": ["NWB-9-L002"]}], "report": True}


def create_page(cast: Cast) -> dict[str, Any]:
    pk = cast.products[PRODUCT].pk
    return {**_header(cast), "discovered_at": (timezone.now() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            f"product-{pk}": "on", f"batches-{pk}": "NWB-9-L002", "report": "on"}


def edit_api(cast: Cast) -> dict[str, Any]:
    return {"title": "Bioreactor pH excursion (BR-2000)", "version": current(cast).version}


def edit_page(cast: Cast) -> dict[str, Any]:
    d = current(cast)
    return {**_header(cast), "title": "Bioreactor pH excursion (BR-2000)",
            "discovered_at": d.discovered_at.strftime("%Y-%m-%dT%H:%M"), "version": d.version}


def lines_api(cast: Cast) -> dict[str, Any]:
    return {"lines": [{"product": cast.products[PRODUCT].pk, "batch_numbers": ["NWB-9-L001", "NWB-9-L002"]}],
            "version": current(cast).version}


def lines_page(cast: Cast) -> dict[str, Any]:
    pk = cast.products[PRODUCT].pk
    return {f"product-{pk}": "on", f"batches-{pk}": "NWB-9-L001, NWB-9-L002", "version": current(cast).version}


def classify_post(cast: Cast) -> dict[str, Any]:
    return {"classification": "major", "rationale": "Route matrix: potential impact on glycosylation",
            "version": current(cast).version}


def investigation_api(cast: Cast) -> dict[str, Any]:
    return {"findings": "The pH probe drifted 0.3 units since its last calibration.", "version": current(cast).version}


def investigation_page(cast: Cast) -> dict[str, Any]:
    d = current(cast)
    return {"investigation_method": "five_whys", "findings": "The pH probe drifted 0.3 units.",
            "root_cause_code": "MAC-02", "conclusion": "No impact: pH within the validated range.",
            "outcome": "no_impact", "capa_not_required_reason": "", "version": d.version,
            **{f"impact-{line.pk}": "No impact on CQAs." for line in d.lines.all()}}


def extension_post(cast: Cast) -> dict[str, Any]:
    return {"requested_due_date": later(120).isoformat(), "justification": "Route matrix: vendor study pending"}


def action_post(cast: Cast) -> dict[str, Any]:
    return {"kind": "preventive", "description": "Add the probes to the calibration programme.",
            "owner": cast.memberships[QA].pk, "due_date": later(30).isoformat()}


def capa_post(cast: Cast) -> dict[str, Any]:
    return {"title": "Calibrate the pH probes", "description": "Add the probes to the calibration programme.",
            "source": "deviation", "source_deviation": current(cast).pk}


def capa_edit_api(cast: Cast) -> dict[str, Any]:
    return {"title": "Calibrate every pH probe", "version": current_capa(cast).version}


def capa_edit_page(cast: Cast) -> dict[str, Any]:
    c = current_capa(cast)
    return {"title": "Calibrate every pH probe", "description": c.description, "source_reference": "",
            "version": c.version}


def effectiveness_post(cast: Cast) -> dict[str, Any]:
    return {"criteria": "No pH excursion in 20 batches", "due_date": later(90).isoformat(),
            "close_before_check": ""}

