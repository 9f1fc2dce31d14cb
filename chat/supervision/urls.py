from django.urls import path

from chat.supervision import views as views_supervisor

app_name = "supervisor"
urlpatterns = [
    path("", views_supervisor.console, name="console"),
    path("chats/<int:session_id>/", views_supervisor.transcript, name="transcript"),
    path("tickets/<int:ticket_id>/assign/", views_supervisor.ticket_assign, name="ticket_assign"),
    path("tickets/<int:ticket_id>/close/", views_supervisor.ticket_close, name="ticket_close"),
    path("tickets/<int:ticket_id>/reopen/", views_supervisor.ticket_reopen, name="ticket_reopen"),
]
