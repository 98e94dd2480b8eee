"""Clock tasks: thin, they call the sweep and the delivery (both cross-tenant by nature, in the system context).

Both are idempotent: a second copy finds nothing left to claim. No deadline is ever an ETA/countdown task.
"""

from celery import shared_task

from clocks import delivery
from clocks import sweep as clock_sweep


@shared_task(name="clocks.tasks.sweep", ignore_result=True)
def sweep() -> int:
    return clock_sweep.sweep().stages


@shared_task(name="clocks.tasks.deliver", ignore_result=True)
def deliver() -> int:
    return delivery.deliver_pending().sent
