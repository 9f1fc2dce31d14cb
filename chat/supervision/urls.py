from django.urls import path

from chat.supervision import views

app_name = "supervisor"
urlpatterns = [
    path("", views.console, name="console"),
    path("chats/<int:session_id>/", views.transcript, name="transcript"),
    path("tickets/<int:ticket_id>/assign/", views.ticket_assign, name="ticket_assign"),
    path("tickets/<int:ticket_id>/close/", views.ticket_close, name="ticket_close"),
    path("tickets/<int:ticket_id>/reopen/", views.ticket_reopen, name="ticket_reopen"),
]
