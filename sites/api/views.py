"""HTTP in, JSON out: each view finds its objects through the caller's MSP and hands
every change to the function the console also calls."""

from collections.abc import Callable

from django import forms
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.http import HttpRequest, JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, filters, generics, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sat_portal.queries import subquery_count
from scim_app.endpoint.locations import tenant_url, token_endpoint
from scim_app.models import Membership, ScimGroup, ScimUser
from sites import status as site_status
from sites.access import Principal
from sites.credentials import entra, federation, oauth, scim_tokens
from sites.credentials.base import Via
from sites.models import ClientSecret, Credential, FederationTrust, HashedSecret, ScimToken, Site

from .permissions import principal_of
from .serializers import (
    AddedFederationTrustSerializer,
    ClientSecretSerializer,
    DisabledSerializer,
    FederationTrustSerializer,
    IssuedClientSecretSerializer,
    IssuedScimTokenSerializer,
    NewClientSecretSerializer,
    NewFederationTrustSerializer,
    ScimGroupSerializer,
    ScimTokenSerializer,
    ScimUserSerializer,
    SiteSerializer,
    SiteStatusSerializer,
)

SITE_ID = OpenApiParameter(
    "site_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The site's `id`."
)
TOKEN_ID = OpenApiParameter(
    "token_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The token's `id`."
)
SECRET_ID = OpenApiParameter(
    "secret_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The secret's `id`."
)
TRUST_ID = OpenApiParameter(
    "trust_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The trust's `id`."
)


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class ActiveFilter(filters.BaseFilterBackend):
    """`?active=true|false`: only enabled, or only disabled, provisioned users."""

    def filter_queryset(self, request, queryset, view):
        value = request.query_params.get("active")
        if value is None:
            return queryset
        if value.lower() not in ("true", "false"):
            raise exceptions.ValidationError({"active": ["Must be true or false."]})
        return queryset.filter(active=value.lower() == "true")

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": "active",
                "in": "query",
                "required": False,
                "description": "true: only active users; false: only disabled ones.",
                "schema": {"type": "boolean"},
            }
        ]


class SearchFilter(filters.SearchFilter):
    """DRF's `?search=`, whose errors name the parameter like every other 400 here."""

    def get_search_terms(self, request) -> list[str]:
        value = request.query_params.get(self.search_param, "")
        try:
            # A CharField refuses NUL characters, which PostgreSQL cannot compare against.
            forms.CharField(required=False).clean(value)
        except ValidationError as error:
            raise exceptions.ValidationError({self.search_param: error.messages}) from None
        return super().get_search_terms(request)


# Every API view: the caller's principal, and the site in the URL, found in their MSP.
class MspScoped:
    request: Request
    kwargs: dict

    @property
    def principal(self) -> Principal:
        return principal_of(self.request)

    def get_site(self) -> Site:
        if not hasattr(self, "_site"):
            # An invalid UUID, another MSP's site and a missing one are the same 404.
            try:
                self._site = self.principal.site(self.kwargs["site_id"])
            except Site.DoesNotExist:
                raise exceptions.NotFound("No site with this id.") from None
        return self._site

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "msp": self.principal.msp}

    def issued(self, issue: Callable[[], tuple[HashedSecret, str]]) -> tuple[HashedSecret, str]:
        """`issue()`, by the caller through the API; the rule's refusal is a 400."""
        try:
            return issue()
        except ValidationError as error:
            raise exceptions.ValidationError(error.message_dict) from None


def shown_once(body: dict) -> Response:
    """201 with a new credential's secret: the only answer that ever holds it."""
    return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


@extend_schema_view(
    get=extend_schema(
        summary="List your MSP's sites",
        description="Ordered by name; `search` matches part of the name.",
    ),
    post=extend_schema(
        summary="Create a site",
        description="Names are unique per MSP, ignoring case. SAT is enabled unless "
        "`sat_enabled` is false.",
    ),
)
class SiteList(MspScoped, generics.ListCreateAPIView):
    serializer_class = SiteSerializer
    pagination_class = Pagination
    filter_backends = [SearchFilter]
    search_fields = ["name"]

    def get_queryset(self) -> QuerySet[Site]:
        return self.principal.sites().order_by("name", "pk")


