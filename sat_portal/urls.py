from django.contrib import admin
from django.urls import include, path, re_path

from scim_app.endpoint import oauth as oauth_views
from scim_app.endpoint import views as scim_views
from sites.console.views import auth as console_auth

from . import observability
from . import views as portal_views

handler500 = "sat_portal.views.server_error"

urlpatterns = [
    # The Tenant URL itself, without the slash that the routes below start with.
    path("api/v2/scim", scim_views.root),
    path("api/v2/scim/", include("scim_app.endpoint.urls")),
    # The OAuth token endpoint; with or without a trailing slash, never redirected.
    re_path(r"^api/v2/oauth/token/?$", oauth_views.token, name="oauth_token"),
    path("api/v1/", include("sites.api.urls")),
    path("admin/", admin.site.urls),
    path("accounts/login/", console_auth.sign_in, name="login"),
    path("accounts/logout/", console_auth.sign_out, name="logout"),
    path(
        "accounts/set-password/<uidb64>/<token>/",
        console_auth.set_password,
        name="set_password",
    ),
    path("metrics", observability.metrics),
    path("favicon.ico", portal_views.favicon),
    path("", include("sites.console.urls")),
]
