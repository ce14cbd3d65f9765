"""Indexes for the manager's console at 100,000 subscriptions: every paginated list's filter
and ORDER BY, and the reports' GROUP BY joins, read an index rather than the table."""

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEXES = {
    # harvests list (newest first) and the yield report (a season's date range)
    "idx_console_lots_coop_day": "harvest_lots (cooperative_id, harvested_on, id)",
    "idx_console_lots_plot": "harvest_lots (plot_id)",
    # work log (newest first) and the household report (a season's hours)
    "idx_console_entries_coop_day": "work_entries (cooperative_id, worked_on, id)",
    "idx_console_shifts_entry": "work_shifts (entry_id)",
    "idx_console_shifts_household": "work_shifts (household_id)",
    # subscribers of a season by status; plots sold per plan
    "idx_console_subs_season_status": "subscriptions (season_id, status, id)",
    "idx_console_subs_plan_status": "subscriptions (plan_id, status)",
    "idx_console_claims_plan": "plot_claims (plan_id)",
    # households, fields and plans of a cooperative / season
    "idx_console_households_coop": "households (cooperative_id, village, name, id)",
    "idx_console_fields_coop": "fields (cooperative_id, name, id)",
    "idx_console_plans_season": "plans (season_id, price_fen, id)",
    "idx_console_batches_coop_day": "batches (cooperative_id, ship_on)",
}


class Migration(migrations.Migration):
    dependencies = [("farm", "0007_sale")]

    initial = False

    operations = [
        ops.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {name} ON {target}",
            f"DROP INDEX IF EXISTS {name}",
        )
        for name, target in INDEXES.items()
    ]
