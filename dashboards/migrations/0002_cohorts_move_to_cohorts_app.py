# Cohort and Membership now belong to the cohorts app (cohorts.0001 takes them over): state only, no table changes.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0001_cohorts"),
        ("cohorts", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Membership"),
                migrations.DeleteModel(name="Cohort"),
            ],
            database_operations=[],
        ),
    ]
