"""Everything under /api/: the REST API, its OpenAPI schema and docs page."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from chat.api import ChatSessionViewSet
from config.api import OfflineSwaggerView
from tickets.api import TicketViewSet

router = SimpleRouter()
router.register("tickets", TicketViewSet, basename="ticket")
router.register("chat/sessions", ChatSessionViewSet, basename="chat-session")

urlpatterns = [
    *router.urls,
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", OfflineSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
