from __future__ import annotations

from django.db import migrations


def create_group(apps, schema_editor):
    """The instructors group exists from the start so the admin can grant it."""
    apps.get_model("auth", "Group").objects.get_or_create(name="instructors")


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_group, migrations.RunPython.noop)]
