"""Celery tasks of the outbox: thin wrappers that take ids, call a service and return.

acks_late + reject_on_worker_lost: the broker keeps the message until the task has finished, so a worker killed
mid-send does not lose it; the redelivered task is harmless because `email_send` sends a row only while it is
QUEUED and under its row lock. No Celery-level retries: failures are recorded on the row (attempts, last error,
next attempt with backoff) and the beat sweeper picks them up, so retry state survives restarts of everything.
"""

from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def email_send_task(email_id: int) -> str:
    return services.email_send(email_id=email_id)


@shared_task(ignore_result=True)
def email_requeue_unsent() -> int:
    return services.email_requeue_unsent()
