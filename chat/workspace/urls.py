from django.urls import path

from chat.workspace import views

app_name = "workspace"
urlpatterns = [
    path("", views.chats, name="chats"),
    path("<int:session_id>/context/", views.context, name="context"),
]
