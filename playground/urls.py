from __future__ import annotations

from django.urls import path

from playground import views

app_name = "playground"

urlpatterns = [
    path("", views.playground, name="index"),
    path("runs/<id:pk>/", views.replay, name="replay"),
    path("<slug:starter>/", views.playground, name="starter"),
]
