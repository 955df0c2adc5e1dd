from django.urls import path

from . import accounts, contracts, dashboard, views

app_name = "reviews"

urlpatterns = [
    path("login/", views.staff_login, name="login"),
    path("", views.queue, name="queue"),
    path("queue.csv", views.queue_export, name="queue-export"),
    path("applications/take/", views.bulk_take, name="bulk-take"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("applications/<int:pk>/", views.application_detail, name="application"),
    path("applications/<int:pk>/take/", views.application_take, name="take"),
    path("applications/<int:pk>/release/", views.application_release, name="release"),
    path("applications/<int:pk>/reassign/", views.application_reassign, name="reassign"),
    path("applications/<int:pk>/approve/confirm/", views.approve_confirm, name="approve-confirm"),
    path("applications/<int:pk>/approve/", views.application_approve, name="approve"),
    path("applications/<int:pk>/start-date/", views.start_date_change, name="start-date"),
    path("applications/<int:pk>/notes/", views.note_add, name="note"),
    path("applications/<int:pk>/reject/", views.application_reject, name="reject"),
    path("applications/<int:pk>/notices/", views.notice_post, name="notice"),
    path("applications/<int:pk>/emails/<int:email_id>/resend/", views.email_resend, name="email-resend"),
    path("accounts/", accounts.account_list, name="accounts"),
    path("accounts/<int:pk>/", accounts.account_detail, name="account"),
    path("accounts/<int:pk>/reset/", accounts.account_reset, name="account-reset"),
    path("contracts/", contracts.contract_list, name="contracts"),
    path("contracts/new/", contracts.contract_create, name="contract-new"),
    path("contracts/import/", contracts.contract_import, name="contract-import"),
    path("contracts/<int:pk>/", contracts.contract_detail, name="contract"),
    path("contracts/<int:pk>/accounts/", contracts.contract_account_invite, name="contract-account-invite"),
    path(
        "contracts/<int:pk>/accounts/<int:account_id>/resend/",
        contracts.contract_account_resend,
        name="contract-account-resend",
    ),
    path(
        "contracts/<int:pk>/accounts/<int:account_id>/stop/",
        contracts.contract_account_stop,
        name="contract-account-stop",
    ),
    # Public: the single-use link e-mailed to the staff member is the credential (SPEC §10).
    path("enrol/complete/", accounts.enrol_complete, name="enrol-complete"),
    path("enrol/<str:token>/", accounts.enrol, name="enrol"),
]
