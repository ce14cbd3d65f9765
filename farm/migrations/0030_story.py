from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('farm', '0029_care')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Household',
            name='shown_to_subscribers',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Household',
            name='about',
            field=fields.CharField(default='', max_length=200, db_default=''),
        ),
        ops.AddField(
            model_name='Household',
            name='picture',
            field=fields.CharField(default='', max_length=80, db_default=''),
        ),
        ops.AddField(
            model_name='Photo',
            name='sign',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
