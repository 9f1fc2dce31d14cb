from django.contrib import admin
from django.urls import include, path

from config import views

admin.site.site_header = "Switchboard administration"
admin.site.site_title = "Switchboard admin"
admin.site.index_title = "Helpdesk configuration"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("portal/", include("tickets.urls_portal")),
    path("console/supervisor/", include("chat.supervision.urls")),
    path("console/", include("tickets.urls_console")),
    path("files/", include("tickets.urls_files")),
    path("chat/", include("chat.files.urls")),
    # The SMS and WhatsApp providers' webhooks (chat/inbound/webhooks.py).
    path("channels/", include("chat.inbound.urls")),
    path("api/", include("config.api_urls")),
]
