from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("authority", "0002_initial"),
        ("core", "0004_rate_counter_unlogged"),
        ("requests_app", "0007_queue_indexes"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="datasubjectrequest",
            name="dsr_status",
        ),
        migrations.AddIndex(
            model_name="datasubjectrequest",
            index=models.Index(fields=["org", "status"], name="dsr_status"),
        ),
        migrations.AddIndex(
            model_name="datasubjectrequest",
            index=models.Index(fields=["org", "status", "created_at", "id"], name="dsr_status_created"),
        ),
    ]
