from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

app_name = "api"

SITE = r"sites/(?P<site_id>[^/]+)"
TOKEN = SITE + r"/scim-tokens/(?P<token_id>[^/]+)"
SECRET = SITE + r"/client-secrets/(?P<secret_id>[^/]+)"
TRUST = SITE + r"/federation-trusts/(?P<trust_id>[^/]+)"

# Trailing slashes are optional: scripts write both, and a redirect would drop a POST body.
urlpatterns = [
    re_path(r"^sites/?$", views.SiteList.as_view(), name="sites"),
    re_path(rf"^{SITE}/?$", views.SiteDetail.as_view(), name="site"),
    re_path(rf"^{SITE}/scim-tokens/?$", views.ScimTokenList.as_view(), name="scim-tokens"),
    re_path(rf"^{TOKEN}/?$", views.ScimTokenDetail.as_view(), name="scim-token"),
    re_path(rf"^{TOKEN}/revoke/?$", views.ScimTokenRevoke.as_view(), name="scim-token-revoke"),
    re_path(rf"^{SITE}/client-secrets/?$", views.ClientSecretList.as_view(), name="client-secrets"),
    re_path(rf"^{SECRET}/?$", views.ClientSecretDetail.as_view(), name="client-secret"),
    re_path(
        rf"^{SECRET}/revoke/?$", views.ClientSecretRevoke.as_view(), name="client-secret-revoke"
    ),
    re_path(
        rf"^{SITE}/federation-trusts/?$",
        views.FederationTrustList.as_view(),
        name="federation-trusts",
    ),
    re_path(rf"^{TRUST}/?$", views.FederationTrustDetail.as_view(), name="federation-trust"),
    re_path(
        rf"^{TRUST}/revoke/?$",
        views.FederationTrustRevoke.as_view(),
        name="federation-trust-revoke",
    ),
    re_path(rf"^{SITE}/entra/disable/?$", views.DisableEntra.as_view(), name="entra-disable"),
    re_path(rf"^{SITE}/status/?$", views.SiteStatus.as_view(), name="site-status"),
    re_path(rf"^{SITE}/users/?$", views.ScimUserList.as_view(), name="site-users"),
    re_path(rf"^{SITE}/groups/?$", views.ScimGroupList.as_view(), name="site-groups"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^(?P<path>.*)$", views.not_found),
]