@extend_schema_view(
    get=extend_schema(summary="Read a site", description="", parameters=[SITE_ID]),
    patch=extend_schema(
        summary="Rename a site or turn SAT on or off",
        description="While SAT is off, Entra's requests with the site's tokens are refused.",
        parameters=[SITE_ID],
    ),
)
class SiteDetail(MspScoped, generics.RetrieveUpdateAPIView):
    serializer_class = SiteSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self) -> Site:
        return self.get_site()


@extend_schema_view(
    get=extend_schema(
        summary="List a site's Secret Tokens",
        description="Newest first, with the last characters of each (never the secret).",
        parameters=[SITE_ID],
    ),
)
class ScimTokenList(MspScoped, generics.ListAPIView):
    serializer_class = ScimTokenSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[ScimToken]:
        return self.get_site().scim_tokens.select_related("created_by")

    @extend_schema(
        summary="Issue a Secret Token",
        description="Returns the token's secret once, with the Tenant URL. Tokens already "
        "active keep working for SCIM_TOKEN_GRACE_PERIOD seconds, so Entra can be switched "
        "to the new one without an outage.",
        parameters=[SITE_ID],
        request=None,
        responses={201: IssuedScimTokenSerializer},
    )
    def post(self, request: Request, site_id: str) -> Response:
        site = self.get_site()
        token, plaintext = self.issued(
            lambda: scim_tokens.issue_token(site, by=self.principal.user, via=Via.API)
        )
        body = {
            **ScimTokenSerializer(token).data,
            "token": plaintext,
            "tenant_url": tenant_url(request),
        }
        return shown_once(body)


class CredentialDetail(MspScoped, generics.RetrieveDestroyAPIView):
    """One of a site's credentials of a kind, by the id in `id_kwarg`; DELETE revokes it
    (with `revoke`, the function the console calls), as POST …/revoke does."""

    id_kwarg: str
    missing: str
    revoke: Callable[..., bool]

    def credentials(self, site: Site) -> QuerySet:
        raise NotImplementedError

    def get_object(self) -> Credential:
        try:
            return self.credentials(self.get_site()).get(pk=self.kwargs[self.id_kwarg])
        except (ObjectDoesNotExist, ValueError):
            raise exceptions.NotFound(self.missing) from None

    def perform_destroy(self, credential: Credential) -> None:
        self.revoke(credential, by=self.principal.user, via=Via.API)


class CredentialRevoke:
    """POST …/revoke: revoke, and answer with the credential as it is now."""

    http_method_names = ["post", "options"]

    def post(self, request: Request, *args, **kwargs) -> Response:
        credential = self.get_object()
        self.perform_destroy(credential)
        return Response(self.get_serializer(credential).data)


@extend_schema_view(
    get=extend_schema(summary="Read a Secret Token (never its secret)", description=""),
    delete=extend_schema(
        summary="Revoke a Secret Token",
        description="The same as POST …/revoke, answering 204.",
        responses={204: None},
    ),
)
@extend_schema(parameters=[SITE_ID, TOKEN_ID])
class ScimTokenDetail(CredentialDetail):
    serializer_class = ScimTokenSerializer
    id_kwarg = "token_id"
    missing = "This site has no Secret Token with this id."
    revoke = staticmethod(scim_tokens.revoke_token)

    def credentials(self, site: Site) -> QuerySet[ScimToken]:
        return site.scim_tokens.select_related("created_by")


@extend_schema_view(
    post=extend_schema(
        summary="Revoke a Secret Token",
        description="Entra's requests with it fail from now on. Revoking twice is harmless.",
        request=None,
        responses={200: ScimTokenSerializer},
    )
)
class ScimTokenRevoke(CredentialRevoke, ScimTokenDetail):
    pass


