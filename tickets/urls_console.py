from django.urls import path

from tickets import views_console

app_name = "console"
urlpatterns = [
    path("", views_console.ticket_list, name="tickets"),
    path("tickets/<int:ticket_id>/", views_console.ticket_detail, name="ticket_detail"),
    path("tickets/<int:ticket_id>/notes/", views_console.note_add, name="note_add"),
    path("tickets/<int:ticket_id>/assign/", views_console.ticket_assign, name="ticket_assign"),
    path("tickets/<int:ticket_id>/close/", views_console.ticket_close, name="ticket_close"),
    path("tickets/<int:ticket_id>/reopen/", views_console.ticket_reopen, name="ticket_reopen"),
    path("tickets/<int:ticket_id>/time/", views_console.time_entry_add, name="time_entry_add"),
]
