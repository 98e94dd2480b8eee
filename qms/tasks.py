"""Platform tasks that belong to no quality domain."""

import time
from typing import Any

from celery import shared_task
from celery.signals import worker_ready

from qms import health


@shared_task(name="qms.tasks.heartbeat", ignore_result=True)
def heartbeat() -> float:
    """Beat schedules this; a worker running it proves the beat → broker → worker chain is alive for /readyz."""
    return health.record_worker_heartbeat(time.time())


@worker_ready.connect
def heartbeat_on_start(**kwargs: Any) -> None:
    """A worker that just started is alive: /readyz need not wait for the first beat tick."""
    health.record_worker_heartbeat(time.time())
