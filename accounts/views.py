from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods

from accounts import login_throttle
from accounts.forms import LoginForm, UserSettingsForm


class LoginView(auth_views.LoginView):
    """Log in by email. Success goes to ``next`` when it is a safe local URL,
    else to LOGIN_REDIRECT_URL ("/"), which sends clients to the portal and
    staff to the console (config.views.home). A log-in the throttle refused
    shows the page again with the lock-out and answers 429."""

    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form: Form) -> HttpResponse:
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, "locked"):
            response.status_code = 429
        return response


class LogoutView(auth_views.LogoutView):
    """POST only (Django's default): a link or an image cannot log anyone out."""


# Forgot your password? Django's reset views under /accounts/, in the product's
# look; they name their URLs without our "accounts:" namespace, hence the URLs here.


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a link by email. Every address gets the same answer, so the page
    does not tell which have an account."""

    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The link from the email: set a new password. It also lifts a lock-out of
    the account (accounts/login_throttle.py): who reads its email may log in."""

    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form: Form) -> HttpResponse:
        response = super().form_valid(form)
        login_throttle.forget_account_failures(self.user.email)
        return response


@require_http_methods(["GET", "POST"])
@login_required
def user_settings(request: HttpRequest) -> HttpResponse:
    """Your settings (linked from the header): the time zone every date and
    time is shown in. Clients see it in the portal's frame, staff in the
    console's. A refused value is shown again with its error, and nothing is
    saved (400)."""
    form = UserSettingsForm(request.POST or None, instance=request.user)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, "Your settings are saved.")
            return redirect("accounts:settings")
        status = 400
    else:
        status = 200
    base = "console/base.html" if request.user.is_agent else "portal/base.html"
    return render(
        request, "accounts/settings.html", {"form": form, "base_template": base}, status=status
    )
