"""Benchmark of the campaign pipeline against Odoo's own mass mailing, in one run, on one database.

Run through ``bash tools/bench.sh`` (see docs/benchmark.md). The orchestrator (``main``) builds one
database per size from a template database, then runs every measured step in a fresh Python process
(``--step``) so that each figure has its own caches and its own peak memory (ru_maxrss), and prints
a table with the ratio to mass mailing where one exists and the growth from one size to the next.

Steps (issues "Benchmark the campaign pipeline" and "Deliver 100,000 emails in minutes"):
  resolve   recipient resolution and de-duplication over three overlapping targets
  generate  touchpoint generation for one run (one INSERT ... SELECT)
  end to end, campaign, 1 then 2 delivery workers: from *Launch* to the last email accepted by
            a local SMTP sink on loopback; the campaign's job and each worker are processes
            running Odoo's scheduler loop on their job (per-worker rate, memory, CPU)
  end to end, plain mass mailing: its *Send*, then Odoo's mail queue until empty, same sink
  smtp_limit  plain ``smtplib`` over one connection to the same sink, same message size
  routes    tracking routes (open pixel, click redirect[, landing page]) under load from a second
            process, Odoo running with 2 workers; every hit must be recorded once
  roi       ROI and analysis figures over many touchpoints and analytic lines (when available)
  screens   server time of the screens a campaign user meets (campaign form, smart buttons, Calculate,
            launch dialog, action form, each step of the order wizard, Edit Email), in a browser, on the
            largest size after the ROI step (1,000,000 touchpoints) and on a demo database
            (tools/bench_screens.py)
"""

import argparse
import collections
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUBJECT = "Hello {{ object.name }}"
BODY = (
    '<p>Dear <t t-out="object.name"/>,</p>'
    '<p>Our <a href="https://shop.example.com/offer">new year offer</a> and '
    '<a href="https://shop.example.com/stores">our stores</a>.</p>'
)


# ----------------------------------------------------------------------------------------------
# helpers run inside a step process
# ----------------------------------------------------------------------------------------------
def odoo_env(config, db):
    import odoo  # noqa: PLC0415 - only in step processes
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415

    odoo.tools.config.parse_config(["-c", config, "--log-level=warn"])
    registry = Registry(db)
    cr = registry.cursor()
    return api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True, "mail_create_nolog": True})


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_campaign(env, name, template, tag, mailing_list, static_ids):
    """A campaign with the three overlapping targets of the benchmark and one email action."""
    from odoo.tools import SQL  # noqa: PLC0415

    campaign = env["campaign.campaign"].create({"name": name})
    targets = env["campaign.target"].create(
        [
            {
                "campaign_id": campaign.id,
                "name": "Tagged",
                "source": "filter",
                "partner_domain": str([("category_id", "in", tag.ids)]),
            },
            {
                "campaign_id": campaign.id,
                "name": "List",
                "source": "mailing_list",
                "mailing_list_ids": [(4, mailing_list.id)],
            },
            {"campaign_id": campaign.id, "name": "Static", "source": "manual"},
        ]
    )
    env.cr.execute(
        SQL(
            """INSERT INTO campaign_target_partner_rel (target_id, partner_id)
               SELECT %s, unnest(%s::int[])""",
            targets[2].id,
            static_ids,
        )
    )
    action = env["campaign.action"].create(
        {"campaign_id": campaign.id, "name": "Offer", "channel": "email", "mail_template_id": template.id}
    )
    env.flush_all()
    return campaign, targets, action


def step_setup(env, n):
    """N contacts (SQL, copied from one ORM-made contact), a tag on half of them, a mailing list
    with a third of them, a static target with a fifth: three overlapping targets, in three
    campaigns alike with an email action each (one for resolution and generation, one delivered
    with one worker, one with two); a plain mass mailing to the same final audience (tagged
    afterwards); the only active mail server: the benchmark's SMTP sink on loopback."""
    from odoo.tools import SQL  # noqa: PLC0415

    cr = env.cr
    country = env.ref("base.fr")
    model = env["res.partner"].create(
        {
            "name": "bench model",
            "email": "model@bench.example.com",
            "street": "1 rue",
            "zip": "75001",
            "city": "Paris",
            "country_id": country.id,
            "phone": "+33600000000",
        }
    )
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'res_partner' "
        "AND column_name NOT IN ('id', 'name', 'complete_name', 'email', 'email_normalized', "
        "'phone', 'phone_sanitized', 'commercial_partner_id')"
    )
    columns = [row[0] for row in cr.fetchall()]
    copy = SQL(", ").join(SQL.identifier(c) for c in columns)
    cr.execute(
        SQL(
            """INSERT INTO res_partner (name, complete_name, email, email_normalized, phone, phone_sanitized, %s)
               SELECT 'Contact ' || g, 'Contact ' || g, 'contact' || g || '@bench.example.com',
                      'contact' || g || '@bench.example.com', '+336' || lpad(g::text, 8, '0'),
                      '+336' || lpad(g::text, 8, '0'), %s
                 FROM res_partner m, generate_series(1, %s) g WHERE m.id = %s""",
            copy,
            SQL(", ").join(SQL("m.%s", SQL.identifier(c)) for c in columns),
            n,
            model.id,
        )
    )
    cr.execute(
        "UPDATE res_partner SET commercial_partner_id = id WHERE commercial_partner_id IS NULL OR name LIKE 'Contact %'"
    )
    cr.execute("SELECT min(id), max(id) FROM res_partner WHERE email LIKE 'contact%@bench.example.com'")
    first, last = cr.fetchone()
    tag = env["res.partner.category"].create({"name": "bench half"})
    final_tag = env["res.partner.category"].create({"name": "bench final"})
    cr.execute(
        SQL(
            """INSERT INTO res_partner_res_partner_category_rel (partner_id, category_id)
               SELECT id, %s FROM res_partner WHERE id BETWEEN %s AND %s AND id %% 2 = 0""",
            tag.id,
            first,
            last,
        )
    )
    mailing_list = env["mailing.list"].create({"name": "bench list"})
    cr.execute(
        SQL(
            """INSERT INTO mailing_contact (name, email, email_normalized, create_date, write_date)
               SELECT name, email, email_normalized, now(), now() FROM res_partner
                WHERE id BETWEEN %s AND %s AND id %% 3 = 0""",
            first,
            last,
        )
    )
    cr.execute(
        SQL(
            """INSERT INTO mailing_subscription (contact_id, list_id, opt_out, create_date, write_date)
               SELECT id, %s, false, now(), now() FROM mailing_contact
                WHERE email LIKE 'contact%%@bench.example.com'""",
            mailing_list.id,
        )
    )
    cr.execute(SQL("SELECT array_agg(id) FROM res_partner WHERE id BETWEEN %s AND %s AND id %% 5 = 0", first, last))
    static_ids = cr.fetchone()[0]
    template = env["mail.template"].create(
        {"name": "bench", "model_id": env["ir.model"]._get_id("res.partner"), "subject": SUBJECT, "body_html": BODY}
    )
    campaigns = {}
    for key, name in (("generation", f"Bench{n}"), ("one", f"Bench{n}OneWorker"), ("two", f"Bench{n}TwoWorkers")):
        campaigns[key] = bench_campaign(env, name, template, tag, mailing_list, static_ids)
    campaign, targets, action = campaigns["generation"]
    # the final audience of the campaigns, tagged for the plain mass mailing
    stats = campaign._resolve_recipients("email")
    env.flush_all()
    cr.execute(
        SQL(
            """INSERT INTO res_partner_res_partner_category_rel (partner_id, category_id)
               SELECT partner_id, %s FROM (%s) c WHERE c.reason IS NULL""",
            final_tag.id,
            targets._classified_sql("email", action=action),
        )
    )
    mailing = env["mailing.mailing"].create(
        {
            "subject": SUBJECT,
            "body_html": BODY,
            "body_arch": BODY,
            "mailing_type": "mail",
            "mailing_model_id": env["ir.model"]._get_id("res.partner"),
            "mailing_domain": str([("category_id", "in", final_tag.ids)]),
        }
    )
    env["ir.mail_server"].search([]).write({"active": False})
    server = env["ir.mail_server"].create(
        {"name": "bench sink", "smtp_host": "127.0.0.1", "smtp_port": 25, "smtp_encryption": "none"}
    )
    cr.commit()
    return {
        "campaign": campaign.id,
        "action": action.id,
        "campaign_one": campaigns["one"][0].id,
        "action_one": campaigns["one"][2].id,
        "campaign_two": campaigns["two"][0].id,
        "action_two": campaigns["two"][2].id,
        "mailing": mailing.id,
        "server": server.id,
        "engine_cron": env.ref("campaign_manager.ir_cron_campaign_process").id,
        "final": stats["final"],
        "contacts": n,
    }


