"""Deviations for the tests: built through the services, as the member named would in a request."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import RequestFactory
from django.utils import timezone

from capa import services as capa_services
from deviations import services
from deviations.models import Deviation
from tests.agreements.helpers import acting
from tests.factories import PASSWORD, Cast


def line(cast: Cast, code: str, *batches: str) -> services.Line:
    return services.Line(product_id=cast.products[code].pk, batch_numbers=batches)


def report(cast: Cast, *, by: str = "acme.operator", site: str = "Acme Boston",
           products: tuple[str, ...] = ("HLX-101",), title: str = "Granulator torque alarm",
           area: str = "Granulator G-2", step: str = "Wet granulation", discovered: dt.datetime | None = None,
           draft: bool = False) -> Deviation:
    with acting(cast, by):
        deviation = services.deviation_create(
            membership=cast.memberships[by], site=cast.sites[site], title=title,
            discovered_at=discovered or timezone.now() - dt.timedelta(hours=2), discovered_by="Line operator",
            description="Torque exceeded the alarm limit for 40 s during wet massing.", area_equipment=area,
            process_step=step, lines=[line(cast, code, f"{code}-L001") for code in products])
        if not draft:
            services.deviation_report(membership=cast.memberships[by], deviation=deviation)
    return Deviation.objects.get(pk=deviation.pk)


def classify(cast: Cast, deviation: Deviation, classification: str = "major", by: str = "acme.qa") -> Deviation:
    with acting(cast, by):
        services.deviation_classify(membership=cast.memberships[by], deviation=deviation,
                                    classification=classification, rationale=f"{classification}: GMP impact")
    return Deviation.objects.get(pk=deviation.pk)


def investigate(cast: Cast, deviation: Deviation, *, by: str = "acme.qa", cause: str = "MAC-02",
                outcome: str = "no_impact", capa_reason: str = "") -> Deviation:
    with acting(cast, by):
        member = cast.memberships[by]
        if deviation.state == Deviation.State.OPEN:
            services.deviation_start_investigation(membership=member, deviation=deviation)
        services.investigation_update(
            membership=member, deviation=deviation, investigation_method="five_whys",
            findings="Calibration of the torque sensor lapsed.", root_cause_code=cause,
            conclusion="No impact: torque within validated range.", outcome=outcome,
            capa_not_required_reason=capa_reason,
            impacts={ln.pk: "No impact on CQAs." for ln in deviation.lines.all()})
    return Deviation.objects.get(pk=deviation.pk)


def notify(cast: Cast, deviation: Deviation, by: str = "acme.qa") -> Any:
    with acting(cast, by):
        return services.deviation_notify(membership=cast.memberships[by], deviation=deviation, message="FYI")


def submit(cast: Cast, deviation: Deviation, by: str = "acme.qa") -> Deviation:
    with acting(cast, by):
        services.deviation_submit(membership=cast.memberships[by], deviation=deviation)
    return Deviation.objects.get(pk=deviation.pk)


def close(cast: Cast, deviation: Deviation, by: str = "acme.qa") -> Deviation:
    with acting(cast, by):
        services.deviation_sign_close(request=RequestFactory().post("/"), membership=cast.memberships[by],
                                      deviation=deviation, password=PASSWORD)
    return Deviation.objects.get(pk=deviation.pk)


def ready_to_close(cast: Cast, **kwargs: Any) -> Deviation:
    deviation = classify(cast, report(cast, **kwargs))
    notify(cast, deviation)
    deviation = investigate(cast, deviation)
    return submit(cast, deviation)


def capa_for(cast: Cast, deviation: Deviation, by: str = "acme.qa") -> Any:
    with acting(cast, by):
        return capa_services.capa_create(membership=cast.memberships[by], title="Calibrate torque sensors",
                                         description="Add the sensor to the calibration programme.",
                                         source="deviation", source_deviation=deviation)
