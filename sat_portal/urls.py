from django.contrib import admin
from django.urls import include, path

from scim_app import views as scim_views
from sites import views as console_views

urlpatterns = [
    # The Tenant URL itself, without the slash that the routes below start with.
    path("api/v2/scim", scim_views.root),
    path("api/v2/scim/", include("scim_app.urls")),
    path("api/v1/", include("sites.api.urls")),
    path("admin/", admin.site.urls),
    path("accounts/login/", console_views.sign_in, name="login"),
    path("accounts/logout/", console_views.sign_out, name="logout"),
    path("", include("sites.urls")),
]
