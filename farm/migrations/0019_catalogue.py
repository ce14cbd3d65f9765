from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from farm.fieldwork.models import CropUnit


class Migration(migrations.Migration):
    dependencies = [('farm', '0018_staff')]

    initial = False

    operations = [
        # The crop catalogue: a crop's unit (kg, or pieces for eggs: weight_g then holds a
        # count) and whether it is retired. Existing crops are weighed and in use.
        ops.AddField(
            model_name='Crop',
            name='unit',
            field=fields.CharEnumField(CropUnit, max_length=10, default=CropUnit.KG, db_default='kg'),
        ),
        ops.AddField(
            model_name='Crop',
            name='retired',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        # Plans have a draft state; the plans that exist are on sale, so published.
        ops.AddField(
            model_name='Plan',
            name='published',
            field=fields.BooleanField(default=True, db_default=True),
        ),
        ops.AlterModelOptions(
            name='Crop',
            options={'table': 'crops', 'app': 'farm', 'unique_together': (('cooperative', 'name'),), 'pk_attr': 'id', 'table_description': "A crop of a cooperative's list, with its shelf life at room temperature and its unit."},
        ),
    ]
