from __future__ import annotations

from django.urls import path

from quizzes import views

app_name = "quizzes"

urlpatterns = [
    path("attempt/<int:pk>/", views.attempt_detail, name="attempt"),
    path("attempt/<int:pk>/answer/", views.answer, name="answer"),
    path("attempt/<int:pk>/hint/", views.hint, name="hint"),
    path("attempt/<int:pk>/finish/", views.finish, name="finish"),
    path("attempt/<int:pk>/review/", views.review, name="review"),
    path("<slug:slug>/", views.start, name="start"),
]
