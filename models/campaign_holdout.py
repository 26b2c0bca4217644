from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..const import CARRIED_STATES, HOLDOUT_MAX_SHARE

HOLDOUT_HELP = (
    "Share of the audience held out as a control group: never contacted, recorded as held out. "
    "Exactly round(share x n / 100) contacts are held out, n being the contacts the action reaches "
    "plus those already held out or reached: the contacts already held out stay held out, the others "
    "are the lowest of a hash of (campaign or action, contact), so that the choice is random but the "
    "same at every rerun. 0 holds nobody out; at most 50 %."
)


def _check_share(records):
    for record in records:
        if not 0 <= record.holdout_share <= HOLDOUT_MAX_SHARE:
            raise ValidationError(
                records.env._(
                    "The hold-out share of “%(name)s” must be between 0 and %(max)s %%, not %(share)s %%.",
                    name=record.display_name,
                    max=HOLDOUT_MAX_SHARE,
                    share=record.holdout_share,
                )
            )


class CampaignCampaign(models.Model):
    _inherit = "campaign.campaign"

    holdout_share = fields.Float(
        string="Hold-out Share (%)",
        tracking=True,
        help=HOLDOUT_HELP + " Set on the campaign, the same contacts are held out of every action of the "
        "campaign, whatever the share of the actions.",
    )

    @api.constrains("holdout_share")
    def _check_holdout_share(self):
        _check_share(self)


class CampaignAction(models.Model):
    _inherit = "campaign.action"

    holdout_share = fields.Float(
        string="Hold-out Share (%)",
        help=HOLDOUT_HELP + " Used only when the campaign holds out nobody itself.",
    )

    @api.constrains("holdout_share")
    def _check_holdout_share(self):
        _check_share(self)


class CampaignTarget(models.Model):
    _inherit = "campaign.target"

    @api.model
    def _holdout_sql(self, classified, campaign, action=None):
        """Wrap the (partner_id, reason, tz) rows ``classified`` so that the hold-out share of the
        campaign (else of the action) gets the reason 'held_out' (see HOLDOUT_HELP)."""
        if campaign.holdout_share:
            share, scope, key = campaign.holdout_share, SQL("tp.campaign_id = %s", campaign.id), f"c{campaign.id}"
        elif action and action.holdout_share:
            share, scope, key = action.holdout_share, SQL("tp.action_id = %s", action.id), f"a{action.id}"
        else:
            return classified
        return SQL(
            """
            WITH base AS (%(classified)s),
            -- one pass over the touchpoints of the scope, joined to the contacts: two subqueries
            -- per contact doubled the classification at 100,000 contacts (4.15 s against 2.0 s)
            past AS MATERIALIZED (
                SELECT tp.partner_id,
                       bool_or(tp.exclusion_reason = 'held_out') AS held,
                       bool_or(tp.state IN %(carried)s) AS treated
                  FROM campaign_touchpoint tp
                 WHERE %(scope)s AND (tp.exclusion_reason = 'held_out' OR tp.state IN %(carried)s)
              GROUP BY tp.partner_id
            ),
            marked AS (
                SELECT b.partner_id, b.reason, b.tz,
                       COALESCE(p.held, FALSE) AS held,
                       COALESCE(p.treated, FALSE) AS treated,
                       hashtext(%(key)s || '-' || b.partner_id::text) AS h
                  FROM base b
             LEFT JOIN past p ON p.partner_id = b.partner_id
            ),
            counted AS (
                SELECT m.*,
                       ROUND(%(share)s * COUNT(*) FILTER (WHERE m.held OR m.treated OR m.reason IS NULL) OVER ()
                             / 100.0) - COUNT(*) FILTER (WHERE m.held) OVER () AS fill,
                       CASE WHEN m.reason IS NULL AND NOT m.held AND NOT m.treated
                            THEN row_number() OVER (
                                PARTITION BY (m.reason IS NULL AND NOT m.held AND NOT m.treated)
                                ORDER BY m.h, m.partner_id)
                       END AS rank
                  FROM marked m
            )
            SELECT partner_id,
                   CASE WHEN held OR rank <= fill THEN 'held_out' ELSE reason END AS reason, tz
              FROM counted
            """,
            classified=classified,
            scope=scope,
            carried=CARRIED_STATES,
            key=key,
            share=share,
        )
