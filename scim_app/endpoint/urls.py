from django.urls import re_path

from . import views

app_name = "scim"

# Entra appends these to the Tenant URL. A trailing slash is accepted and never
# redirected: APPEND_SLASH would answer with an HTML 301.
ID = r"(?P<resource_id>[^/]+)"
urlpatterns = [
    re_path(r"^$", views.root, name="root"),
    # Not implemented (advertised as such in /ServiceProviderConfig): 501.
    re_path(
        r"^(?:Bulk|Me|\.search|Users/\.search|Groups/\.search)/?$",
        views.ScimBaseView.as_view(implemented=False),
    ),
    re_path(r"^Users/?$", views.UsersView.as_view(), name="users"),
    re_path(rf"^Users/{ID}/?$", views.UsersView.as_view(), name="users"),
    re_path(r"^Groups/?$", views.GroupsView.as_view(), name="groups"),
    re_path(rf"^Groups/{ID}/?$", views.GroupsView.as_view(), name="groups"),
    re_path(r"^ServiceProviderConfig/?$", views.ServiceProviderConfigView.as_view()),
    re_path(r"^ResourceTypes/?$", views.ResourceTypesView.as_view()),
    re_path(rf"^ResourceTypes/{ID}/?$", views.ResourceTypesView.as_view()),
    re_path(r"^Schemas/?$", views.SchemasView.as_view()),
    re_path(rf"^Schemas/{ID}/?$", views.SchemasView.as_view()),
    re_path(r"^.*$", views.root),
]
