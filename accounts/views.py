from __future__ import annotations

from django.contrib.auth import views as auth_views

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
