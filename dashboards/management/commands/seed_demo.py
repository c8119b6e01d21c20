"""manage.py seed_demo: demo accounts for trying the site; safe to run again."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.roles import make_instructor
from dashboards.demo import DEMO_PASSWORD, make_demo_cohort

DEMO_USERS = (("demo-learner", False), ("demo-instructor", True))


class Command(BaseCommand):
    help = (
        "Create (or reset) a demo learner and a demo instructor and print their credentials. With DEBUG off the "
        "published demo password is refused: give --password."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", help="password for new demo accounts (required when DEBUG is off)")

    def handle(self, *args, **options) -> None:
        password = options["password"] or self.published_password()
        shown = password if password == DEMO_PASSWORD else "(the one given)"
        User = get_user_model()
        users = {}
        for username, instructor in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(password)
                user.save()
            if instructor:
                make_instructor(user)
            users[username] = user
            state = "created" if created else "already there (password unchanged)"
            self.stdout.write(f"{username:16} password: {shown}  ({state})")
        cohort = make_demo_cohort(users["demo-instructor"], users["demo-learner"], password=password)
        learners = cohort.memberships.filter(role="learner").count()
        self.stdout.write(
            f"cohort “{cohort.name}” with {learners} learners and generated activity (dashboard of demo-instructor)"
        )

    def published_password(self) -> str:
        """The README's demo password, only for a development site: anyone could sign in with it."""
        if not settings.DEBUG:
            raise CommandError(
                "DEBUG is off, so seed_demo will not create accounts with the published demo password "
                "(anyone could sign in with it). Give one: manage.py seed_demo --password '<a password of your own>'."
            )
        return DEMO_PASSWORD
