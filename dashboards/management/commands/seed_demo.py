"""manage.py seed_demo: demo accounts for trying the site; safe to run again."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from accounts.roles import make_instructor
from dashboards.demo import DEMO_PASSWORD, make_demo_cohort

DEMO_USERS = (("demo-learner", False), ("demo-instructor", True))


class Command(BaseCommand):
    help = "Create (or reset) a demo learner and a demo instructor and print their credentials."

    def handle(self, *args, **options) -> None:
        User = get_user_model()
        users = {}
        for username, instructor in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            if instructor:
                make_instructor(user)
            users[username] = user
            state = "created" if created else "already there (password unchanged)"
            self.stdout.write(f"{username:16} password: {DEMO_PASSWORD}  ({state})")
        cohort = make_demo_cohort(users["demo-instructor"], users["demo-learner"])
        learners = cohort.memberships.filter(role="learner").count()
        self.stdout.write(
            f"cohort “{cohort.name}” with {learners} learners and generated activity (dashboard of demo-instructor)"
        )
