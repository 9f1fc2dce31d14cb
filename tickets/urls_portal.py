from django.urls import path

from tickets import views_portal

app_name = "portal"
urlpatterns = [
    path("", views_portal.home, name="home"),
    path("tickets/new/", views_portal.ticket_create, name="ticket_create"),
    path("tickets/<int:ticket_id>/", views_portal.ticket_detail, name="ticket_detail"),
    path("tickets/<int:ticket_id>/notes/", views_portal.note_add, name="note_add"),
]
