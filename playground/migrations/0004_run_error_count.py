"""Run.error_count: exceptions the learner's code raised during the run, for the dashboards' run-errors flag."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("playground", "0003_run_learner"),
    ]

    operations = [
        migrations.AddField(
            model_name="run",
            name="error_count",
            field=models.PositiveIntegerField(default=0),
        ),
    ]
