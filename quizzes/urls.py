from __future__ import annotations

from django.urls import path

from quizzes import views

app_name = "quizzes"

urlpatterns = [
    path("attempt/<id:pk>/", views.attempt_detail, name="attempt"),
    path("attempt/<id:pk>/answer/", views.answer, name="answer"),
    path("attempt/<id:pk>/hint/", views.hint, name="hint"),
    path("attempt/<id:pk>/finish/", views.finish, name="finish"),
    path("attempt/<id:pk>/review/", views.review, name="review"),
    path("<slug:slug>/", views.start, name="start"),
]
