from django.urls import path

from .views import api_keys, entra, sites, team

app_name = "console"

urlpatterns = [
    path("", sites.site_list, name="list"),
    path("sites/add/", sites.site_add, name="add"),
    path("sites/<uuid:public_id>/sat/", entra.site_sat, name="sat"),
    path("sites/<uuid:public_id>/sat/enabled/", sites.set_sat_enabled, name="set_sat_enabled"),
    path(
        "sites/<uuid:public_id>/sat/entra/configure/",
        entra.configure_entra,
        name="configure_entra",
    ),
    path("sites/<uuid:public_id>/sat/entra/disable/", entra.disable_entra, name="disable_entra"),
    path(
        "sites/<uuid:public_id>/sat/entra/tokens/<int:token_id>/revoke/",
        entra.revoke_token,
        name="revoke_token",
    ),
    path("api-keys/", api_keys.api_key_list, name="api_keys"),
    path("api-keys/<uuid:key_id>/revoke/", api_keys.api_key_revoke, name="api_key_revoke"),
    path("team/", team.team_list, name="team"),
    path("team/<uuid:public_id>/role/", team.team_role, name="team_role"),
    path("team/<uuid:public_id>/remove/", team.team_remove, name="team_remove"),
    path("team/<uuid:public_id>/invitation/", team.team_renew, name="team_renew"),
]
