"""Celery tasks of applications: thin wrappers that call a service and return."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def initial_passwords_destroy_task() -> int:
    return services.initial_passwords_destroy()


@shared_task(ignore_result=True)
def application_drafts_expire_task() -> tuple[int, int]:
    expiry = services.application_drafts_expire()
    return expiry.warned, expiry.deleted
