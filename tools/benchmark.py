"""Benchmark of the campaign pipeline against Odoo's own mass mailing, in one run, on one database.

Run through ``bash tools/bench.sh`` (see the README). The orchestrator (``main``) builds one
database per size from a template database, then runs every measured step in a fresh Python process
(``--step``) so that each figure has its own caches and its own peak memory (ru_maxrss), and prints
a table with the ratio to mass mailing where one exists and the growth from one size to the next.

Steps (issue "Benchmark the campaign pipeline"):
  resolve   recipient resolution and de-duplication over three overlapping targets
  generate  touchpoint generation for one run (one INSERT ... SELECT)
  ours      launch until every outgoing mail is queued, campaign engine
  mass      the same audience as a plain mass mailing (``action_send_mail``), same content
  smtp      dispatch throughput of queued campaign mails to a local SMTP server on loopback
  routes    tracking routes (open pixel, click redirect[, landing page]) under load from a second
            process, Odoo running with 2 workers; every hit must be recorded once
  roi       ROI and analysis figures over many touchpoints and analytic lines (when available)
  screens   server time of the screens a campaign user meets (campaign form, smart buttons, Calculate,
            launch dialog, action form, each step of the order wizard, Edit Email), in a browser, on the
            largest size after the ROI step (1,000,000 touchpoints) and on a demo database
            (tools/bench_screens.py)
"""

import argparse
import json
import os
import resource
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


def step_setup(env, n):
    """N contacts (SQL, copied from one ORM-made contact), a tag on half of them, a mailing list
    with a third of them, a static target with a fifth: three overlapping targets; an email
    action; a plain mass mailing to the same final audience (tagged afterwards)."""
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
    template = env["mail.template"].create(
        {"name": "bench", "model_id": env["ir.model"]._get_id("res.partner"), "subject": SUBJECT, "body_html": BODY}
    )
    campaign = env["campaign.campaign"].create({"name": f"Bench{n}"})
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
    cr.execute(
        SQL(
            """INSERT INTO campaign_target_partner_rel (target_id, partner_id)
               SELECT %s, id FROM res_partner WHERE id BETWEEN %s AND %s AND id %% 5 = 0""",
            targets[2].id,
            first,
            last,
        )
    )
    action = env["campaign.action"].create(
        {"campaign_id": campaign.id, "name": "Offer", "channel": "email", "mail_template_id": template.id}
    )
    env.flush_all()
    # the final audience of the campaign, tagged for the plain mass mailing
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
    cr.commit()
    return {"campaign": campaign.id, "action": action.id, "mailing": mailing.id, "final": stats["final"], "contacts": n}


def step_resolve(env, ids):
    campaign = env["campaign.campaign"].browse(ids["campaign"])
    start = time.perf_counter()
    stats = campaign._resolve_recipients("email")
    elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "total": stats["total"], "contacts": stats["contacts"], "final": stats["final"]}


def step_generate(env, ids):
    """The launch of the campaign, which starts its run (an action due now): the run's touchpoints
    are generated in the launch's own request, so that the campaign's form shows them at once."""
    campaign = env["campaign.campaign"].browse(ids["campaign"])
    launch = env["campaign.campaign.launch"].create({"campaign_id": campaign.id, "mode": "now"})
    env.cr.commit()
    start = time.perf_counter()
    launch.action_launch()
    elapsed = time.perf_counter() - start
    run = campaign.run_ids[:1]
    env.cr.execute("SELECT COUNT(*) FROM campaign_touchpoint WHERE run_id = %s", [run.id])
    rows = env.cr.fetchone()[0]
    # the INSERT ... SELECT alone, timed by PostgreSQL (the step includes locking and stats)
    return {"seconds": elapsed, "rows": rows, "rows_per_second": rows / elapsed if elapsed else 0, "run": run.id}


def step_ours(env, ids):
    start = time.perf_counter()
    env["campaign.action.run"]._dispatch_pending()
    elapsed = time.perf_counter() - start
    env.cr.execute(
        "SELECT COUNT(*) FROM mail_mail mm JOIN mailing_mailing m ON m.id = mm.mailing_id "
        "WHERE m.campaign_action_id = %s",
        [ids["action"]],
    )
    mails = env.cr.fetchone()[0]
    return {"seconds": elapsed, "mails": mails, "per_second": mails / elapsed if elapsed else 0}


def step_mass(env, ids):
    mailing = env["mailing.mailing"].browse(ids["mailing"])
    start = time.perf_counter()
    mailing.action_send_mail()
    elapsed = time.perf_counter() - start
    env.cr.execute("SELECT COUNT(*) FROM mail_mail WHERE mailing_id = %s", [mailing.id])
    mails = env.cr.fetchone()[0]
    return {"seconds": elapsed, "mails": mails, "per_second": mails / elapsed if elapsed else 0}


