from django.urls import path

from . import api_key_views, views

app_name = "sites"

urlpatterns = [
    path("", views.site_list, name="list"),
    path("sites/add/", views.site_add, name="add"),
    path("sites/<uuid:public_id>/sat/", views.site_sat, name="sat"),
    path("sites/<uuid:public_id>/sat/enabled/", views.set_sat_enabled, name="set_sat_enabled"),
    path(
        "sites/<uuid:public_id>/sat/entra/configure/",
        views.configure_entra,
        name="configure_entra",
    ),
    path("sites/<uuid:public_id>/sat/entra/disable/", views.disable_entra, name="disable_entra"),
    path(
        "sites/<uuid:public_id>/sat/entra/tokens/<int:token_id>/revoke/",
        views.revoke_token,
        name="revoke_token",
    ),
    path("api-keys/", api_key_views.api_key_list, name="api_keys"),
    path("api-keys/<uuid:key_id>/revoke/", api_key_views.api_key_revoke, name="api_key_revoke"),
]
