"""Celery tasks of applications: thin wrappers that call a service and return."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def initial_passwords_destroy_task() -> int:
    return services.initial_passwords_destroy()
