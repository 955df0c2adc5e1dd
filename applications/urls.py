from django.urls import path

from . import views

app_name = "applications"

# URL names are the screen names of SPEC §3 (data-screen).
urlpatterns = [
    path("customs-broker-ids/start/", views.start, name="start"),
    path("drafts/<int:pk>/applicant/", views.applicant, name="applicant"),
    path("drafts/<int:pk>/ids/", views.add_ids, name="add-ids"),
    path("drafts/<int:pk>/select-ids/", views.select_ids, name="select-ids"),
    path("drafts/<int:pk>/confirm/", views.confirm, name="confirm"),
    path("drafts/<int:pk>/discard/", views.discard, name="discard"),
    path("<int:pk>/complete/", views.complete, name="complete"),
    path("", views.application_list, name="application-list"),
    path("<int:pk>/", views.application_detail, name="application-detail"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/id-notice/", views.id_notice, name="id-notice"),
    path("<int:pk>/id-notice.pdf", views.id_notice_pdf, name="id-notice-pdf"),
]
