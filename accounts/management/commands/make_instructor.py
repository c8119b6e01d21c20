"""manage.py make_instructor USERNAME: grant the instructor role."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.roles import make_instructor


class Command(BaseCommand):
    help = "Add an existing user to the instructors group."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}. Sign up first, then run this again.") from None
        make_instructor(user)
        self.stdout.write(self.style.SUCCESS(f"{username} is now an instructor."))
