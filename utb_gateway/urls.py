from django.urls import path

from . import views

app_name = "utb_gateway"

urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("", views.menu, name="menu"),
    path("utb/", views.utb, name="utb"),
    path("utb01/", views.utb01, name="utb01"),
    path("password/", views.password, name="password"),
    path("api/utb", views.api_utb, name="api-utb"),
    path("api/utb01", views.api_utb01, name="api-utb01"),
]
