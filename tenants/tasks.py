"""Tenancy tasks: thin, they call a service."""

from celery import shared_task

from tenants import grants


@shared_task(name="tenants.tasks.expire_access_grants", ignore_result=True)
def expire_access_grants() -> int:
    return grants.expire_access_grants()
