from django.urls import path

from chat.files import views

app_name = "chat_files"
urlpatterns = [
    path("sessions/<int:session_id>/files/", views.upload, name="upload"),
    path("files/<int:attachment_id>/", views.download, name="download"),
    path("files/<int:attachment_id>/preview/", views.preview, name="preview"),
]
