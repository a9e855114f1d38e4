from django.urls import path, re_path

from .views import api_keys, docs, entra, overview, provisioned, sites, team

SITE = "sites/<uuid:public_id>/"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

app_name = "console"

urlpatterns = [
    path("", sites.site_list, name="list"),
    path("sites/add/", sites.site_add, name="add"),
    path(SITE, overview.overview, name="site"),
    path(f"{SITE}rename/", overview.rename, name="rename"),
    path(f"{SITE}delete/", overview.delete_site, name="delete"),
    path(f"{SITE}hold/", overview.set_hold, name="hold"),
    path(f"{SITE}held/", overview.held_deletes, name="held_deletes"),
    path(f"{SITE}alert/acknowledge/", overview.acknowledge_alert, name="acknowledge_alert"),
    path(f"{SITE}users/", provisioned.user_list, name="site_users"),
    path(f"{SITE}users/<uuid:user_id>/", provisioned.user_detail, name="site_user"),
    path(f"{SITE}groups/", provisioned.group_list, name="site_groups"),
    path(f"{SITE}groups/<uuid:group_id>/", provisioned.group_detail, name="site_group"),
    re_path(
        rf"^sites/(?P<public_id>{UUID})/(?P<kind>users|groups)/(?P<resource_id>{UUID})/restore/$",
        provisioned.restore,
        name="restore",
    ),
    re_path(
        rf"^sites/(?P<public_id>{UUID})/(?P<kind>users|groups)/(?P<resource_id>{UUID})/purge/$",
        provisioned.purge,
        name="purge",
    ),
    path("sites/<uuid:public_id>/sat/", entra.site_sat, name="sat"),
    path("sites/<uuid:public_id>/sat/enabled/", sites.set_sat_enabled, name="set_sat_enabled"),
    path(
        "sites/<uuid:public_id>/sat/entra/configure/",
        entra.configure_entra,
        name="configure_entra",
    ),
    path("sites/<uuid:public_id>/sat/entra/disable/", entra.disable_entra, name="disable_entra"),
    path(
        "sites/<uuid:public_id>/sat/entra/tokens/<int:pk>/revoke/",
        entra.revoke,
        {"kind": "token"},
        name="revoke_token",
    ),
    path(
        "sites/<uuid:public_id>/sat/entra/oauth/secrets/",
        entra.issue_client_secret,
        name="issue_client_secret",
    ),
    path(
        "sites/<uuid:public_id>/sat/entra/federation/",
        entra.add_federation_trust,
        name="add_federation_trust",
    ),
    path(
        "sites/<uuid:public_id>/sat/entra/federation/<int:pk>/revoke/",
        entra.revoke,
        {"kind": "trust"},
        name="revoke_federation_trust",
    ),
    path(
        "sites/<uuid:public_id>/sat/entra/oauth/secrets/<int:pk>/revoke/",
        entra.revoke,
        {"kind": "secret"},
        name="revoke_client_secret",
    ),
    path("api-keys/", api_keys.api_key_list, name="api_keys"),
    path("api-keys/<uuid:key_id>/revoke/", api_keys.api_key_revoke, name="api_key_revoke"),
    path("team/", team.team_list, name="team"),
    path("team/<uuid:public_id>/role/", team.team_role, name="team_role"),
    path("team/<uuid:public_id>/remove/", team.team_remove, name="team_remove"),
    path("team/<uuid:public_id>/invitation/", team.team_renew, name="team_renew"),
    path("help/", docs.help_page, name="help"),
    path("help/README.md", docs.readme, name="readme"),
]
