from django.contrib.auth import views as auth_views
from django.urls import include, path

from applications.models import ApplicationKind

from . import health, office, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/otp/", views.login_otp, name="login-otp"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.password_reset, name="password-reset"),
    path("password-reset/sent/", views.password_reset_sent, name="password-reset-sent"),
    path("password-reset/done/", views.password_reset_done, name="password-reset-done"),
    path("password-reset/<str:token>/", views.password_reset_confirm, name="password-reset-confirm"),
    path("invitation/done/", views.invitation_done, name="invitation-done"),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
    path("office/accounts/", office.account_list, name="office-accounts"),
    path("office/accounts/<int:pk>/resend/", office.account_resend, name="office-account-resend"),
    path("office/accounts/<int:pk>/stop/", office.account_stop, name="office-account-stop"),
    path("menu/", views.menu, name="menu"),
    path("customs-broker-ids/guidance/", views.guidance, name="guidance"),
    path(
        "customs-broker-ids/remove/guidance/",
        views.guidance,
        {"kind": ApplicationKind.REMOVE_BROKER_IDS},
        name="guidance-remove",
    ),
    path(
        "user-ids/password-reset/guidance/",
        views.guidance,
        {"kind": ApplicationKind.RESET_PASSWORDS},
        name="guidance-reset",
    ),
    path("applications/", include("applications.urls")),
    path("staff/", include("reviews.urls")),
    path("utb/", include("utb_gateway.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]

handler403 = "nss_portal.errors.permission_denied"
handler404 = "nss_portal.errors.page_not_found"
handler500 = "nss_portal.errors.server_error"
