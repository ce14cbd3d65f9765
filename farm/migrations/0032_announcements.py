from tortoise import migrations
from tortoise.migrations import operations as ops
from farm.announcements.models import Audience
from farm.audit.models import CorrectionAction, RecordKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('farm', '0031_box_reports')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Announcement',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cooperative', fields.ForeignKeyField('farm.Cooperative', source_field='cooperative_id', db_constraint=True, to_field='id', related_name='announcements', on_delete=OnDelete.CASCADE)),
                ('season', fields.ForeignKeyField('farm.Season', source_field='season_id', db_constraint=True, to_field='id', related_name='announcements', on_delete=OnDelete.CASCADE)),
                ('audience', fields.CharEnumField(description='SEASON: season\nFIELD: field\nSHIP_DAY: ship_day', enum_type=Audience, max_length=10)),
                ('field', fields.ForeignKeyField('farm.Field', source_field='field_id', null=True, db_constraint=True, to_field='id', related_name='announcements', on_delete=OnDelete.SET_NULL)),
                ('ship_on', fields.DateField(null=True)),
                ('subject', fields.CharField(max_length=120)),
                ('body', fields.TextField(unique=False)),
                ('written_by', fields.ForeignKeyField('farm.User', source_field='written_by_id', db_constraint=True, to_field='id', related_name='announcements_written', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('recipients', fields.IntField(default=0)),
            ],
            options={'table': 'announcements', 'app': 'farm', 'indexes': [Index(fields=['cooperative_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'A subject and a plain-text body, sent once to its audience as it was when written:'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AnnouncementReceipt',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('announcement', fields.ForeignKeyField('farm.Announcement', source_field='announcement_id', db_constraint=True, to_field='id', related_name='receipts', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('farm.User', source_field='user_id', db_constraint=True, to_field='id', related_name='announcement_receipts', on_delete=OnDelete.CASCADE)),
                ('notification', fields.ForeignKeyField('farm.Notification', source_field='notification_id', null=True, db_constraint=True, to_field='id', related_name='receipts', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'announcement_receipts', 'app': 'farm', 'unique_together': (('announcement', 'user'),), 'indexes': [Index(fields=['user_id', 'announcement_id'])], 'pk_attr': 'id', 'table_description': "One subscriber's copy: the notice on their account page, and the mail queued for them"},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='Correction',
            name='action',
            field=fields.CharEnumField(description='CORRECTED: corrected\nVOIDED: voided\nCANCELLED: cancelled', enum_type=CorrectionAction, max_length=10),
        ),
        ops.AlterField(
            model_name='Correction',
            name='kind',
            field=fields.CharEnumField(description='WORK_ENTRY: work_entry\nHARVEST_LOT: harvest_lot\nPLOT: plot\nSUBSCRIPTION: subscription', enum_type=RecordKind, max_length=20),
        ),
    ]