def step_resolve(env, ids):
    campaign = env["campaign.campaign"].browse(ids["campaign"])
    start = time.perf_counter()
    stats = campaign._resolve_recipients("email")
    elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "total": stats["total"], "contacts": stats["contacts"], "final": stats["final"]}


def step_generate(env, ids):
    """The launch of the campaign and the job's start of its run (an action due now): the launch
    wakes the campaign job up, whose first step locks the action, resolves the audience and generates
    the run's touchpoints; both are timed together."""
    campaign = env["campaign.campaign"].browse(ids["campaign"])
    launch = env["campaign.campaign.launch"].create({"campaign_id": campaign.id, "mode": "now"})
    env.cr.commit()
    start = time.perf_counter()
    launch.action_launch()
    env.cr.commit()
    env["campaign.engine"]._start_due_runs()
    elapsed = time.perf_counter() - start
    run = campaign.run_ids[:1]
    env.cr.execute("SELECT COUNT(*) FROM campaign_touchpoint WHERE run_id = %s", [run.id])
    rows = env.cr.fetchone()[0]
    # this campaign is not delivered (the end-to-end runs deliver the two others)
    campaign.action_cancel()
    return {"seconds": elapsed, "rows": rows, "rows_per_second": rows / elapsed if elapsed else 0, "run": run.id}


def step_prepare(env, ids, port, workers):
    """Point the benchmark's mail server at the sink, and set the delivery workers as an
    administrator does in the Settings."""
    env["ir.mail_server"].browse(ids["server"]).smtp_port = port
    settings = env["res.config.settings"].create({"campaign_delivery_workers": workers})
    settings.execute()
    crons = env["campaign.delivery"]._worker_crons()
    return {"delivery_crons": [crons[number].id for number in sorted(crons)]}


def step_e2e_stats(env, ids, action_key, t0, delivery_crons):
    """What the database says of an end-to-end run: when the last email was queued, and per
    delivery worker the emails it reported done and the time it spent (its progress records)."""
    env.cr.execute(
        """SELECT EXTRACT(EPOCH FROM MAX(tr.create_date))
             FROM mailing_trace tr JOIN mailing_mailing m ON m.id = tr.mass_mailing_id
            WHERE m.campaign_action_id = %s""",
        [ids[action_key]],
    )
    queued = env.cr.fetchone()[0]
    workers = []
    for cron_id in delivery_crons:
        env.cr.execute(
            """SELECT COALESCE(SUM(done), 0), EXTRACT(EPOCH FROM MIN(create_date)), EXTRACT(EPOCH FROM MAX(write_date))
                 FROM ir_cron_progress WHERE cron_id = %s AND create_date >= to_timestamp(%s) AT TIME ZONE 'UTC'""",
            [cron_id, t0 - 1],
        )
        done, first, last = env.cr.fetchone()
        workers.append({"cron": cron_id, "done": int(done), "seconds": float(last - first) if first else 0})
    env.cr.execute(
        """SELECT tr.trace_status, COUNT(*) FROM mailing_trace tr JOIN mailing_mailing m ON m.id = tr.mass_mailing_id
            WHERE m.campaign_action_id = %s GROUP BY 1""",
        [ids[action_key]],
    )
    return {"queued_at": float(queued or 0), "workers": workers, "traces": dict(env.cr.fetchall())}


def run_scheduler(args):
    """A cron worker of Odoo restricted to some jobs (``--jobs``): the scheduler's own loop
    (acquire a ready job, run it with its progress records, reschedule it) until SIGTERM. Says
    READY once its registry is loaded, starts on a line on its input (after launching the campaign
    ``--launch``, the moment the end to end starts), and prints its CPU time and peak memory."""
    import signal  # noqa: PLC0415

    stop = []
    signal.signal(signal.SIGTERM, lambda *_args: stop.append(True))
    env = odoo_env(args.config, args.db)
    from odoo import sql_db  # noqa: PLC0415
    from odoo.addons.base.models.ir_cron import IrCron  # noqa: PLC0415

    jobs = [int(job) for job in args.jobs.split(",")]
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    sys.stdin.readline()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.time()
    if args.launch:
        env["campaign.campaign.launch"].create({"campaign_id": args.launch, "mode": "now"}).action_launch()
        env.cr.commit()
    env.cr.close()
    while not stop:
        with sql_db.db_connect(args.db).cursor() as cron_cr:
            IrCron._process_jobs_loop(cron_cr, job_ids=jobs)
        time.sleep(0.02)
    end = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (end.ru_utime + end.ru_stime) - (usage.ru_utime + usage.ru_stime)
    sys.stdout.write("RESULT " + json.dumps({"t0": t0, "cpu_seconds": cpu, "peak_rss_mb": peak_rss_mb()}) + "\n")


def run_mass(args):
    """The plain mass mailing end to end: its *Send* (``action_send_mail``, committing as it
    goes), then Odoo's mail queue (``process_email_queue``, a commit per email) until none of its
    emails waits. Says READY once loaded, starts on a line on its input."""
    env = odoo_env(args.config, args.db)
    ids = json.loads(args.ids)
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    sys.stdin.readline()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.time()
    env["mailing.mailing"].browse(ids["mailing"]).action_send_mail()
    env.cr.commit()
    queued = time.time()
    while True:
        env["mail.mail"].process_email_queue()
        env.cr.commit()
        env.cr.execute("SELECT COUNT(*) FROM mail_mail WHERE mailing_id = %s AND state = 'outgoing'", [ids["mailing"]])
        if not env.cr.fetchone()[0]:
            break
    end = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (end.ru_utime + end.ru_stime) - (usage.ru_utime + usage.ru_stime)
    env.cr.close()
    sys.stdout.write(
        "RESULT " + json.dumps({"t0": t0, "queued_at": queued, "cpu_seconds": cpu, "peak_rss_mb": peak_rss_mb()}) + "\n"
    )


