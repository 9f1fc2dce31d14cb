from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy

from accounts.forms import LoginForm


class LoginView(auth_views.LoginView):
    """Log in by email. Success goes to ``next`` when it is a safe local URL,
    else to LOGIN_REDIRECT_URL ("/"), which sends clients to the portal and
    staff to the console (config.views.home)."""

    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


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
    """The link from the email: set a new password."""

    success_url = reverse_lazy("accounts:password_reset_complete")
