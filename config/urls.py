from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.forms import AdminLoginForm
from config import views

admin.site.site_header = "Switchboard administration"
admin.site.site_title = "Switchboard admin"
admin.site.index_title = "Helpdesk configuration"
# Says when the login throttle locked a log-in (accounts/login_throttle.py).
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that link no icon. The unhashed static
    # name, which WhiteNoise also serves in production, so that the permanent
    # redirect browsers cache never points at an outdated hashed file.
    path(
        "favicon.ico", RedirectView.as_view(url=f"{settings.STATIC_URL}favicon.svg", permanent=True)
    ),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("portal/", include("tickets.urls_portal")),
    path("console/supervisor/", include("chat.supervision.urls")),
    # The agent workspace (chat/workspace/): before console/, which is tickets'.
    path("console/chats/", include("chat.workspace.urls")),
    path("console/", include("tickets.urls_console")),
    path("files/", include("tickets.urls_files")),
    path("chat/", include("chat.files.urls")),
    # The SMS and WhatsApp providers' webhooks (chat/inbound/webhooks.py).
    # The files providers fetch to send them (chat/channels/public_media.py).
    path("channels/media/", include("chat.channels.urls")),
    path("channels/", include("chat.inbound.urls")),
    path("api/", include("config.api_urls")),
]
