from django.urls import path

from chat import views_files

app_name = "chat_files"
urlpatterns = [
    path("sessions/<int:session_id>/files/", views_files.upload, name="upload"),
    path("files/<int:attachment_id>/", views_files.download, name="download"),
    path("files/<int:attachment_id>/preview/", views_files.preview, name="preview"),
]