@extend_schema_view(
    get=extend_schema(
        summary="List a site's OAuth client secrets",
        description="Newest first, each with its client id and the last characters of the "
        "secret (never the secret).",
        parameters=[SITE_ID],
    ),
)
class ClientSecretList(MspScoped, generics.ListAPIView):
    serializer_class = ClientSecretSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[ClientSecret]:
        return oauth.secrets_of(self.get_site())

    @extend_schema(
        summary="Issue an OAuth client secret",
        description="Creates the site's OAuth client if it has none, and a secret of it that "
        "expires after `lifetime_days`. Returns the secret once, with the four values Entra "
        "needs for the OAuth2 Client Credentials Grant. Secrets already issued keep working: "
        "revoke the old one once Entra has the new one.",
        parameters=[SITE_ID],
        request=NewClientSecretSerializer,
        responses={201: IssuedClientSecretSerializer},
    )
    def post(self, request: Request, site_id: str) -> Response:
        site = self.get_site()
        wanted = NewClientSecretSerializer(data=request.data)
        wanted.is_valid(raise_exception=True)
        secret, plaintext = self.issued(
            lambda: oauth.issue_secret(
                site,
                lifetime_days=wanted.validated_data.get("lifetime_days"),
                by=self.principal.user,
                via=Via.API,
            )
        )
        body = {
            **ClientSecretSerializer(secret).data,
            "client_secret": plaintext,
            "tenant_url": tenant_url(request),
            "token_endpoint": token_endpoint(request),
        }
        return shown_once(body)


@extend_schema_view(
    get=extend_schema(summary="Read an OAuth client secret (never the secret)", description=""),
    delete=extend_schema(
        summary="Revoke an OAuth client secret",
        description="The same as POST …/revoke, answering 204.",
        responses={204: None},
    ),
)
@extend_schema(parameters=[SITE_ID, SECRET_ID])
class ClientSecretDetail(CredentialDetail):
    serializer_class = ClientSecretSerializer
    id_kwarg = "secret_id"
    missing = "This site has no OAuth client secret with this id."
    revoke = staticmethod(oauth.revoke_secret)

    def credentials(self, site: Site) -> QuerySet[ClientSecret]:
        return oauth.secrets_of(site)


@extend_schema_view(
    post=extend_schema(
        summary="Revoke an OAuth client secret",
        description="No access token is issued with it from now on, and those it got stop "
        "working at once. Revoking twice is harmless.",
        request=None,
        responses={200: ClientSecretSerializer},
    )
)
class ClientSecretRevoke(CredentialRevoke, ClientSecretDetail):
    pass


@extend_schema_view(
    get=extend_schema(
        summary="List a site's federation trusts",
        description="Workload identity federation: the Entra apps whose signed assertions "
        "get access tokens for the site, newest first. Nothing here is secret.",
        parameters=[SITE_ID],
    ),
)
class FederationTrustList(MspScoped, generics.ListAPIView):
    serializer_class = FederationTrustSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[FederationTrust]:
        return federation.trusts_of(self.get_site())

    @extend_schema(
        summary="Trust an Entra app (workload identity federation)",
        description="Paste the Issuer, JWKS URL, Subject and Audience Entra shows for the "
        "app's provisioning. Both URLs must be on FEDERATION_JWKS_HOSTS (Microsoft's login "
        "host) and name one tenant. Answers with the Client ID, Token URL and Tenant URL to "
        "paste back into Entra; the site's OAuth client is created if it has none.",
        parameters=[SITE_ID],
        request=NewFederationTrustSerializer,
        responses={201: AddedFederationTrustSerializer},
    )
    def post(self, request: Request, site_id: str) -> Response:
        site = self.get_site()
        wanted = NewFederationTrustSerializer(data=request.data)
        wanted.is_valid(raise_exception=True)
        try:
            values = federation.validate(**wanted.validated_data)
            trust = federation.add_trust(site, values, by=self.principal.user, via=Via.API)
        except ValidationError as error:
            raise exceptions.ValidationError(error.message_dict) from None
        body = {
            **FederationTrustSerializer(trust).data,
            "token_endpoint": token_endpoint(request),
            "tenant_url": tenant_url(request),
        }
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="Read a federation trust", description=""),
    delete=extend_schema(
        summary="Revoke a federation trust",
        description="The same as POST …/revoke, answering 204.",
        responses={204: None},
    ),
)
@extend_schema(parameters=[SITE_ID, TRUST_ID])
class FederationTrustDetail(CredentialDetail):
    serializer_class = FederationTrustSerializer
    id_kwarg = "trust_id"
    missing = "This site has no federation trust with this id."
    revoke = staticmethod(federation.revoke_trust)

    def credentials(self, site: Site) -> QuerySet[FederationTrust]:
        return federation.trusts_of(site)


