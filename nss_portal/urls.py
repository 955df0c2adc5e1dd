from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import health, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("menu/", views.menu, name="menu"),
    path("customs-broker-ids/guidance/", views.guidance, name="guidance"),
    path("applications/", include("applications.urls")),
    path("staff/", include("reviews.urls")),
    path("utb/", include("utb_gateway.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
