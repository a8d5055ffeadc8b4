"""The quorum becomes an exact fraction (numerator / denominator): 2/3 can be set exactly.
Existing quorums keep their value: p % becomes p/100, reduced (50 % → 1/2)."""

from fractions import Fraction

from django.db import migrations, models


def percent_to_fraction(apps, schema_editor):  # type: ignore[no-untyped-def]
    Motion = apps.get_model("voting", "Motion")
    for motion in Motion.objects.exclude(quorum_percent__isnull=True).only("pk", "quorum_percent"):
        q = Fraction(motion.quorum_percent, 100)
        Motion.objects.filter(pk=motion.pk).update(quorum_numerator=q.numerator, quorum_denominator=q.denominator)


def fraction_to_percent(apps, schema_editor):  # type: ignore[no-untyped-def]
    Motion = apps.get_model("voting", "Motion")
    for motion in Motion.objects.exclude(quorum_numerator__isnull=True).only("pk", "quorum_numerator", "quorum_denominator"):
        # Round up: going back must never lower a quorum (2/3 → 67 %).
        percent = -(-100 * motion.quorum_numerator // motion.quorum_denominator)
        Motion.objects.filter(pk=motion.pk).update(quorum_percent=percent)


class Migration(migrations.Migration):
    dependencies = [
        ("voting", "0002_sealed_ballots"),
    ]

    operations = [
        migrations.AddField(
            model_name="motion",
            name="quorum_numerator",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="quorum numerator"),
        ),
        migrations.AddField(
            model_name="motion",
            name="quorum_denominator",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="quorum denominator"),
        ),
        migrations.RunPython(percent_to_fraction, fraction_to_percent),
        migrations.RemoveConstraint(model_name="motion", name="motion_quorum_percent_range"),
        migrations.RemoveField(model_name="motion", name="quorum_percent"),
        migrations.AddConstraint(
            model_name="motion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("quorum_denominator__isnull", True), ("quorum_numerator__isnull", True)),
                    models.Q(("quorum_numerator__gte", 1), ("quorum_numerator__lte", models.F("quorum_denominator"))),
                    _connector="OR",
                ),
                name="motion_quorum_fraction_range",
            ),
        ),
    ]
