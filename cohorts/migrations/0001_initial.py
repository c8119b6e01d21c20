# The models moved here from dashboards: state only, the tables (dashboards_cohort, dashboards_membership) and their
# rows stay where they are.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import cohorts.models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("dashboards", "0001_cohorts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Cohort",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=120)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "join_code",
                            models.CharField(default=cohorts.models.new_join_code, max_length=24, unique=True),
                        ),
                        ("join_expires_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "created_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={"db_table": "dashboards_cohort"},
                ),
                migrations.CreateModel(
                    name="Membership",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "role",
                            models.CharField(
                                choices=[("learner", "Learner"), ("instructor", "Instructor")], max_length=12
                            ),
                        ),
                        ("joined_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "cohort",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="memberships",
                                to="cohorts.cohort",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="cohort_memberships",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "dashboards_membership",
                        "indexes": [models.Index(fields=["user", "role"], name="dashboards__user_id_5b9587_idx")],
                        "constraints": [
                            models.UniqueConstraint(fields=("cohort", "user"), name="one_membership_per_cohort")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
