from contextlib import contextmanager

from odoo import api, fields, models
from odoo.tools import SQL

from ..const import AUDIENCE_LESS_CHANNELS, EMPTY_CLASSIFIED_SQL, NOT_REACHED_STATES

# Key of the cursor's cache (``cr.cache``) holding the rows of the audience classifications made in
# its transaction: {(SQL code, parameters): (snapshot, rows)} (see ``_audience_rows``).
_AUDIENCE_MEMO = "campaign_manager.audience_rows"
# Key of the cursor's cache holding, while a screen shows several figures of one audience
# (``_audience_pinned``), the rows of the classifications made since it began and the ids of the
# targets already brought up to date: {"rows": {(SQL code, parameters): rows}, "prepared": set()}.
_AUDIENCE_PINNED = "campaign_manager.audience_pinned"


class CampaignTarget(models.Model):
    """The audience of the targets: whom they reach once expanded to companies and contact persons,
    classified with the exclusions of a channel, and the *Calculate* figures, all in SQL (the sources
    that select the contacts are in campaign_target.py)."""

    _inherit = "campaign.target"

    # The target's share of the campaign's audience (see campaign.campaign's audience fields), for
    # the channel the campaign's audience is counted for.
    recipient_count = fields.Integer(
        string="Found",
        compute="_compute_audience",
        help="Distinct contacts the target selects right now (companies and contact persons expanded as "
        "it says), before any exclusion: opted-out subscribers, blacklisted or archived contacts are "
        "counted here, and a contact also found in another target too.",
    )
    reachable_count = fields.Integer(
        string="Reachable Now",
        compute="_compute_audience",
        help="Contacts of this target the campaign can reach right now on the channel it is counted for. "
        "A contact found in several targets counts in each; the campaign's Reachable Now counts them once.",
    )
    excluded_count = fields.Integer(
        string="Excluded",
        compute="_compute_audience",
        help="Contacts of this target left out on the channel counted (Found - Reachable Now): archived, "
        "without usable address, blacklisted, opted out, already reached or sharing an address with "
        "another contact. Calculate on the campaign shows how many for each reason.",
    )

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends("campaign_id.audience_figures")
    def _compute_audience(self):
        """From the figures of the target's campaign, computed once for all its targets."""
        for target in self:
            if not target.id:
                target.recipient_count = len(target.partner_ids)
                target.reachable_count = target.excluded_count = 0
                continue
            counts = (target.campaign_id._origin.audience_figures or {}).get("by_target", {}).get(str(target.id))
            counts = counts or {"found": 0, "reachable": 0}  # a filter that cannot be applied: counts nothing
            target.recipient_count = counts["found"]
            target.reachable_count = counts["reachable"]
            target.excluded_count = counts["found"] - counts["reachable"]

    def _invalidate_audience(self):
        """Forget the audience figures of the targets' campaigns (contacts changed behind the ORM)."""
        campaigns = self.campaign_id
        campaigns.invalidate_recordset(["audience_channel", "audience_size", "audience_excluded", "audience_figures"])
        campaigns.target_ids.invalidate_recordset(["recipient_count", "reachable_count", "excluded_count"])

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_view_recipients(self):
        self.ensure_one()
        query = self._reached_partner_ids_sql()
        self.env.cr.execute(SQL("SELECT DISTINCT partner_id FROM (%s) AS t(partner_id)", query))
        partner_ids = [row[0] for row in self.env.cr.fetchall()]
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Recipients of %(target)s", target=self.name),
            "res_model": "res.partner",
            "view_mode": "list,form",
            "domain": [("id", "in", partner_ids)],
            "context": {"active_test": False},
        }

    def action_view_reachable(self):
        """The contacts of the target the campaign can reach right now (its Reachable Now)."""
        self.ensure_one()
        campaign = self.campaign_id
        channel = campaign._audience_default_channel()
        targets = campaign.target_ids.filtered(lambda t: not t._filter_error())
        partner_ids = []
        if self in targets:
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    """SELECT c.partner_id FROM (%s) AS c
                        WHERE c.reason IS NULL
                          AND c.partner_id IN (SELECT partner_id FROM (%s) AS t(partner_id))""",
                    targets._classified_sql(channel),
                    self._reached_partner_ids_sql(),
                )
            )
            partner_ids = [row[0] for row in self.env.cr.fetchall()]
        labels = dict(campaign._fields["audience_channel"]._description_selection(self.env))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reachable now in %(target)s (%(channel)s)", target=self.name, channel=labels[channel]),
            "res_model": "res.partner",
            "view_mode": "list,form",
            "views": [(False, "list"), (False, "form")],
            "domain": [("id", "in", partner_ids)],
        }

    # ------------------------------------------------------------------
    # AUDIENCE (set-based)
    # ------------------------------------------------------------------
    def _reach_settings(self, action=None):
        """Whom to reach among the contacts found: the action's choice when it overrides the
        targets', else the target's.

        :return: (reach key, job position text, res.partner.category recordset)
        """
        self.ensure_one()
        source = action if action and action.reach and action.reach != "target" else self
        return source.reach or "contacts", source.person_function, source.person_category_ids

    def _reached_partner_ids_sql(self, action=None):
        """SQL selecting the partner ids the target reaches (one column): its contacts, expanded to
        their companies and/or the companies' contact persons as the reach settings say."""
        self.ensure_one()
        reach, function, categories = self._reach_settings(action)
        return self._expand_reach_sql(self._partner_ids_sql(), reach, function, categories)

    @api.model
    def _expand_reach_sql(self, base, reach, function=False, categories=None):
        """Expand the partner ids selected by ``base`` (one column) in SQL.

        :param SQL base: query of one column of res.partner ids
        :param str reach: a REACH_SELECTION key; ``contacts`` returns ``base`` unchanged
        :param str function: keep only the companies' contact persons whose job position contains it
        :param categories: res.partner.category recordset; keep only the companies' contact persons
            having one of them
        :return: SQL of one column of res.partner ids, without duplicates
        """
        if reach not in ("companies", "persons", "both"):
            return base
        parts = []
        if reach in ("companies", "both"):
            # the company of each contact found (itself for a company): commercial_partner_id
            parts.append(
                SQL(
                    """SELECT DISTINCT cp.id FROM base
                         JOIN res_partner p ON p.id = base.partner_id
                         JOIN res_partner cp ON cp.id = p.commercial_partner_id
                        WHERE cp.is_company"""
                )
            )
        if reach in ("persons", "both"):
            domain = []
            if function:
                domain.append(("function", "ilike", function))
            if categories:
                domain.append(("category_id", "in", categories.ids))
            person_filter = (
                SQL("ch.id IN (%s)", self.env["res.partner"]._search(domain).select()) if domain else SQL("TRUE")
            )
            parts.append(
                SQL(
                    """SELECT p.id FROM base
                         JOIN res_partner p ON p.id = base.partner_id
                        WHERE NOT p.is_company
                       UNION
                       SELECT ch.id FROM base
                         JOIN res_partner co ON co.id = base.partner_id AND co.is_company
                         JOIN res_partner ch ON ch.commercial_partner_id = co.id AND ch.id != co.id
                        WHERE NOT ch.is_company AND ch.type = 'contact' AND ch.active AND %s""",
                    person_filter,
                )
            )
        return SQL(
            """WITH base AS (SELECT DISTINCT partner_id FROM (%s) AS b(partner_id) WHERE partner_id IS NOT NULL)
               %s""",
            base,
            SQL(" UNION ").join(parts),
        )

    def _union_sql(self, action=None):
        """One SQL of (target_id, partner_id) rows over all targets of ``self``, duplicates kept.
        Each target's contacts are expanded to companies / contact persons first (``action``'s reach
        settings when it overrides the targets'), so that de-duplication and exclusions apply after."""
        parts = [
            SQL(
                "SELECT %s AS target_id, partner_id FROM (%s) AS %s(partner_id)",
                target.id,
                target._reached_partner_ids_sql(action),
                SQL.identifier(f"t{index}"),
            )
            for index, target in enumerate(self)
        ]
        if not parts:
            return SQL("SELECT NULL::integer AS target_id, NULL::integer AS partner_id WHERE FALSE")
        return SQL(" UNION ALL ").join(parts)

    def _classified_sql(self, channel, action=None, contacts_sql=None):
        """SQL of (partner_id, reason, held_until, tz) for every distinct contact of the targets,
        ``reason`` being NULL for the contacts that will be reached and an EXCLUSION_REASONS key for
        the others, ``held_until`` the date before which a contact to reach must not be (a
        pressure cap), else NULL, ``tz`` the contact's time zone when the action sends at local
        time (``_classified_zone_sql``), else NULL.
        Everything happens in PostgreSQL: no contact is loaded in Python. Channels that reach no
        contact (AUDIENCE_LESS_CHANNELS: web links) give no row.

        :param contacts_sql: SQL selecting the partner ids to classify instead of the targets'
            (a follow-up reaching the contacts of the previous action)
        """
        campaign = action.campaign_id if action else self.campaign_id
        campaign.ensure_one()
        if channel in AUDIENCE_LESS_CHANNELS:
            return EMPTY_CLASSIFIED_SQL
        # where each channel finds the contact's address, and whether the opt-outs apply (models/channels/)
        rules = self.env["campaign.action"]._channel_audience_rules(channel, action=action)
        address, no_address, blacklisted = rules["address"], rules["no_address"], rules["blacklisted"]

        if rules["opt_out"]:
            # the ids of the targets' lists (and of the lists that enrol contacts in a journey)
            list_ids = tuple(campaign._audience_mailing_lists().ids) or (0,)
            opted_out = SQL(
                """(EXISTS (SELECT 1 FROM mailing_subscription s
                              JOIN mailing_contact mc ON mc.id = s.contact_id
                             WHERE s.opt_out AND s.list_id IN %s
                               AND mc.email_normalized = p.email_normalized)
                    OR p.id IN (SELECT tu.partner_id FROM campaign_touchpoint tu
                                 WHERE tu.campaign_id = %s AND tu.state = 'unsubscribed'
                                   AND tu.partner_id IS NOT NULL))""",
                list_ids,
                campaign.id,
            )
        else:
            opted_out = SQL("FALSE")

        if action and action.once_per_contact:
            already = SQL(
                """p.id IN (SELECT tp.partner_id FROM campaign_touchpoint tp
                             WHERE tp.action_id = %s AND tp.state NOT IN %s AND tp.partner_id IS NOT NULL)""",
                action.id,
                NOT_REACHED_STATES,
            )
        else:
            already = SQL("FALSE")

        # ``checked`` is materialized so that each contact's reason is worked out once: inlined,
        # PostgreSQL evaluated the CASE three times per contact (the reason, the window's partition,
        # the duplicates' CASE), and with it the touchpoint look-ups. The campaign's unsubscribed
        # contacts and the action's reached ones are read once each (a hashed IN), not looked up
        # per contact: over 100,000 touchpoints of the campaign, 3 x 73,333 index scans were 60 %
        # of the classification. The contacts are made distinct by grouping on the partner's key
        # after the join (the other columns depend on it): PostgreSQL then estimates their number
        # from the contacts' statistics, where a DISTINCT over the targets' union was estimated at
        # 200 rows, and every step after it (the look-ups of the contacts, the caps, the local
        # times) was planned for 200 rows instead of 73,333 (Roi0 alone: 350 ms -> 275 ms).
        classified = SQL(
            """
            WITH contacts AS (
                SELECT u.partner_id FROM (%(union)s) AS u(partner_id)
            ),
            checked AS MATERIALIZED (
                SELECT p.id AS partner_id, %(address)s AS address, %(zone)s AS tz,
                       CASE WHEN NOT p.active THEN 'archived'
                            WHEN %(no_address)s THEN 'no_address'
                            WHEN %(blacklisted)s THEN 'blacklisted'
                            WHEN %(opted_out)s THEN 'opted_out'
                            WHEN %(already)s THEN 'already_reached'
                       END AS reason
                  FROM contacts c
                  JOIN res_partner p ON p.id = c.partner_id
              GROUP BY p.id
            ),
            ranked AS (
                SELECT partner_id, reason, tz,
                       CASE WHEN reason IS NULL
                            THEN row_number() OVER (PARTITION BY reason IS NULL, address ORDER BY partner_id)
                            ELSE 1 END AS rank
                  FROM checked
            )
            SELECT partner_id, CASE WHEN rank > 1 THEN 'duplicate' ELSE reason END AS reason, tz FROM ranked
            """,
            union=contacts_sql
            if contacts_sql is not None
            else SQL("SELECT partner_id FROM (%s) AS x", self._union_sql(action)),
            address=address,
            no_address=no_address,
            blacklisted=blacklisted,
            opted_out=opted_out,
            already=already,
            zone=self._classified_zone_sql(action),
        )
        # hold-out (control group): on the same rows, so that it is one more exclusion reason; then
        # the company's marketing pressure caps on the contacts left (a held_until column)
        classified = self._holdout_sql(classified, campaign, action)
        return self._pressure_sql(classified, campaign, channel, action)

    def _classified_zone_sql(self, action):
        """SQL expression of the classified contact's time zone (``p``: the contact), carried in the
        ``tz`` column of the classification: none here (see models/campaign_local_time.py)."""
        return SQL("NULL::varchar")

    def _audience_stats(self, channel, action=None):
        """Figures of the *Calculate* button for the targets ``self`` of one campaign and a channel,
        once the sources are brought up to date (contacts made for list subscribers and leads,
        snapshots of new static targets).

        :return: dict with ``total`` (rows over all targets), ``contacts`` (distinct contacts),
            ``duplicates`` (contacts found in several targets, counted once), ``excluded`` (dict
            reason -> count, including duplicate addresses), ``final`` (contacts to reach), ``held``
            (those of them held until a pressure cap allows them), ``audience_less`` (True for a
            channel that reaches no contact, all figures then 0) and ``by_target`` (see
            ``_audience_figures``)
        """
        if self and channel not in AUDIENCE_LESS_CHANNELS:
            pinned = self.env.cr.cache.get(_AUDIENCE_PINNED)
            if pinned is None or not set(self.ids) <= pinned["prepared"]:
                self._prepare_for_run()
                if pinned is not None:
                    pinned["prepared"].update(self.ids)
        return self._audience_figures(channel, action=action)

    @api.model
    @contextmanager
    def _audience_pinned(self):
        """Within the block, a classification whose SQL was already executed in the block is read
        from its first execution, and targets already brought up to date for a run are not again,
        even once the transaction has written: for the screens that show several figures of one
        audience in one request after saving something (the order's launch step: the campaign's
        figures then each starting action's, usually the same classification). The block writes
        nothing a classification reads once it has classified (only its own wizards and their
        lines; bringing the targets up to date again would change nothing): callers see to it."""
        cache = self.env.cr.cache
        if _AUDIENCE_PINNED in cache:  # already within such a block
            yield
            return
        cache[_AUDIENCE_PINNED] = {"rows": {}, "prepared": set()}
        try:
            yield
        finally:
            cache.pop(_AUDIENCE_PINNED, None)

    def _audience_figures(self, channel, action=None):
        """The *Calculate* figures of the targets ``self`` (of one campaign) as their sources stand,
        without changing anything: one SQL statement, the contacts classified once.

        :return: dict as ``_audience_stats``; ``by_target`` maps each target id to its ``found``
            (distinct contacts it selects, before exclusions) and ``reachable`` (those of them the
            campaign reaches: not excluded for any reason, duplicate addresses included)
        """
        figures = {
            "total": 0,
            "contacts": 0,
            "duplicates": 0,
            "excluded": {},
            "final": 0,
            "held": 0,
            "audience_less": channel in AUDIENCE_LESS_CHANNELS,
            "by_target": {target.id: {"found": 0, "reachable": 0} for target in self},
        }
        if not self or channel in AUDIENCE_LESS_CHANNELS:
            return figures
        query = SQL(
            """
            WITH audience_rows AS MATERIALIZED (
                SELECT target_id, partner_id FROM (%(union)s) AS u WHERE partner_id IS NOT NULL
            ),
            classified AS MATERIALIZED (%(classified)s)
            SELECT 'reason' AS kind, NULL::integer AS target_id, reason, COUNT(*) AS found,
                   COUNT(*) FILTER (WHERE held_until IS NOT NULL) AS reachable
              FROM classified GROUP BY reason
            UNION ALL
            SELECT 'target', r.target_id, NULL, COUNT(DISTINCT r.partner_id),
                   COUNT(DISTINCT r.partner_id) FILTER (WHERE c.reason IS NULL)
              FROM audience_rows r JOIN classified c ON c.partner_id = r.partner_id
          GROUP BY r.target_id
            UNION ALL
            SELECT 'total', NULL, NULL, COUNT(*), 0 FROM audience_rows""",
            union=self._union_sql(action),
            classified=self._classified_sql(channel, action, contacts_sql=SQL("SELECT partner_id FROM audience_rows")),
        )
        for kind, target_id, reason, found, reachable in self._audience_rows(query):
            if kind == "total":
                figures["total"] = found
            elif kind == "target":
                figures["by_target"][target_id] = {"found": found, "reachable": reachable}
            elif reason is None:
                figures["final"] = found
                figures["held"] = reachable  # reachable later: held by a pressure cap
            else:
                figures["excluded"][reason] = found
        figures["contacts"] = figures["final"] + sum(figures["excluded"].values())
        figures["duplicates"] = figures["total"] - figures["contacts"]
        return figures

    def _audience_rows(self, query):
        """The rows of the classification ``query``, executed once per transaction while it writes
        nothing: the form's audience fields, its KPI banner, the figures of the targets and the
        wizards' counts that classify the same targets for the same channel in one request read the
        rows of the first classification. A classification is a pure function of its SQL and of the
        data the transaction sees; the rows are kept with the transaction's PostgreSQL snapshot and
        only while it has written nothing (see ``_audience_snapshot``), so that a change made since
        by the transaction itself, by the ORM or in SQL, is always seen."""
        key = (query.code, repr(query.params))
        pinned = self.env.cr.cache.get(_AUDIENCE_PINNED)
        if pinned is not None and key in pinned["rows"]:
            return pinned["rows"][key]

        def classify():
            # PostgreSQL's JIT compiles this one-off statement for longer than it runs (10 s of
            # compilation for 3 s of work over 100,000 contacts on the benchmark's machine); the
            # setting ends with the transaction, as for the touchpoint generation.
            self.env.cr.execute("SET LOCAL jit = off")
            self.env.cr.execute(query)
            return self.env.cr.fetchall()

        rows = self._snapshot_memo(_AUDIENCE_MEMO, key, classify)
        if pinned is not None:
            pinned["rows"][key] = rows
        return rows

    @api.model
    def _snapshot_memo(self, name, key, read):
        """``read()``, kept in the cursor's cache ``name`` under ``key`` with the transaction's
        snapshot (see ``_audience_snapshot``): read again in another transaction, and each time once
        the transaction has written."""
        snapshot = self._audience_snapshot()
        memo = self.env.cr.cache.setdefault(name, {})
        if snapshot is not None and memo.get(key, (None,))[0] == snapshot:
            return memo[key][1]
        rows = read()
        if snapshot is None:
            memo.clear()
        else:
            memo[key] = (snapshot, rows)
        return rows

    def _audience_snapshot(self):
        """The PostgreSQL snapshot of the transaction (text), while the transaction has written
        nothing: no transaction id assigned once the ORM's pending writes are flushed. ``None`` once
        it has written, its own changes being in no snapshot: its classifications are then executed
        each time. The snapshot also tells a new transaction of the same cursor (after a commit or a
        rollback) from the one the rows were read in."""
        self.env.flush_all()
        self.env.cr.execute("SELECT pg_current_snapshot()::text, pg_current_xact_id_if_assigned() IS NULL")
        snapshot, read_only = self.env.cr.fetchone()
        return snapshot if read_only else None