def step_smtp(env, ids, port, limit, which):
    """Send up to ``limit`` queued mails (of the campaign or of the plain mass mailing) to the SMTP
    server on loopback, through Odoo's mail queue code."""
    env["ir.mail_server"].search([]).write({"active": False})
    env["ir.mail_server"].create(
        {"name": "bench", "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_encryption": "none"}
    )
    if which == "ours":
        env.cr.execute(
            "SELECT mm.id FROM mail_mail mm JOIN mailing_mailing m ON m.id = mm.mailing_id "
            "WHERE m.campaign_action_id = %s AND mm.state = 'outgoing' ORDER BY mm.id LIMIT %s",
            [ids["action"], limit],
        )
    else:
        env.cr.execute(
            "SELECT id FROM mail_mail WHERE mailing_id = %s AND state = 'outgoing' ORDER BY id LIMIT %s",
            [ids["mailing"], limit],
        )
    mail_ids = [row[0] for row in env.cr.fetchall()]
    env.cr.commit()
    start = time.perf_counter()
    for offset in range(0, len(mail_ids), 1000):
        env["mail.mail"].browse(mail_ids[offset : offset + 1000]).send(auto_commit=True)
    elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "mails": len(mail_ids), "per_second": len(mail_ids) / elapsed if elapsed else 0}


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
        run = landing._create_run(fields.Datetime.now())
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
                   action_id, campaign_id, company_id, currency_id, channel, partner_id, run_number, state,
                   date_planned, date_done, date_opened, date_clicked, unit_cost, open_count, click_count,
                   visit_count, attempt_count, create_uid, create_date, write_uid, write_date)
               SELECT a.id, a.campaign_id, a.company_id, a.currency_id, 'email', p.partner_id,
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
    "ours": step_ours,
    "mass": step_mass,
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
        elif args.step == "smtp":
            result = step_smtp(env, json.loads(args.ids), args.port, args.limit, args.which)
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--template", default="campaign_bench_tpl", help="database with the addon installed")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--smtp-sample", type=int, default=2000, help="mails sent to the SMTP server per size")
    parser.add_argument("--step")
    parser.add_argument("--db")
    parser.add_argument("--n", type=int)
    parser.add_argument("--ids")
    parser.add_argument("--port", type=int)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--which")
    parser.add_argument("--touchpoints", type=int, default=1_000_000, help="touchpoints of the ROI step")
    parser.add_argument("--lines", type=int, default=100_000, help="analytic items of the ROI step")
    parser.add_argument("--no-roi", action="store_true", help="skip the ROI and analysis step")
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
    if args.step:
        return run_step(args)

    sys.path.insert(0, str(ROOT / "tests"))
    from smtp_server import LocalSMTPServer  # noqa: PLC0415 - the tests' loopback SMTP server

    results = {}
    if args.demo_db:
        print(f"== demo database {args.demo_db}", flush=True)
        screens = call_step(args, "screens_setup_demo", args.demo_db, ids="{}")
        results["demo"] = {"screens": measure_screens(args, args.demo_db, screens)}
    sizes = [int(size) for size in args.sizes.split(",")]
    for n in [max(sizes)] if args.screens_only else sizes:
        db = f"{args.db_prefix}_{n}"
        psql(f'DROP DATABASE IF EXISTS "{db}"')
        psql(f'CREATE DATABASE "{db}" TEMPLATE "{args.template}"')
        print(f"== {n:,} contacts (database {db})", flush=True)
        ids = call_step(args, "setup", db, n=n)
        figures = {"setup": ids}
        for step in ("resolve", "generate") if args.screens_only else ("resolve", "generate", "ours", "mass"):
            figures[step] = call_step(args, step, db, ids=json.dumps(ids))
            print(f"   {step:9} {json.dumps(figures[step])}", flush=True)
        for which in () if args.screens_only else ("ours", "mass"):
            with LocalSMTPServer() as server:
                key = f"smtp_{which}"
                figures[key] = call_step(
                    args,
                    "smtp",
                    db,
                    ids=json.dumps(ids),
                    port=server.port,
                    limit=min(args.smtp_sample, n),
                    which=which,
                )
                figures[key]["received"] = len(server.messages)
            print(f"   {key:9} {json.dumps(figures[key])}", flush=True)
        if not args.screens_only and (n == max(int(size) for size in args.sizes.split(",")) or args.routes_every_size):
            figures["routes"] = measure_routes(args, db, ids)
            print(f"   {'routes':9} {json.dumps(figures['routes'])}", flush=True)
        if n == max(int(size) for size in args.sizes.split(",")) and not args.no_roi:
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
        if not args.keep:
            psql(f'DROP DATABASE IF EXISTS "{db}"')
    report(results)
    out = ROOT / "var" / "benchmark.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nraw figures in {out}")


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
    sizes = sorted(n for n, figures in results.items() if isinstance(n, int) and "ours" in figures)
    if not sizes:
        return
    print("\n| step | " + " | ".join(f"{n:,}" for n in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    rows = [
        ("resolution + de-duplication (s)", lambda f: f"{f['resolve']['seconds']:.2f}"),
        ("touchpoint generation (rows/s)", lambda f: f"{f['generate']['rows_per_second']:,.0f}"),
        ("launch to queued, campaign (s)", lambda f: f"{f['ours']['seconds']:.1f}"),
        ("launch to queued, mass mailing (s)", lambda f: f"{f['mass']['seconds']:.1f}"),
        ("ratio campaign / mass mailing", lambda f: f"{f['ours']['seconds'] / f['mass']['seconds']:.2f}"),
        ("peak memory campaign worker (MB)", lambda f: f"{f['ours']['peak_rss_mb']:.0f}"),
        ("peak memory mass mailing worker (MB)", lambda f: f"{f['mass']['peak_rss_mb']:.0f}"),
        ("SMTP dispatch, campaign mails (mails/s)", lambda f: f"{f['smtp_ours']['per_second']:.0f}"),
        ("SMTP dispatch, mass mailing mails (mails/s)", lambda f: f"{f['smtp_mass']['per_second']:.0f}"),
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
    for label, value in rows:
        print(f"| {label} | " + " | ".join(value(results[n]) for n in sizes) + " |")
    if len(sizes) > 1:
        small, big = sizes[0], sizes[-1]
        factor = big / small
        print(f"\ngrowth from {small:,} to {big:,} (x{factor:g} contacts):")
        for step in ("resolve", "generate", "ours", "mass"):
            growth = results[big][step]["seconds"] / max(results[small][step]["seconds"], 1e-9)
            print(f"  {step:9} time x{growth:.1f}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
