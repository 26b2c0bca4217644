"""Attribution by contact at scale, on the benchmark's database of 100,000 contacts (1,000,000
touchpoints carried out over a year): 100,000 posted customer invoices, one to each of 100,000
contacts the campaigns reached, dated through the same year, are written by SQL, then shared by the
attribution's own SQL (``campaign.analysis.report._attribution_sql``) for every campaign (as the
analysis view reads it), for one campaign (its form) and for all the campaigns by id (the campaign
list). Run inside Odoo's shell, which gives ``env``; nothing is kept (rolled back):

    $ODOO_BIN shell -c .odoo.conf -d <benchmark database> < tools/bench_attribution.py

Prints the best of three rounds of each, and the figures of campaign Roi0 read with those invoices."""

import time

from odoo.tools import SQL

env = globals()["env"]  # given by odoo shell
cr = env.cr
company = env.company
journal = env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", company.id)], limit=1)
cr.execute(
    SQL(
        """
    INSERT INTO account_move (journal_id, currency_id, company_id, state, move_type, auto_post, date,
                              invoice_date, partner_id, commercial_partner_id, amount_untaxed_signed,
                              amount_total_signed)
    SELECT %(journal)s, %(currency)s, %(company)s, 'posted', 'out_invoice', 'no', d, d, p.id,
           p.commercial_partner_id, 100, 115
      FROM (SELECT DISTINCT partner_id FROM campaign_touchpoint ORDER BY partner_id LIMIT 100000) t
      JOIN res_partner p ON p.id = t.partner_id,
           LATERAL (SELECT DATE '2026-01-15' + (p.id %% 340) AS d) x""",
        journal=journal.id,
        currency=company.currency_id.id,
        company=company.id,
    )
)
print(f"{cr.rowcount} invoices written")
cr.execute("ANALYZE account_move")
Report = env["campaign.analysis.report"]
roi0 = env["campaign.campaign"].search([("name", "=", "Roi0")])
for label, ids in (
    ("every campaign (the analysis view)", None),
    ("campaign Roi0 (its form)", roi0.ids),
    ("all the campaigns by id (the list)", env["campaign.campaign"].search([]).ids),
):
    best = None
    for _round in range(3):
        start = time.perf_counter()
        cr.execute(
            SQL(
                "SELECT campaign_id, SUM(amount * weight), COUNT(DISTINCT move_id) FROM (%s) s GROUP BY campaign_id",
                Report._attribution_sql(ids),
            )
        )
        rows = cr.fetchall()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    print(f"{label}: {best:.2f} s, {len(rows)} campaigns, {sum(r[2] for r in rows)} invoice shares")
start = time.perf_counter()
Report._read_figures(roi0.ids, "campaign")
print(f"every figure of Roi0 with these invoices: {time.perf_counter() - start:.2f} s")
cr.rollback()
