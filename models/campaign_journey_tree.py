from odoo import api, fields, models

from ..const import CARRIED_STATES

# Touchpoint states of a contact still to be reached by an action (its run generated them).
WAITING_STATES = ("planned", "queued")


class CampaignCampaign(models.Model):
    """The campaign's actions as a tree (the *Journey* tab): each action under the one it follows,
    with its channel, when it runs, whom it reaches and the live counts of its touchpoints. The
    web client draws it (static/src/views/fields/campaign_journey_tree.js)."""

    _inherit = "campaign.campaign"

    journey_tree = fields.Json(
        string="Journey",
        compute="_compute_journey_tree",
        help="The actions of the campaign as a tree: each follow-up under the action it follows (the split of "
        "an action and the yes/no branch of its follow-ups shown), with its touchpoints waiting, carried out, "
        "excluded (with the reasons), converted and failed.",
    )

    @api.depends(
        "action_ids",
        "action_ids.parent_id",
        "action_ids.state",
        "action_ids.name",
        "action_ids.split_domain",
        "action_ids.branch",
    )
    @api.depends_context("lang")
    def _compute_journey_tree(self):
        actions = self.action_ids
        counts = self._journey_counts(actions)
        labels = {
            field: dict(actions._fields[field]._description_selection(self.env))
            for field in ("channel", "state", "followup_filter", "schedule_type", "delay_unit")
        }
        reasons = dict(self.env["campaign.touchpoint"]._fields["exclusion_reason"]._description_selection(self.env))
        for campaign in self:
            nodes = []
            for action in campaign.action_ids:
                count = counts.get(action.id, {})
                nodes.append(
                    {
                        "id": action.id,
                        "name": action.name,
                        "parent_id": action.parent_id.id or False,
                        "channel": labels["channel"].get(action.channel, ""),
                        "state": action.state,
                        "state_label": labels["state"].get(action.state, ""),
                        "when": action._journey_when(labels),
                        "condition": labels["followup_filter"].get(action.followup_filter, "")
                        if action.parent_id and action.followup_filter != "targets"
                        else "",
                        "split": action._split_description(),
                        "branch": action.branch if action.parent_id else "all",
                        "waiting": count.get("waiting", 0),
                        "done": count.get("done", 0),
                        "converted": count.get("converted", 0),
                        "failed": count.get("failed", 0),
                        "excluded": sum(count.get("reasons", {}).values()),
                        "reasons": [
                            {"label": reasons.get(reason) or self.env._("Other"), "count": number}
                            for reason, number in sorted(count.get("reasons", {}).items(), key=lambda r: -r[1])
                        ],
                    }
                )
            campaign.journey_tree = {"nodes": nodes, "can_edit": campaign.has_access("write")}

    def _journey_counts(self, actions):
        """Touchpoints of the actions by status, from the grouped read of their campaigns' touchpoints
        that the form's touchpoint count shares (the reader's rules apply).

        :return: {action_id: {"waiting", "done", "converted", "failed": int, "reasons": {reason: int}}}
        """
        result = {}
        if not actions:
            return result
        # the campaigns ``self`` (whose actions these are), as the touchpoint count reads them
        groups = self.env["campaign.touchpoint"]._status_groups(self)
        for _campaign_id, action_id, state, reason, number in groups:
            if action_id not in actions._ids:
                continue
            count = result.setdefault(action_id, {"reasons": {}})
            if state in WAITING_STATES:
                key = "waiting"
            elif state in CARRIED_STATES:
                key = "done"
            elif state == "excluded":
                count["reasons"][reason] = count["reasons"].get(reason, 0) + number
                continue
            elif state == "failed":
                key = "failed"
            else:
                continue
            count[key] = count.get(key, 0) + number
            if state == "converted":
                count["converted"] = count.get("converted", 0) + number
        return result


class CampaignAction(models.Model):
    _inherit = "campaign.action"

    def _journey_when(self, labels):
        """When the action runs, in a few words of the reader's language."""
        self.ensure_one()
        if self.parent_id:
            return self.env._(
                "%(delay)s %(unit)s after “%(action)s”",
                delay=self.delay,
                unit=labels["delay_unit"].get(self.delay_unit, "").lower(),
                action=self.parent_id.name,
            )
        when = labels["schedule_type"].get(self.schedule_type, "")
        if self.date_start and self.schedule_type in ("at", "recurring"):
            # in the reader's time zone and date format, as the web client shows dates
            lang = self.env["res.lang"]._get_data(code=self.env.lang or "en_US")
            start = fields.Datetime.context_timestamp(self, self.date_start)
            return f"{when} · {start.strftime(f'{lang.date_format} {lang.time_format}'.replace(':%S', ''))}"
        return when
