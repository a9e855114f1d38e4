"""Signing in and out, and a new login's one-time set-password link."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.urls import reverse_lazy

from sites.signin import ThrottledAuthenticationForm

from ..decorators import post_only_page

sign_in = auth_views.LoginView.as_view(
    authentication_form=ThrottledAuthenticationForm, redirect_authenticated_user=True
)


class SignOut(auth_views.LogoutView):
    def http_method_not_allowed(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return post_only_page(request)


sign_out = SignOut.as_view()


class SetPassword(auth_views.PasswordResetConfirmView):
    """A new login's one-time link (sites.team.set_password_url): choose a password, and
    be signed in."""

    template_name = "registration/set_password.html"
    post_reset_login = True
    success_url = reverse_lazy("console:list")

    def get_user(self, uidb64):
        # A deactivated login (removed from its team) gets "this link has been used".
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password is set. Welcome to SAT Portal.")
        return response


set_password = SetPassword.as_view()
