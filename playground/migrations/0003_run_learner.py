"""Run.owner becomes Run.learner: "owner" now means only the consumer that owns a run (playground.owner)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("playground", "0002_run_heartbeat"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(model_name="run", name="playground__owner_i_256f88_idx"),
        migrations.RenameField(model_name="run", old_name="owner", new_name="learner"),
        migrations.AddIndex(
            model_name="run",
            index=models.Index(fields=["learner", "-started_at"], name="playground__learner_277382_idx"),
        ),
    ]
