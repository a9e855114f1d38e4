from django.contrib import admin
from django.urls import include, path

from scim_app import views as scim_views

urlpatterns = [
    # The Tenant URL itself, without the slash that the routes below start with.
    path("api/v2/scim", scim_views.root),
    path("api/v2/scim/", include("scim_app.urls")),
    path("admin/", admin.site.urls),
    path("", include("sites.urls")),
]
