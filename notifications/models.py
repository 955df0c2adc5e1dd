"""The e-mail outbox (SPEC §5): every message is a row written in the transaction of the change that causes it.

A Celery task sends it after commit; the beat sweeper re-queues rows left unsent. Delivery is a small state machine
(notifications/services.py `email_send`): QUEUED → SENDING (claimed: attempt counted, lease set, committed) → SENT,
or back to QUEUED with backoff, or FAILED after the attempt limit; the sweeper reclaims a SENDING row whose lease
ran out. The constraints below keep every row in one consistent state."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _


class EmailStatus(models.TextChoices):
    QUEUED = "queued", _("送信待ち")
    SENDING = "sending", _("送信中")
    SENT = "sent", _("送信済み")
    FAILED = "failed", _("送信失敗")


class Email(models.Model):
    kind = models.CharField(_("種類"), max_length=50)
    # What the e-mail is about, as plain data (this app imports no other): ("application", its id).
    topic = models.CharField(_("対象"), max_length=30, blank=True)
    topic_id = models.BigIntegerField(_("対象ID"), null=True, blank=True)
    to = models.EmailField(_("宛先"))
    subject = models.CharField(_("件名"), max_length=200)
    body_text = models.TextField(_("本文（テキスト）"))
    body_html = models.TextField(_("本文（HTML）"), blank=True)
    # Fixed per row, so a receiving system (and our tests) can tell a duplicate from a second e-mail.
    message_id = models.CharField(_("Message-ID"), max_length=200, unique=True)
    status = models.CharField(
        _("状態"), max_length=10, choices=EmailStatus.choices, default=EmailStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("送信試行回数"), default=0)
    last_error = models.TextField(_("最後のエラー"), blank=True)
    # When the sweeper should (re)queue it if it is still unsent: a grace period after creation, then backoff.
    next_attempt_at = models.DateTimeField(_("次回送信予定"), db_default=Now())
    created_at = models.DateTimeField(_("作成日時"), db_default=Now())
    sent_at = models.DateTimeField(_("送信日時"), null=True, blank=True)
    # While SENDING: until when the attempt may take; past it the sweeper takes the row back (a lost worker).
    lease_until = models.DateTimeField(_("送信期限"), null=True, blank=True)
    resent_from = models.ForeignKey(
        "self",
        verbose_name=_("再送元"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resends",
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("メール")
        verbose_name_plural = _("メール")
        indexes = [
            models.Index(fields=["topic", "topic_id", "created_at"], name="email_topic"),
            models.Index(fields=["next_attempt_at"], condition=Q(status="queued"), name="email_due"),
            models.Index(fields=["lease_until"], condition=Q(status="sending"), name="email_lease"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False)
                | (~Q(status="sent") & Q(sent_at__isnull=True)),
                name="email_sent_at_iff_sent",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["queued", "sending", "sent", "failed"]), name="email_status_known"
            ),
            models.CheckConstraint(
                condition=Q(status="sending", lease_until__isnull=False)
                | (~Q(status="sending") & Q(lease_until__isnull=True)),
                name="email_lease_iff_sending",
            ),
            # Every state but a queued row never tried has had an attempt; a failed row says why.
            models.CheckConstraint(
                condition=Q(status="queued") | Q(attempts__gte=1), name="email_tried_unless_queued"
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(last_error=""), name="email_failed_has_error"
            ),
        ]

    def __str__(self):
        return f"{self.kind} → {self.to} ({self.status})"
