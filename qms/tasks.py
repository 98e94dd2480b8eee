"""Platform tasks that belong to no quality domain."""

import time

from celery import shared_task

from qms import health


@shared_task(name="qms.tasks.heartbeat", ignore_result=True)
def heartbeat() -> float:
    """Beat schedules this; a worker running it proves the beat → broker → worker chain is alive for /readyz."""
    return health.record_worker_heartbeat(time.time())