def run_smtp_limit(args):
    """The limit of this machine: plain ``smtplib`` over one connection to the sink, ``--limit``
    personalised HTML messages of ``--size`` bytes (the size of the campaign's), built beforehand."""
    import smtplib  # noqa: PLC0415
    from email.message import EmailMessage  # noqa: PLC0415

    messages = []
    for index in range(args.limit):
        message = EmailMessage()
        message["From"] = "offers@bench.example.com"
        message["To"] = f"contact{index}@bench.example.com"
        message["Subject"] = f"Hello Contact {index}"
        message["Message-Id"] = f"<limit.{index}@bench.example.com>"
        message.set_content("Dear Contact, our new year offer.")
        message.add_alternative(f"<p>Dear Contact {index},</p>", subtype="html")
        data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
        padding = max(args.size - len(data), 0)
        filler = "\n".join("x" * 75 for _line in range(padding // 76))
        message.get_body(("html",)).set_content(f"<p>Dear Contact {index},</p><p>{filler}</p>", subtype="html")
        # with CRLF line ends, as an SMTP client must send them (smtplib sends bytes as they are)
        messages.append((message["To"], message.as_bytes(policy=message.policy.clone(linesep="\r\n"))))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", args.port) as smtp:
        for rcpt, data in messages:
            smtp.sendmail("offers@bench.example.com", [rcpt], data)
    elapsed = time.perf_counter() - start
    end = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (end.ru_utime + end.ru_stime) - (usage.ru_utime + usage.ru_stime)
    sys.stdout.write(
        "RESULT "
        + json.dumps(
            {
                "mails": len(messages),
                "seconds": elapsed,
                "mails_per_second": len(messages) / elapsed,
                "bytes": sum(len(data) for _rcpt, data in messages) / len(messages),
                "client_cpu_ms_per_mail": 1000 * cpu / len(messages),
            }
        )
        + "\n"
    )


def step_route_urls(env, ids, count):
    """Write the URL lists of the tracking routes for ``count`` touchpoints of the run and return
    the current totals of opens and clicks (to check afterwards that every hit was recorded)."""
    env.cr.execute(
        """SELECT tp.id, tr.id, tr.mail_mail_id_int FROM campaign_touchpoint tp
             JOIN mailing_trace tr ON tr.id = tp.mailing_trace_id
            WHERE tp.action_id = %s ORDER BY tp.id LIMIT %s""",
        [ids["action"], count],
    )
    rows = env.cr.fetchall()
    traces = env["mailing.trace"]
    mailing = env["campaign.action"].browse(ids["action"]).run_ids.mailing_id
    tracker = env["link.tracker"].search([("mass_mailing_id", "=", mailing.id)], limit=1)
    folder = ROOT / "var"
    folder.mkdir(exist_ok=True)
    pixel = folder / "urls_pixel.txt"
    click = folder / "urls_click.txt"
    # the signed routes of campaign emails, as written in the emails (see models/mail_mail.py)
    signatures = {trace: traces._campaign_tracking_signature(trace) for _tp, trace, _mail in rows}
    pixel.write_text("\n".join(f"/cm/o/{trace}/{signatures[trace]}.gif" for _tp, trace, _mail in rows) + "\n")
    click.write_text(
        "\n".join(f"/cm/r/{tracker.code}/{trace}/{signatures[trace]}" for _tp, trace, _mail in rows) + "\n"
    )
    from odoo import fields  # noqa: PLC0415

    # personal pages: a landing page action of the same campaign, its run generated (every contact)
    # and the pages of ``count`` of them put online, as its dispatch does
    campaign = env["campaign.action"].browse(ids["action"]).campaign_id
    landing = env["campaign.action"].search([("campaign_id", "=", campaign.id), ("channel", "=", "landing")], limit=1)
    if not landing:
        landing = env["campaign.action"].create(
            {
                "campaign_id": campaign.id,
                "name": "Personal page",
                "channel": "landing",
                "landing_title": "Hello {{ object.name }}",
                "landing_body": "<p>Your offer is waiting for you in our stores.</p>",
                "landing_form": True,
                "state": "running",
            }
        )
        run = env["campaign.engine"]._create_run(landing, fields.Datetime.now())
        pages = env["campaign.touchpoint"].search([("run_id", "=", run.id), ("state", "=", "planned")], limit=count)
        pages._landing_publish()
    pages = env["campaign.touchpoint"].search([("action_id", "=", landing.id), ("state", "=", "sent")], limit=count)
    landing_file = folder / "urls_landing.txt"
    landing_file.write_text("\n".join("/c/" + url.rsplit("/c/", 1)[1] for url in pages.mapped("landing_url")) + "\n")
    # first opens and clicks are recorded once per touchpoint whatever the hits: open them all first
    env["mailing.trace"].browse([trace for _tp, trace, _mail in rows]).set_opened()
    env.cr.execute(
        "SELECT COALESCE(SUM(open_count), 0), COALESCE(SUM(click_count), 0) FROM campaign_touchpoint "
        "WHERE action_id = %s",
        [ids["action"]],
    )
    opens, clicks = env.cr.fetchone()
    return {
        "pixel": str(pixel),
        "click": str(click),
        "landing": str(landing_file),
        "landing_action": landing.id,
        "opens": opens,
        "clicks": clicks,
        "urls": len(rows),
    }


def step_route_counts(env, ids):
    env.cr.execute(
        "SELECT COALESCE(SUM(open_count), 0), COALESCE(SUM(click_count), 0) FROM campaign_touchpoint "
        "WHERE action_id = %s",
        [ids["action"]],
    )
    opens, clicks = env.cr.fetchone()
    env.cr.execute(
        "SELECT COALESCE(SUM(visit_count), 0) FROM campaign_touchpoint WHERE action_id = %s",
        [ids.get("landing_action") or 0],
    )
    return {"opens": opens, "clicks": clicks, "visits": env.cr.fetchone()[0]}


def step_roi_setup(env, ids, touchpoints, lines):
    """Ten campaigns with an analytic account, a project and an email action each, sharing
    ``touchpoints`` touchpoints (SQL, several runs of the contacts) in carried states, and ``lines``
    analytic items on their accounts (SQL, copied from one ORM-made item)."""
    from odoo.tools import SQL  # noqa: PLC0415

    cr = env.cr
    campaigns = env["campaign.campaign"].create(
        [{"name": f"Roi{index}", "budget": 10000.0, "expected_revenue": 30000.0} for index in range(10)]
    )
    campaigns.action_create_project()
    template = env["mail.template"].search([("name", "=", "bench")], limit=1)
    actions = env["campaign.action"].create(
        [
            {
                "campaign_id": campaign.id,
                "name": "Offer",
                "channel": "email",
                "mail_template_id": template.id,
                "unit_cost": 0.05,
                "fixed_cost": 100.0,
            }
            for campaign in campaigns
        ]
    )
    env.flush_all()
    cr.execute("SELECT array_agg(id ORDER BY id) FROM res_partner WHERE email LIKE 'contact%%@bench.example.com'")
    partner_ids = cr.fetchone()[0]
    action_ids = actions.ids
    cr.execute(
        SQL(
            """INSERT INTO campaign_touchpoint (
                   action_id, campaign_id, channel, partner_id, run_number, state,
                   date_planned, date_done, date_opened, date_clicked, unit_cost, open_count, click_count,
                   visit_count, attempt_count, create_uid, create_date, write_uid, write_date)
               SELECT a.id, a.campaign_id, 'email', p.partner_id,
                      (g / 10) / %(contacts)s + 1,
                      (ARRAY['sent', 'opened', 'clicked', 'bounced', 'unsubscribed', 'replied'])[g %% 6 + 1],
                      day, day, CASE WHEN g %% 6 IN (1, 2, 5) THEN day END,
                      CASE WHEN g %% 6 = 2 THEN day END, 0.05,
                      CASE WHEN g %% 6 IN (1, 2, 5) THEN 1 + g %% 3 ELSE 0 END,
                      CASE WHEN g %% 6 = 2 THEN 1 ELSE 0 END, 0, 1, 1, now(), 1, now()
                 FROM generate_series(0, %(count)s - 1) g
                 JOIN campaign_action a ON a.id = (%(actions)s::int[])[g %% 10 + 1]
                 JOIN LATERAL (SELECT (%(partners)s::int[])[(g / 10) %% %(contacts)s + 1] AS partner_id) p ON TRUE
                 CROSS JOIN LATERAL (SELECT timestamp '2026-01-01' + (g %% 365) * interval '1 day' AS day) d""",
            contacts=len(partner_ids),
            count=touchpoints,
            actions=action_ids,
            partners=partner_ids,
        )
    )
    column = env["account.analytic.plan"]._campaign_plan()._column_name()
    model = env["account.analytic.line"].create(
        {
            "name": "bench cost",
            "date": "2026-01-01",
            "amount": -10.0,
            column: campaigns[0].analytic_account_id.id,
        }
    )
    env.flush_all()
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'account_analytic_line' "
        "AND column_name NOT IN ('id', 'date', 'amount', %s)",
        [column],
    )
    columns = [row[0] for row in cr.fetchall()]
    accounts = campaigns.analytic_account_id.ids
    cr.execute(
        SQL(
            """INSERT INTO account_analytic_line (date, amount, %(column)s, %(columns)s)
               SELECT date '2026-01-01' + (g %% 365), -(1 + g %% 97)::numeric, (%(accounts)s::int[])[g %% 10 + 1],
                      %(copied)s
                 FROM account_analytic_line m, generate_series(1, %(count)s - 1) g WHERE m.id = %(model)s""",
            column=SQL.identifier(column),
            columns=SQL(", ").join(SQL.identifier(c) for c in columns),
            copied=SQL(", ").join(SQL("m.%s", SQL.identifier(c)) for c in columns),
            accounts=accounts,
            count=lines,
            model=model.id,
        )
    )
    cr.execute("ANALYZE campaign_touchpoint")
    cr.execute("ANALYZE account_analytic_line")
    cr.execute("SELECT COUNT(*) FROM campaign_touchpoint WHERE campaign_id = ANY(%s)", [campaigns.ids])
    created = cr.fetchone()[0]
    cr.execute(SQL("SELECT COUNT(*) FROM account_analytic_line WHERE %s = ANY(%s)", SQL.identifier(column), accounts))
    items = cr.fetchone()[0]
    return {"campaigns": campaigns.ids, "touchpoints": created, "analytic_lines": items}


def step_roi(env, ids):
    """ROI and analysis figures of the ten campaigns of ``step_roi_setup``, timed one by one as the
    screens ask for them: the campaign list's figures (cost, revenue, ROI... of the ten campaigns), the
    *Campaign analysis* report's per-action metrics, and the analysis pivot (by channel and month).
    Each is timed twice: the first call of a fresh worker, then again (caches of the ORM emptied)."""
    campaigns = env["campaign.campaign"].browse(ids["campaigns"])
    Report = env["campaign.analysis.report"]
    fields_read = ["cost_actual", "cost_committed", "revenue", "roi", "conversion_rate", "cost_per_contact"]
    measures = {
        "campaign_figures": lambda: campaigns.read(fields_read),
        "analysis_per_action": lambda: Report._read_facts(campaigns.ids, "action"),
        "analysis_pivot": lambda: Report._read_group(
            [("campaign_id", "in", campaigns.ids)],
            ["channel", "date:month"],
            ["sent_count:sum", "open_unique:sum", "clicker_unique:sum", "cost_actual:sum"],
        ),
    }
    figures, results = {}, {}
    for attempt in ("first", "again"):
        for name, measure in measures.items():
            env.invalidate_all()
            start = time.perf_counter()
            results[name] = measure()
            figures[f"{name}_{attempt}_seconds"] = time.perf_counter() - start
    figures["seconds"] = sum(figures[f"{name}_again_seconds"] for name in measures)
    figures["sent"] = sum(row["sent_count"] or 0 for row in results["analysis_per_action"])
    figures["cost_actual"] = round(sum(row["cost_actual"] for row in results["campaign_figures"]), 2)
    figures["pivot_rows"] = len(results["analysis_pivot"])
    return figures


SCREENS_LOGIN = "bench.screens"
SCREENS_PASSWORD = "bench.screens"


def screens_user(env):
    """The campaign user the screens are walked as: Marketing Campaigns / User only."""
    user = env["res.users"].with_context(active_test=False).search([("login", "=", SCREENS_LOGIN)])
    if not user:
        user = env["res.users"].create(
            {
                "name": "Bench Screens",
                "login": SCREENS_LOGIN,
                "password": SCREENS_PASSWORD,
                "email": "bench.screens@example.com",
                "group_ids": [
                    (6, 0, [env.ref("base.group_user").id, env.ref("campaign_manager.group_campaign_user").id])
                ],
            }
        )
    return user


def step_screens_setup(env, ids):
    """What the screens show at scale: the first ROI campaign (100,000 touchpoints of its own among
    1,000,000) gets the three overlapping targets of the benchmark's campaign, and a draft campaign
    with the same targets, an email from a template and an email written in Email Marketing is ready
    to be ordered (resumed at its contacts step)."""
    user = screens_user(env)
    source = env["campaign.campaign"].browse(ids["campaign"])
    shown = env["campaign.campaign"].browse(ids["campaigns"][0])
    draft = env["campaign.campaign"].create({"name": "BenchOrder", "order_step": "contacts", "user_id": user.id})
    for campaign in (shown, draft):
        for target in source.target_ids:
            target.copy({"campaign_id": campaign.id, "name": target.name})
    template = env["mail.template"].search([("name", "=", "bench")], limit=1)
    env["campaign.action"].create(
        {"campaign_id": draft.id, "name": "Offer", "channel": "email", "mail_template_id": template.id}
    )
    written = env["campaign.action"].create({"campaign_id": draft.id, "name": "Written email", "channel": "email"})
    written.action_edit_email()
    written.mailing_id.write({"subject": SUBJECT, "body_arch": BODY, "body_html": BODY})
    env.cr.commit()
    return {"campaign": shown.name, "order": draft.name, "login": SCREENS_LOGIN, "password": SCREENS_PASSWORD}


def step_screens_setup_demo(env, ids):
    """The demo database's screens: JanOffers (active, every channel) and the draft NewsletterSeptember."""
    screens_user(env)
    env.cr.commit()
    return {
        "campaign": "JanOffers",
        "order": "NewsletterSeptember",
        "login": SCREENS_LOGIN,
        "password": SCREENS_PASSWORD,
    }


STEPS = {
    "resolve": step_resolve,
    "generate": step_generate,
    "roi": step_roi,
    "screens_setup": step_screens_setup,
    "screens_setup_demo": step_screens_setup_demo,
}


def run_step(args):
    env = odoo_env(args.config, args.db)
    try:
        if args.step == "setup":
            result = step_setup(env, args.n)
        elif args.step == "route_urls":
            result = step_route_urls(env, json.loads(args.ids), args.limit)
        elif args.step == "route_counts":
            result = step_route_counts(env, json.loads(args.ids))
        elif args.step == "roi_setup":
            result = step_roi_setup(env, json.loads(args.ids), args.touchpoints, args.lines)
        elif args.step == "prepare":
            result = step_prepare(env, json.loads(args.ids), args.port, args.limit)
        elif args.step == "e2e_stats":
            extra = json.loads(args.which)
            result = step_e2e_stats(env, json.loads(args.ids), extra["action"], extra["t0"], extra["crons"])
        else:
            result = STEPS[args.step](env, json.loads(args.ids))
        env.cr.commit()
    finally:
        env.cr.close()
    result["peak_rss_mb"] = peak_rss_mb()
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")


# ----------------------------------------------------------------------------------------------
# orchestrator
# ----------------------------------------------------------------------------------------------
def call_step(args, step, db, **extra):
    command = [sys.executable, __file__, "--step", step, "--config", args.config, "--db", db]
    for key, value in extra.items():
        command += [f"--{key}", str(value)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in completed.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    sys.stderr.write(completed.stdout[-3000:] + completed.stderr[-5000:])
    raise SystemExit(f"step {step} failed on {db}")


WRK_SCRIPT = """
local urls = {}
for line in io.lines(os.getenv("BENCH_URLS")) do urls[#urls + 1] = line end
local i = math.random(#urls)
request = function()
  i = i + 1
  return wrk.format("GET", urls[(i % #urls) + 1])
end
"""


def wait_for_http(port, timeout=120):
    import urllib.request  # noqa: PLC0415

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/web/login", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise SystemExit("Odoo did not answer on its HTTP port")


def measure_routes(args, db, ids):
    """Odoo with 1 then 2 workers, wrk (or a Python client) from another process on loopback, each
    route for ``args.route_seconds``; then check that every answered hit was recorded once."""
    urls = call_step(args, "route_urls", db, ids=json.dumps(ids), limit=2000)
    counted = dict(ids, landing_action=urls["landing_action"])
    return {f"workers_{workers}": serve_and_load(args, db, counted, urls, workers) for workers in (1, 2)}


def serve_and_load(args, db, ids, urls, workers):
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        # one database given with -d (no --db-filter): Odoo does not list the databases at each request
        [
            *args.odoo_bin.split(),
            "-c",
            args.config,
            "-d",
            db,
            f"--workers={workers}",
            "--max-cron-threads=0",
            f"--http-port={port}",
            "--log-level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results = {}
    try:
        wait_for_http(port)
        script = ROOT / "var" / "bench_urls.lua"
        script.write_text(WRK_SCRIPT)
        for route in ROUTES:
            load(port, urls[route], script, 3)  # warm-up: the workers load their registry and caches
        before = call_step(args, "route_counts", db, ids=json.dumps(ids))
        for route in ROUTES:
            total, errors = load(port, urls[route], script, args.route_seconds)
            results[route] = {"requests": total, "errors": errors, "per_second": total / args.route_seconds}
    finally:
        server.terminate()
        server.wait(60)
    after = call_step(args, "route_counts", db, ids=json.dumps(ids))
    results["pixel"]["recorded"] = after["opens"] - before["opens"]
    results["click"]["recorded"] = after["clicks"] - before["clicks"]
    results["landing"]["recorded"] = after["visits"] - before["visits"]
    return results


ROUTES = ("pixel", "click", "landing")


def measure_screens(args, db, screens):
    """Odoo serving ``db`` (threaded, no cron, request lines logged), and tools/bench_screens.py
    walking the screens in headless Chromium as the campaign user of ``screens``."""
    import socket  # noqa: PLC0415

    if not args.screens_python:
        print("   screens   skipped: no Playwright virtualenv given (--screens-python)", flush=True)
        return None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = ROOT / "var" / f"bench_screens_{db}.log"
    out = ROOT / "var" / f"bench_screens_{db}.json"
    log.parent.mkdir(exist_ok=True)
    log.unlink(missing_ok=True)
    server = subprocess.Popen(
        [
            *args.odoo_bin.split(),
            "-c",
            args.config,
            "-d",
            db,
            "--workers=0",
            "--max-cron-threads=0",
            f"--http-port={port}",
            "--log-level=info",
            f"--logfile={log}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_http(port)
        command = [
            args.screens_python,
            str(ROOT / "tools" / "bench_screens.py"),
            f"--url=http://127.0.0.1:{port}",
            f"--db={db}",
            f"--log={log}",
            f"--login={screens['login']}",
            f"--password={screens['password']}",
            f"--campaign={screens['campaign']}",
            f"--order={screens['order']}",
            f"--out={out}",
        ]
        # a first walk loads the assets and warms the server's caches; the second is measured
        for attempt in ("warm-up", "measured"):
            print(f"   screens   {attempt} walk", flush=True)
            subprocess.run(command, check=True, stdout=None if attempt == "measured" else subprocess.DEVNULL)
    finally:
        server.terminate()
        server.wait(60)
    return json.loads(out.read_text())


def load(port, url_file, script, seconds):
    """(requests answered, errors) of ``seconds`` of load on the URLs of ``url_file``: wrk from
    another process when installed, else the Python client."""
    import shutil  # noqa: PLC0415

    if not shutil.which("wrk"):
        return python_load(port, url_file, seconds)
    env = dict(os.environ, BENCH_URLS=url_file)
    completed = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "-s", str(script), f"http://127.0.0.1:{port}"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    output = completed.stdout
    total = int(output.split(" requests in ")[0].split()[-1])
    errors = 0
    for line in output.splitlines():
        if "Non-2xx or 3xx responses" in line:
            errors = int(line.split(":")[-1])
        if "Socket errors" in line:
            errors += sum(int(part.split()[-1]) for part in line.split(":", 1)[1].split(","))
    return total, errors


def python_load(port, url_file, seconds, threads=16):
    """Fallback load client (keep-alive connections in threads) when wrk is not installed."""
    import http.client  # noqa: PLC0415
    import threading  # noqa: PLC0415

    urls = Path(url_file).read_text().split()
    counts = {"ok": 0, "errors": 0}
    lock = threading.Lock()
    deadline = time.time() + seconds

    def worker(offset):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        index = offset
        while time.time() < deadline:
            index += 1
            try:
                connection.request("GET", urls[index % len(urls)])
                response = connection.getresponse()
                response.read()
                key = "ok" if response.status < 400 else "errors"
            except OSError:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                key = "errors"
            with lock:
                counts[key] += 1

    pool = [threading.Thread(target=worker, args=(n * 97,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return counts["ok"] + counts["errors"], counts["errors"]


def psql(*sql_args):
    subprocess.run(["psql", "-q", "-d", "postgres", "-c", *sql_args], check=True, capture_output=True)


class BenchSink:
    """The local SMTP sink of the end-to-end runs (aiosmtpd, in the orchestrator, which otherwise
    waits): accepts everything and records, for each accepted message, its time, recipient, size
    and Message-ID, nothing more (parsing the messages would make the sink the bottleneck)."""

    MESSAGE_ID = re.compile(rb"^Message-I[dD]:\s*(\S+)", re.MULTILINE)

    def __init__(self):
        import aiosmtpd.controller  # noqa: PLC0415

        self.reset()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.controller = aiosmtpd.controller.Controller(self, hostname="127.0.0.1", port=self.port)

    def reset(self):
        self.count = 0
        self.first = self.last = None
        self.sizes = 0
        self.recipients = collections.Counter()
        self.message_ids = collections.Counter()

    async def handle_DATA(self, server, session, envelope):
        now = time.time()
        content = envelope.content
        match = self.MESSAGE_ID.search(content, 0, 16384)
        self.message_ids[match.group(1) if match else b""] += 1
        for rcpt in envelope.rcpt_tos:
            self.recipients[rcpt] += 1
        self.count += 1
        self.sizes += len(content)
        self.first = self.first or now
        self.last = now
        return "250 OK"

    def wait_for(self, distinct, timeout, process=None):
        """Wait until ``distinct`` recipients have received a message (or ``timeout``, or the end of
        ``process`` followed by a second of silence)."""
        deadline = time.time() + timeout
        while len(self.recipients) < distinct and time.time() < deadline:
            if process is not None and process.poll() is not None and time.time() - (self.last or 0) > 1:
                break
            time.sleep(0.05)
        return len(self.recipients) >= distinct

    def figures(self, t0):
        twice = sum(count - 1 for count in self.recipients.values() if count > 1)
        return {
            "accepted": self.count,
            "recipients": len(self.recipients),
            "delivered_twice": twice,
            "distinct_message_ids": len(self.message_ids),
            "average_bytes": self.sizes / self.count if self.count else 0,
            "first_accepted_after": (self.first - t0) if self.first else None,
            "end_to_end_seconds": (self.last - t0) if self.last else None,
        }


def start_process(args, db, *options):
    command = [sys.executable, __file__, "--config", args.config, "--db", db, *map(str, options)]
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    line = process.stdout.readline()
    if line.strip() != "READY":
        sys.stderr.write(line + process.stderr.read()[-5000:])
        raise SystemExit(f"{options} did not start on {db}")
    return process


def process_result(process):
    out, err = process.communicate(timeout=600)
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    sys.stderr.write(out[-3000:] + err[-5000:])
    raise SystemExit("a benchmark process failed")


def end_to_end_campaign(args, db, ids, sink, workers):
    """From *Launch* to the last email accepted by the sink: the campaign's job and ``workers``
    delivery workers, each a process running Odoo's scheduler loop on its job alone."""
    key = "one" if workers == 1 else "two"
    prepared = call_step(args, "prepare", db, ids=json.dumps(ids), port=sink.port, limit=workers)
    crons = prepared["delivery_crons"]
    deliverers = [start_process(args, db, "--step", "scheduler", "--jobs", cron) for cron in crons]
    engine = start_process(
        args, db, "--step", "scheduler", "--jobs", ids["engine_cron"], "--launch", ids[f"campaign_{key}"]
    )
    sink.reset()
    for process in [*deliverers, engine]:
        process.stdin.write("go\n")
        process.stdin.flush()
    complete = sink.wait_for(ids["final"], timeout=300 + ids["final"] / 10)
    time.sleep(1)  # the last batch is recorded just after its last email
    for process in [*deliverers, engine]:
        process.send_signal(signal.SIGTERM)
    engine_result = process_result(engine)
    worker_results = [process_result(process) for process in deliverers]
    t0 = engine_result["t0"]
    figures = sink.figures(t0)
    stats = call_step(
        args,
        "e2e_stats",
        db,
        ids=json.dumps(ids),
        which=json.dumps({"action": f"action_{key}", "t0": t0, "crons": crons}),
    )
    figures.update(
        complete=complete,
        launch_to_queued_seconds=stats["queued_at"] - t0 if stats["queued_at"] else None,
        traces=stats["traces"],
        engine={"cpu_seconds": engine_result["cpu_seconds"], "peak_rss_mb": engine_result["peak_rss_mb"]},
        workers=[
            {
                "delivered": stat["done"],
                "active_seconds": stat["seconds"],
                "mails_per_second": stat["done"] / stat["seconds"] if stat["seconds"] else 0,
                "peak_rss_mb": result["peak_rss_mb"],
                "cpu_seconds": result["cpu_seconds"],
                "cpu_ms_per_mail": 1000 * result["cpu_seconds"] / stat["done"] if stat["done"] else None,
            }
            for stat, result in zip(stats["workers"], worker_results, strict=True)
        ],
    )
    total = figures["recipients"]
    figures["cpu_ms_per_mail_all_processes"] = (
        1000 * (engine_result["cpu_seconds"] + sum(r["cpu_seconds"] for r in worker_results)) / total if total else None
    )
    return figures


def end_to_end_mass(args, db, ids, sink):
    """The plain mass mailing: its *Send*, then Odoo's mail queue until empty, to the same sink."""
    process = start_process(args, db, "--step", "mass_e2e", "--ids", json.dumps(ids))
    sink.reset()
    process.stdin.write("go\n")
    process.stdin.flush()
    complete = sink.wait_for(ids["final"], timeout=600 + ids["final"] / 5, process=process)
    result = process_result(process)
    figures = sink.figures(result["t0"])
    delivering = (sink.last - result["queued_at"]) if sink.last else 0
    figures.update(
        complete=complete,
        launch_to_queued_seconds=result["queued_at"] - result["t0"],
        queue_mails_per_second=figures["recipients"] / delivering if delivering > 0 else 0,
        cpu_seconds=result["cpu_seconds"],
        cpu_ms_per_mail=1000 * result["cpu_seconds"] / figures["recipients"] if figures["recipients"] else None,
        peak_rss_mb=result["peak_rss_mb"],
    )
    return figures


def smtp_limit(args, sink, count, size):
    sink.reset()
    completed = subprocess.run(
        [
            sys.executable,
            __file__,
            "--config",
            args.config,
            "--step",
            "smtp_limit",
            "--port",
            str(sink.port),
            "--limit",
            str(count),
            "--size",
            str(int(size)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in completed.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
            result["accepted"] = sink.count
            return result
    sys.stderr.write(completed.stdout[-3000:] + completed.stderr[-3000:])
    raise SystemExit("the smtplib limit could not be measured")


def estimate_seconds(n, args):
    """Rough duration of one size on a quiet 2-core machine (rates measured before, see docs/benchmark.md)."""
    final = 0.73 * n
    seconds = 20 + n / 2000  # database, contacts, targets, resolution, generation
    seconds += 2 * 15 + final / 150 + final / 250  # campaign end to end with 1 then 2 workers
    if n in args.mass_sizes:
        seconds += 15 + final / 280 + final / 40  # plain mass mailing: Send, then Odoo's queue
    seconds += min(final, args.limit_sample) / 450 + 5
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--template", default="campaign_bench_tpl", help="database with the addon installed")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument(
        "--mass-sizes",
        default="10000,100000",
        help="sizes at which the plain mass mailing is delivered end to end (it sends about 40 emails a second: "
        "a million contacts would take five hours)",
    )
    parser.add_argument("--limit-sample", type=int, default=20000, help="messages of the smtplib limit")
    parser.add_argument("--step")
    parser.add_argument("--db")
    parser.add_argument("--n", type=int)
    parser.add_argument("--ids")
    parser.add_argument("--port", type=int)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--size", type=int)
    parser.add_argument("--which")
    parser.add_argument("--jobs")
    parser.add_argument("--launch", type=int)
    parser.add_argument("--touchpoints", type=int, default=1_000_000, help="touchpoints of the ROI step")
    parser.add_argument("--lines", type=int, default=100_000, help="analytic items of the ROI step")
    parser.add_argument("--no-roi", action="store_true", help="skip the ROI and analysis step")
    parser.add_argument("--no-routes", action="store_true", help="skip the tracking routes step")
    parser.add_argument("--keep", action="store_true", help="keep the per-size databases")
    parser.add_argument("--odoo-bin", default=f"{sys.executable} -m odoo", help="command starting Odoo")
    parser.add_argument("--route-seconds", type=int, default=15)
    parser.add_argument("--routes-every-size", action="store_true", help="measure the routes at every size")
    parser.add_argument("--db-prefix", default="campaign_bench", help="the per-size databases are <prefix>_<size>")
    parser.add_argument("--screens-python", help="Python of a virtualenv with Playwright (tools/bench.sh makes it)")
    parser.add_argument("--demo-db", help="demo database whose screens are measured too")
    parser.add_argument("--no-screens", action="store_true", help="skip the screens step")
    parser.add_argument(
        "--screens-only",
        action="store_true",
        help="only what the screens step needs: setup, generation and the ROI data on the largest size, then screens",
    )
    args = parser.parse_args()
    if args.step == "scheduler":
        return run_scheduler(args)
    if args.step == "mass_e2e":
        return run_mass(args)
    if args.step == "smtp_limit":
        return run_smtp_limit(args)
    if args.step:
        return run_step(args)
    sizes = [int(size) for size in args.sizes.split(",")]
    args.mass_sizes = {int(size) for size in args.mass_sizes.split(",") if size}
    largest = max(sizes)
    estimate = sum(estimate_seconds(n, args) for n in sizes)
    estimate += 0 if args.no_routes else 2 * (3 * (args.route_seconds + 3) + 20) + 20
    estimate += 0 if args.no_roi else 60 + args.touchpoints / 10000
    print(f"Estimated duration on a quiet 2-core machine: about {estimate / 60:.0f} minutes", flush=True)

    # the machine may be shared: its load is part of the figures
    load_at_start = os.getloadavg()
    prefix = args.template.removesuffix("_tpl")
    sink = BenchSink()
    sink.controller.start()
    results = {}
    if args.demo_db:
        print(f"== demo database {args.demo_db}", flush=True)
        screens = call_step(args, "screens_setup_demo", args.demo_db, ids="{}")
        results["demo"] = {"screens": measure_screens(args, args.demo_db, screens)}
    try:
        for n in [largest] if args.screens_only else sizes:
            db = f"{prefix}_{n}"
            psql(f'DROP DATABASE IF EXISTS "{db}"')
            psql(f'CREATE DATABASE "{db}" TEMPLATE "{args.template}"')
            print(f"== {n:,} contacts (database {db}), about {estimate_seconds(n, args) / 60:.0f} minutes", flush=True)
            ids = call_step(args, "setup", db, n=n)
            figures = {"setup": ids}
            for step in ("resolve", "generate"):
                figures[step] = call_step(args, step, db, ids=json.dumps(ids))
                print(f"   {step:9} {json.dumps(figures[step])}", flush=True)
            end_to_end = {}
            for workers in () if args.screens_only else (1, 2):
                key = f"campaign_{workers}_worker{'s' if workers > 1 else ''}"
                figures[key] = end_to_end_campaign(args, db, ids, sink, workers)
                end_to_end[key] = figures[key]["end_to_end_seconds"]
                print(f"   {key} {json.dumps(figures[key])}", flush=True)
            if n in args.mass_sizes and not args.screens_only:
                figures["mass_mailing"] = end_to_end_mass(args, db, ids, sink)
                end_to_end["mass_mailing"] = figures["mass_mailing"]["end_to_end_seconds"]
                print(f"   mass_mailing {json.dumps(figures['mass_mailing'])}", flush=True)
            figures["end_to_end_seconds"] = end_to_end
            if not args.screens_only:
                size = figures["campaign_1_worker"]["average_bytes"]
                figures["smtp_limit"] = smtp_limit(args, sink, min(ids["final"], args.limit_sample), size)
                figures["smtp_limit_mails_per_second"] = figures["smtp_limit"]["mails_per_second"]
                print(f"   smtp_limit {json.dumps(figures['smtp_limit'])}", flush=True)
            routes_ids = dict(ids, action=ids["action_one"])
            if not args.no_routes and not args.screens_only and (n == largest or args.routes_every_size):
                figures["routes"] = measure_routes(args, db, routes_ids)
                print(f"   {'routes':9} {json.dumps(figures['routes'])}", flush=True)
            if n == largest and not args.no_roi:
                roi_ids = call_step(
                    args, "roi_setup", db, ids=json.dumps(ids), touchpoints=args.touchpoints, lines=args.lines
                )
                # what autovacuum does within a minute of such an insert (visibility map, hint bits,
                # statistics): the figures are those of a database in use, not of the first read
                subprocess.run(["psql", "-q", "-d", db, "-c", "VACUUM ANALYZE campaign_touchpoint"], check=True)
                subprocess.run(["psql", "-q", "-d", db, "-c", "VACUUM ANALYZE account_analytic_line"], check=True)
                figures["roi"] = call_step(args, "roi", db, ids=json.dumps(roi_ids))
                figures["roi"].update(touchpoints=roi_ids["touchpoints"], analytic_lines=roi_ids["analytic_lines"])
                print(f"   {'roi':9} {json.dumps(figures['roi'])}", flush=True)
                if not args.no_screens:
                    screens = call_step(
                        args, "screens_setup", db, ids=json.dumps(dict(ids, campaigns=roi_ids["campaigns"]))
                    )
                    figures["screens"] = measure_screens(args, db, screens)
            results[n] = figures
            # written after each size, so that a run stopped during a larger size keeps its figures
            out = write_results(results, load_at_start)
            if not args.keep:
                psql(f'DROP DATABASE IF EXISTS "{db}"')
    finally:
        sink.controller.stop()
    report(results)
    print(f"\nraw figures in {out}")


def write_results(results, load_at_start):
    machine = {
        "cpus": os.cpu_count(),
        "load_average_at_start": load_at_start,
        "load_average_at_end": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    out = ROOT / "var" / "benchmark.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": machine, **{str(n): figures for n, figures in results.items()}}, indent=2))
    return out


def route(figures, name, workers=2):
    if "routes" not in figures:
        return "-"
    data = figures["routes"][f"workers_{workers}"][name]
    answered = data["requests"] - data["errors"]
    # requests still in flight when the load stops are recorded but not counted by the client
    lost = max(answered - data["recorded"], 0)
    return f"{data['per_second']:.0f} ({data['errors']} errors, {lost} lost, {data['recorded']} recorded)"


def roi_figure(figures, name):
    if "roi" not in figures:
        return "-"
    return f"{figures['roi'][name + '_first_seconds']:.2f} / {figures['roi'][name + '_again_seconds']:.2f}"


def report_screens(results):
    """One row per screen: requests, SQL queries and server time (ms), on each database measured."""
    columns = [(key, figures["screens"]) for key, figures in results.items() if figures.get("screens")]
    if not columns:
        return
    names = list(dict.fromkeys(name for _key, screens in columns for name in screens))
    heads = ["demo database" if key == "demo" else f"{key:,} contacts" for key, _screens in columns]
    print("\nScreens (requests / SQL queries / server ms, slowest request ms):")
    print("\n| screen | " + " | ".join(heads) + " |")
    print("|---|" + "---|" * len(columns))
    for name in names:
        cells = []
        for _key, screens in columns:
            figure = screens.get(name)
            cells.append(
                f"{figure['requests']} / {figure['queries']} / {figure['server_ms']:,} ({figure['slowest_ms']:,})"
                if figure
                else "-"
            )
        print(f"| {name} | " + " | ".join(cells) + " |")


def report(results):
    report_screens(results)
    sizes = sorted(n for n, figures in results.items() if isinstance(n, int) and "end_to_end_seconds" in figures)
    if not sizes:
        return
    print("\n| step | " + " | ".join(f"{n:,}" for n in sizes) + " |")
    print("|---|" + "---|" * len(sizes))

    def e2e(key):
        return lambda f: f"{f['end_to_end_seconds'][key]:.1f}" if f["end_to_end_seconds"].get(key) else "-"

    def ratio(key):
        def value(f):
            times = f["end_to_end_seconds"]
            if not times.get("mass_mailing") or not times.get(key):
                return "-"
            return f"{times['mass_mailing'] / times[key]:.1f}x"

        return value

    def worker(key, field, fmt="{:.0f}"):
        return lambda f: " / ".join(fmt.format(w[field] or 0) for w in f[key]["workers"])

    def mass(field, fmt="{:.0f}"):
        return lambda f: fmt.format(f["mass_mailing"][field]) if "mass_mailing" in f else "-"

    def of_limit(f):
        rate = f["campaign_1_worker"]["workers"][0]["mails_per_second"]
        return f"{100 * rate / f['smtp_limit_mails_per_second']:.0f} %"

    rows = [
        ("resolution + de-duplication (s)", lambda f: f"{f['resolve']['seconds']:.2f}"),
        ("touchpoint generation (rows/s)", lambda f: f"{f['generate']['rows_per_second']:,.0f}"),
        ("emails (final audience)", lambda f: f"{f['setup']['final']:,}"),
        ("**end to end, campaign, 1 delivery worker (s)**", e2e("campaign_1_worker")),
        ("**end to end, campaign, 2 delivery workers (s)**", e2e("campaign_2_workers")),
        ("**end to end, plain mass mailing (s)**", e2e("mass_mailing")),
        ("mass mailing / campaign with 1 worker", ratio("campaign_1_worker")),
        ("mass mailing / campaign with 2 workers", ratio("campaign_2_workers")),
        ("smtplib limit, one connection (mails/s)", lambda f: f"{f['smtp_limit_mails_per_second']:.0f}"),
        ("delivery rate, 1 worker (mails/s)", worker("campaign_1_worker", "mails_per_second")),
        ("1 worker / smtplib limit", of_limit),
        ("delivery rate per worker, 2 workers (mails/s)", worker("campaign_2_workers", "mails_per_second")),
        ("Odoo's mail queue, mass mailing (mails/s)", mass("queue_mails_per_second")),
        (
            "peak memory per delivery worker, 1 / 2 workers (MB)",
            lambda f: (
                worker("campaign_1_worker", "peak_rss_mb")(f) + " | " + worker("campaign_2_workers", "peak_rss_mb")(f)
            ),
        ),
        (
            "CPU per email in a delivery worker, 1 / 2 workers (ms)",
            lambda f: (
                worker("campaign_1_worker", "cpu_ms_per_mail", "{:.2f}")(f)
                + " | "
                + worker("campaign_2_workers", "cpu_ms_per_mail", "{:.2f}")(f)
            ),
        ),
        (
            "CPU per email, campaign job + workers, 1 worker (ms)",
            lambda f: f"{f['campaign_1_worker']['cpu_ms_per_mail_all_processes']:.2f}",
        ),
        ("CPU per email, mass mailing (Send + queue) (ms)", mass("cpu_ms_per_mail", "{:.2f}")),
        ("peak memory, mass mailing process (MB)", mass("peak_rss_mb")),
        (
            "launch to queued, campaign with 1 worker delivering (s)",
            lambda f: f"{f['campaign_1_worker']['launch_to_queued_seconds']:.1f}",
        ),
        ("Send to queued, plain mass mailing (s)", mass("launch_to_queued_seconds", "{:.1f}")),
        (
            "emails delivered twice (1 worker / 2 workers / mass mailing)",
            lambda f: " / ".join(
                str(f[k]["delivered_twice"])
                for k in ("campaign_1_worker", "campaign_2_workers", "mass_mailing")
                if k in f
            ),
        ),
        ("open pixel, 1 worker (requests/s)", lambda f: route(f, "pixel", 1)),
        ("open pixel, 2 workers (requests/s)", lambda f: route(f, "pixel")),
        ("click redirect, 1 worker (requests/s)", lambda f: route(f, "click", 1)),
        ("click redirect, 2 workers (requests/s)", lambda f: route(f, "click")),
        ("landing page, 1 worker (requests/s)", lambda f: route(f, "landing", 1)),
        ("landing page, 2 workers (requests/s)", lambda f: route(f, "landing")),
    ]
    rows += [
        (
            "ROI figures of 10 campaigns, {touchpoints:,} touchpoints, {analytic_lines:,} analytic items"
            " (s, first call / again)",
            lambda f: roi_figure(f, "campaign_figures"),
        ),
        (
            "campaign analysis per action, same data (s, first call / again)",
            lambda f: roi_figure(f, "analysis_per_action"),
        ),
        (
            "analysis pivot by channel and month, same data (s, first call / again)",
            lambda f: roi_figure(f, "analysis_pivot"),
        ),
    ]
    roi = next((results[n]["roi"] for n in sizes if "roi" in results[n]), {"touchpoints": 0, "analytic_lines": 0})
    rows = [(label.format(**roi), value) for label, value in rows]

    def cell(value, figures):
        # a step this run did not take (--screens-only, --no-roi, a size without mass mailing): "-"
        try:
            return value(figures)
        except (KeyError, IndexError, TypeError, ZeroDivisionError):
            return "-"

    for label, value in rows:
        print(f"| {label} | " + " | ".join(cell(value, results[n]) for n in sizes) + " |")
    if len(sizes) > 1:
        small, big = sizes[0], sizes[-1]
        factor = results[big]["setup"]["final"] / results[small]["setup"]["final"]
        print(f"\ngrowth from {small:,} to {big:,} contacts (x{factor:g} emails):")
        growth = {
            "resolve": lambda f: f["resolve"]["seconds"],
            "generate": lambda f: f["generate"]["seconds"],
            **{
                key: (lambda f, key=key: f["end_to_end_seconds"].get(key)) for key in results[big]["end_to_end_seconds"]
            },
        }
        for step, value in growth.items():
            if value(results[small]) and value(results[big]):
                print(f"  {step:20} time x{value(results[big]) / value(results[small]):.1f}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
