"""The reads that the customer screens need. Every query is scoped to the customer's contract (tenancy):
another office's object is simply not found, which the views turn into a 404."""

from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from .models import Application, ApplicationItem, ApplicationStatus, Contract, User


def contract_for_display(*, contract_id: int) -> Contract:
    return Contract.objects.prefetch_related("processing_methods").get(pk=contract_id)


def application_draft_get(*, user: User, application_id: int) -> Application:
    """A draft of the customer's own office, or 404."""
    return get_object_or_404(
        Application.objects.select_related("contract"),
        pk=application_id,
        contract_id=user.contract_id,
        status=ApplicationStatus.DRAFT,
    )


def application_items(*, application: Application) -> list[ApplicationItem]:
    return list(application.items.select_related("processing_method").order_by("id"))


def application_get(*, user: User, application_id: int) -> Application:
    """A submitted application of the customer's own office, or 404."""
    return get_object_or_404(
        Application.objects.select_related("contract").prefetch_related(
            Prefetch("items", queryset=ApplicationItem.objects.select_related("processing_method").order_by("id"))
        ),
        pk=application_id,
        contract_id=user.contract_id,
        status__in=[s for s in ApplicationStatus.values if s != ApplicationStatus.DRAFT],
    )


def application_list(*, user: User) -> QuerySet[Application]:
    """申込状況一覧: the office's applications (drafts excluded), newest first, with the number of IDs asked."""
    return (
        Application.objects.filter(contract_id=user.contract_id)
        .exclude(status=ApplicationStatus.DRAFT)
        .annotate(item_count=Count("items"))
        .order_by("-submitted_at", "-id")
    )


def application_draft_of(*, user: User) -> Application | None:
    """The account's own draft, if any, so that the menu can offer to continue it."""
    return Application.objects.filter(created_by=user, status=ApplicationStatus.DRAFT).first()
