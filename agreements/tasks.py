"""Agreement tasks: thin. Approved versions whose effective date has come take effect (and supersede)."""

from celery import shared_task

from agreements import services


@shared_task(name="agreements.tasks.activate_due", ignore_result=True)
def activate_due() -> int:
    return services.activate_due()
