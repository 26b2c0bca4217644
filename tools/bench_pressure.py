"""Resolution time with and without the marketing pressure caps and the local send times, on the
benchmark's database of 100,000 contacts (campaign Roi0: 73,333 contacts found, 1,000,000 and more
touchpoints). Run inside Odoo's shell, which gives ``env``; nothing is kept (rolled back):

    $ODOO_BIN shell -c .odoo.conf -d <benchmark database> < tools/bench_pressure.py

Prints the time of the classification of Roi0's email action alone, with three caps (3 emails and
1 SMS a week, 8 messages in 30 days), and with the caps and local send times, five interleaved
rounds, minimum and median (the minimum is the least disturbed by other work on the machine)."""

import datetime
import statistics
import time

from odoo.tools import SQL

env = globals()["env"]  # given by odoo shell
campaign = env["campaign.campaign"].search([("name", "=", "Roi0")])
action = campaign.action_ids.filtered(lambda a: a.channel == "email")[:1]
targets = action._effective_targets()
engine = env["campaign.engine"]
now = datetime.datetime.utcnow().replace(microsecond=0)
caps = env["campaign.pressure.cap"]
caps.search([]).unlink()
capset = caps.create(
    [
        {"channel": "email", "period": "week", "limit": 3},
        {"channel": "sms", "period": "week", "limit": 1},
        {"channel": False, "period": "month", "limit": 8},
    ]
)
run = env["campaign.action.run"].new({"action_id": action.id, "date_planned": now})


def classification(variant):
    capset.write({"active": variant != "alone"})
    action.local_time = variant == "caps and local time"
    env.flush_all()
    query = targets._classified_sql("email", action=action)
    return engine._schedule_sql(query, run, now) if action.local_time else query


times = {"alone": [], "caps": [], "caps and local time": []}
for _round in range(5):
    for variant, values in times.items():
        query = classification(variant)
        env.cr.execute("SET LOCAL jit = off")
        start = time.monotonic()
        env.cr.execute(SQL("SELECT COUNT(*), COUNT(*) FILTER (WHERE held_until IS NOT NULL) FROM (%s) AS c", query))
        counts = env.cr.fetchone()
        values.append(time.monotonic() - start)
        print(f"{variant}: {values[-1]:.2f} s, contacts and held {counts}")
for variant, values in times.items():
    print(f"{variant}: min {min(values):.2f} s, median {statistics.median(values):.2f} s")
env.cr.rollback()
