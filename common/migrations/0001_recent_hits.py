from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
    ]

    operations = [
        migrations.CreateModel(
            name='RecentHits',
            fields=[
                ('key', models.CharField(max_length=200, primary_key=True, serialize=False)),
                ('hits', models.JSONField(default=list)),
                ('expires', models.FloatField(db_index=True, default=0)),
            ],
        ),
    ]
