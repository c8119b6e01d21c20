from __future__ import annotations

from django.urls import path

from playground import views

app_name = "playground"

urlpatterns = [
    path("", views.playground, name="index"),
    path("runs/", views.runs, name="runs"),
    path("runs/<id:pk>/", views.replay, name="replay"),
    path("runs/<id:pk>/share/", views.change_share, name="share"),
    path("<slug:starter>/", views.playground, name="starter"),
    path("<slug:starter>/draft/", views.save_draft, name="draft"),
    path("<slug:starter>/draft/reset/", views.reset_draft, name="draft-reset"),
]
