"""Move ``canonical`` to the last column of the table.

SQLite keeps a long text in overflow pages and reads through them for every column stored
after it: with the sealed text in the middle of the row, listing and search (which read
visibility, dates, titles) walked every candidate's whole transcript. The text is copied
unchanged, byte for byte; hashes and the chain are not affected.
"""

from __future__ import annotations

from django.db import migrations, models


def copy_forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    MinutesRecord = apps.get_model("minutes", "MinutesRecord")
    MinutesRecord.objects.update(sealed=models.F("canonical"))


def copy_back(apps, schema_editor):  # type: ignore[no-untyped-def]
    MinutesRecord = apps.get_model("minutes", "MinutesRecord")
    MinutesRecord.objects.update(canonical=models.F("sealed"))


class Migration(migrations.Migration):
    dependencies = [("minutes", "0003_minutesrecord_minutes_kind_session")]

    operations = [
        migrations.AddField(model_name="minutesrecord", name="sealed", field=models.TextField(default="")),
        migrations.RunPython(copy_forward, copy_back),
        migrations.RemoveField(model_name="minutesrecord", name="canonical"),
        migrations.RenameField(model_name="minutesrecord", old_name="sealed", new_name="canonical"),
        migrations.AlterField(model_name="minutesrecord", name="canonical", field=models.TextField()),
    ]