@extend_schema_view(
    post=extend_schema(
        summary="Revoke a federation trust",
        description="No access token is issued through it from now on, and those it got "
        "stop working at once. Revoking twice is harmless.",
        request=None,
        responses={200: FederationTrustSerializer},
    )
)
class FederationTrustRevoke(CredentialRevoke, FederationTrustDetail):
    pass


class DisableEntra(MspScoped, APIView):
    @extend_schema(
        summary="Disable a site's Microsoft Entra integration",
        description="Revokes every Secret Token, OAuth client secret and federation trust "
        "of the site (and so every access token): Entra can no longer provision it. The "
        "OAuth client keeps its id, so a new secret or trust reconnects Entra.",
        parameters=[SITE_ID],
        request=None,
        responses={200: DisabledSerializer},
    )
    def post(self, request: Request, site_id: str) -> Response:
        disabled = entra.disable(self.get_site(), by=self.principal.user, via=Via.API)
        return Response(DisabledSerializer(disabled).data)


class SiteStatus(MspScoped, APIView):
    @extend_schema(
        summary="A site's provisioning status",
        description="Counts of provisioned users and groups, when Entra last called "
        "and the last request that failed.",
        parameters=[SITE_ID],
        responses={200: SiteStatusSerializer},
    )
    def get(self, request: Request, site_id: str) -> Response:
        summary = site_status.provisioning_summary(self.get_site())
        return Response(SiteStatusSerializer(summary).data)


@extend_schema_view(
    get=extend_schema(
        summary="List a site's provisioned users",
        description="`search` matches user name, display name, work email, department and title.",
        parameters=[SITE_ID],
    )
)
class ScimUserList(MspScoped, generics.ListAPIView):
    serializer_class = ScimUserSerializer
    pagination_class = Pagination
    filter_backends = [SearchFilter, ActiveFilter]
    search_fields = ["user_name", "display_name", "work_email", "department", "title"]

    def get_queryset(self) -> QuerySet[ScimUser]:
        users = self.get_site().scim_users.live().select_related("manager")
        return users.order_by(Lower("user_name"), "id")


@extend_schema_view(
    get=extend_schema(
        summary="List a site's provisioned groups",
        description="`search` matches the display name.",
        parameters=[SITE_ID],
    )
)
class ScimGroupList(MspScoped, generics.ListAPIView):
    serializer_class = ScimGroupSerializer
    pagination_class = Pagination
    filter_backends = [SearchFilter]
    search_fields = ["display_name"]

    def get_queryset(self) -> QuerySet[ScimGroup]:
        # A count per group shown, not a join of every membership of the site.
        member_count = subquery_count(
            Membership.objects.filter(user__deleted_at__isnull=True), "group"
        )
        groups = self.get_site().scim_groups.live().annotate(member_count=member_count)
        return groups.order_by(Lower("display_name"), "id")


def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any other URL under /api/v1/: JSON, like every other API answer, not an HTML page."""
    return JsonResponse({"detail": f"No API resource at {request.path}."}, status=404)
