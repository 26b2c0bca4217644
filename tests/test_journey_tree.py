from unittest.mock import patch

from odoo import fields
from odoo.tests import new_test_user, tagged

from .common import RpcClientMixin
from .tour_common import TourCase


@tagged("post_install", "-at_install")
class TestJourneyTree(RpcClientMixin, TourCase):
    """The journey as a tree, as a marketing user (only Marketing Campaigns / User) sees it: over
    JSON-RPC, then in a real browser in English and in French.

    Teaser (email), split on the country, has 9 touchpoints: 1 planned, 3 sent, 1 opened, 1 converted, 2 excluded
    (blacklisted, no address), 1 failed; Reminder follows it 2 days later for those in France who did not open;
    Letter runs at a date of its own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(
            cls.env, login="tour_journey", name="Jade Journey", groups="campaign_manager.group_campaign_user"
        )
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(["campaign_manager"], ["fr_FR"], overwrite=True)
        env = cls.env(user=cls.user)
        cls.campaign = env["campaign.campaign"].create({"name": "JourneyTree", "user_id": cls.user.id})
        Action = env["campaign.action"]
        # Teaser splits its contacts on the country: Reminder takes those in France
        cls.teaser = Action.create(
            {
                "campaign_id": cls.campaign.id,
                "name": "Teaser",
                "channel": "email",
                "split_domain": str([("country_id", "=", cls.env.ref("base.fr").id)]),
            }
        )
        cls.reminder = Action.create(
            {
                "campaign_id": cls.campaign.id,
                "name": "Reminder",
                "channel": "email",
                "schedule_type": "after",
                "parent_id": cls.teaser.id,
                "delay": 2,
                "delay_unit": "days",
                "followup_filter": "not_opened",
                "branch": "yes",
            }
        )
        cls.letter = Action.create(
            {
                "campaign_id": cls.campaign.id,
                "name": "Letter",
                "channel": "letter",
                "schedule_type": "at",
                "date_start": "2027-03-01 09:00:00",
            }
        )
        partners = cls.env["res.partner"].create([{"name": f"Journey {i}"} for i in range(9)])
        now = fields.Datetime.now()
        states = [
            {"state": "planned"},
            {"state": "sent", "date_done": now},
            {"state": "sent", "date_done": now},
            {"state": "sent", "date_done": now},
            {"state": "opened", "date_done": now, "date_opened": now},
            {"state": "converted", "date_done": now, "date_converted": now},
            {"state": "excluded", "exclusion_reason": "blacklisted"},
            {"state": "excluded", "exclusion_reason": "no_address"},
            {"state": "failed"},
        ]
        cls.env["campaign.touchpoint"].create(
            [
                {"action_id": cls.teaser.id, "partner_id": partner.id, **values}
                for partner, values in zip(partners, states, strict=True)
            ]
        )
        cls._rpc_prepare_keys(cls.user)

    def test_tree_over_json_rpc(self):
        for lang, when, condition, blacklisted in (
            ("en_US", "2 days after “Teaser”", "Did not open", "Blacklisted"),
            ("fr_FR", "2 jours après « Teaser »", "N'a pas ouvert", "Sur liste noire"),
        ):
            with self.subTest(lang=lang):
                [campaign] = self.json2(
                    self.user,
                    "campaign.campaign",
                    "read",
                    ids=self.campaign.ids,
                    fields=["journey_tree"],
                    context={"lang": lang},
                )
                tree = campaign["journey_tree"]
                self.assertTrue(tree["can_edit"])
                nodes = {node["name"]: node for node in tree["nodes"]}
                teaser, reminder, letter = nodes["Teaser"], nodes["Reminder"], nodes["Letter"]
                self.assertEqual(
                    [teaser[key] for key in ("waiting", "done", "excluded", "converted", "failed")], [1, 5, 2, 1, 1]
                )
                self.assertEqual({reason["count"] for reason in teaser["reasons"]}, {1})
                self.assertIn(blacklisted, [reason["label"] for reason in teaser["reasons"]])
                self.assertFalse(teaser["parent_id"])
                self.assertEqual(reminder["parent_id"], self.teaser.id)
                self.assertEqual(reminder["when"], when)
                self.assertEqual(reminder["condition"], condition)
                self.assertEqual([reminder[key] for key in ("waiting", "done", "excluded")], [0, 0, 0])
                self.assertIn("France", teaser["split"])
                self.assertEqual((teaser["branch"], reminder["branch"], reminder["split"]), ("all", "yes", ""))
                self.assertEqual((letter["split"], letter["branch"]), ("", "all"))
                self.assertFalse(letter["parent_id"])
                self.assertIn("2027", letter["when"])

    def test_form_count_and_tree_share_one_grouped_read(self):
        """The form's touchpoint count (the 7 not excluded) and its journey tree come from one grouped
        read of the campaign's touchpoints as the user sees them; another transaction reads again,
        and a touchpoint added since is counted by both. The test's transaction has written (its
        set-up): a request that has not is simulated by the snapshot it reads."""
        [campaign] = self.json2(
            self.user, "campaign.campaign", "read", ids=self.campaign.ids, fields=["touchpoint_count", "journey_tree"]
        )
        self.assertEqual(campaign["touchpoint_count"], 7)
        teaser = next(node for node in campaign["journey_tree"]["nodes"] if node["name"] == "Teaser")
        self.assertEqual([teaser[key] for key in ("waiting", "done", "excluded")], [1, 5, 2])
        reads = []
        cursor = self.env.cr
        execute = type(cursor).execute

        def counting(query, params=None, log_exceptions=True):
            code = str(getattr(query, "code", query))
            if 'FROM "campaign_touchpoint"' in code and "GROUP BY" in code:
                reads.append(code)
            return execute(cursor, query, params, log_exceptions)

        mine = self.campaign.with_user(self.user)
        fields_ = ["touchpoint_count", "journey_tree"]
        Target = type(self.env["campaign.target"])
        with patch.object(cursor, "execute", side_effect=counting):
            with patch.object(Target, "_audience_snapshot", return_value="1000:1000:"):
                mine.invalidate_recordset(fields_)
                first = mine.read(fields_)
                self.assertEqual(len(reads), 1, "one grouped read for both fields")
            with patch.object(Target, "_audience_snapshot", return_value="1000:1001:"):
                mine.invalidate_recordset(fields_)
                self.assertEqual(mine.read(fields_), first)
                self.assertEqual(len(reads), 2, "another transaction: read again")
            # the transaction writes (its snapshot is None): its change is counted at once
            self.env["campaign.touchpoint"].create(
                {"action_id": self.reminder.id, "partner_id": self.env["res.partner"].create({"name": "Late"}).id}
            )
            mine.invalidate_recordset(fields_)
            self.assertEqual(mine.touchpoint_count, 8)
            reminder = next(node for node in mine.journey_tree["nodes"] if node["name"] == "Reminder")
            self.assertEqual(reminder["waiting"], 1)

    def _tour(self, lang):
        self.user.lang = lang
        self.start_tour(
            f"/odoo/action-campaign_manager.campaign_campaign_action/{self.campaign.id}",
            "campaign_journey_tree_tour",
            login=self.user.login,
        )
        follow_up = self.campaign.action_ids.filtered(lambda action: action.name == "Last call")
        self.assertEqual(follow_up.parent_id, self.reminder, "created under the node it was added from")
        self.assertEqual(follow_up.schedule_type, "after")

    def test_tree_in_the_browser_in_english(self):
        self._tour("en_US")

    def test_tree_in_the_browser_in_french(self):
        self._tour("fr_FR")
