from django.urls import re_path

from . import views

app_name = "scim"

# Entra appends these to the Tenant URL; a trailing slash is accepted and never
# redirected (APPEND_SLASH would answer HTML 301s).
urlpatterns = [
    re_path(r"^$", views.root, name="root"),
]
