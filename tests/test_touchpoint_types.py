from datetime import date

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import CampaignCase
from .tour_common import TourCase

CALL_FIELDS = [
    {
        "name": "answer",
        "string": "Answer",
        "type": "selection",
        "selection": [["yes", "Yes"], ["no", "No"], ["later", "Call back later"]],
    },
    {"name": "next_step", "string": "Next step", "type": "char"},
    {"name": "amount", "string": "Amount promised", "type": "float"},
]


@tagged("post_install", "-at_install")
class TestTouchpointTypes(CampaignCase):
    """Touchpoint types with their own fields (seed 001's "type de pièce dossier" and free fields),
    and the outcome of a call or a visit recorded by hand."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.call_type = cls.env["campaign.touchpoint.type"].create(
            {
                "name": "Phone call",
                "channel": "task",
                "activity_type_id": cls.env.ref("mail.mail_activity_data_call").id,
                "activity_delay": 7,
                "activity_summary": "Call back",
                "outcome_definition": CALL_FIELDS,
            }
        )
        cls.campaign = cls._campaign("CallVips", user_id=cls.user_manager.id)
        cls.partners = cls._partners(3, prefix="vip")
        cls._manual_target(cls.campaign, cls.partners)
        cls.action = cls.env["campaign.action"].create(
            {
                "campaign_id": cls.campaign.id,
                "name": "Call the VIPs",
                "channel": "task",
                "user_id": cls.user_marketing.id,
                "touchpoint_type_id": cls.call_type.id,
            }
        )
        # touchpoints as the engine plans them for a run
        cls.planned = cls.env["campaign.touchpoint"].create(
            [{"action_id": cls.action.id, "partner_id": partner.id, "run_number": 1} for partner in cls.partners]
        )

    def _wizard(self, user=None, **values):
        Wizard = self.env["campaign.touchpoint.record"]
        if user:
            Wizard = Wizard.with_user(user)
        values.setdefault("campaign_id", self.campaign.id)
        values.setdefault("action_id", self.action.id)
        return Wizard.create(values)

    def test_type_fields_are_defined_on_the_type(self):
        self.assertEqual(self.call_type.self_id, self.call_type)
        self.assertEqual(self.planned[0].type_id, self.call_type)
        # the type's form adds a field through its preview, as the properties widget does
        self.call_type.outcome_preview = [
            *[dict(definition) for definition in CALL_FIELDS],
            {"name": "visit_date", "string": "Visit on", "type": "date", "definition_changed": True},
        ]
        self.assertEqual(
            [d["name"] for d in self.call_type.outcome_definition], ["answer", "next_step", "amount", "visit_date"]
        )
        copy = self.call_type.copy()
        self.assertEqual(copy.name, "Phone call (copy)")
        self.assertEqual(copy.self_id, copy)
        self.assertEqual(len(copy.outcome_definition), 4)

    @freeze_time("2026-05-04 10:00:00")
    def test_record_outcome_of_a_planned_call(self):
        partner = self.partners[1]
        wizard = self._wizard(user=self.user_marketing, partner_id=partner.id, state="converted", note="Keen")
        self.assertEqual(wizard.type_id, self.call_type)
        self.assertTrue(wizard.schedule_follow_up)
        self.assertEqual(wizard.follow_up_user_id, self.user_marketing, "the action's responsible")
        wizard.outcome = {"answer": "yes", "next_step": "Send the contract", "amount": 1500.0}
        result = wizard.action_record()
        touchpoint = self.planned[1]
        self.assertEqual(result["res_id"], touchpoint.id, "the planned touchpoint gets the outcome")
        self.assertEqual(touchpoint.state, "converted")
        self.assertEqual(str(touchpoint.date_converted), "2026-05-04 10:00:00")
        self.assertEqual(touchpoint.recorded_by_id, self.user_marketing)
        self.assertEqual(touchpoint.note, "Keen")
        self.assertEqual(
            dict(touchpoint.with_context(property_selection_get_key=True).outcome),
            {"answer": "yes", "next_step": "Send the contract", "amount": 1500.0},
        )
        self.assertEqual(touchpoint.outcome["answer"], "Yes")
        activity = partner.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(
            (activity.activity_type_id, activity.summary, activity.user_id, activity.date_deadline),
            (self.env.ref("mail.mail_activity_data_call"), "Call back", self.user_marketing, date(2026, 5, 11)),
        )
        self.assertIn("Call the VIPs", str(activity.note))
        self.assertEqual(self.action.touchpoint_count, 3, "no touchpoint added")

    def test_record_as_the_web_client_does(self):
        """The form sends the type and the fields with their values in one save."""
        values = [dict(definition) for definition in CALL_FIELDS]
        values[0]["value"] = "later"
        values[2]["value"] = 200.0
        result = (
            self.env["campaign.touchpoint.record"]
            .with_user(self.user_marketing)
            .web_save(
                {
                    "campaign_id": self.campaign.id,
                    "action_id": self.action.id,
                    "partner_id": self.partners[0].id,
                    "type_id": self.call_type.id,
                    "schedule_follow_up": False,
                    "outcome": values,
                },
                {"outcome": {}},
            )
        )
        wizard = self.env["campaign.touchpoint.record"].browse(result[0]["id"])
        wizard.with_user(self.user_marketing).action_record()
        self.assertEqual(self.planned[0].state, "done")
        outcome = self.planned[0].with_context(property_selection_get_key=True).outcome
        self.assertEqual((outcome["answer"], outcome["amount"]), ("later", 200.0))
        self.assertFalse(self.partners[0].activity_ids, "no follow-up asked")

    def test_visit_recorded_by_hand_creates_touchpoints(self):
        walk_in = self._partners(1, prefix="walkin")
        self._wizard(partner_id=walk_in.id, schedule_follow_up=False).action_record()
        first = self.env["campaign.touchpoint"].search([("partner_id", "=", walk_in.id)])
        self.assertEqual((first.run_number, first.state, first.type_id), (0, "done", self.call_type))
        self._wizard(partner_id=walk_in.id, schedule_follow_up=False, state="replied").action_record()
        touchpoints = self.env["campaign.touchpoint"].search([("partner_id", "=", walk_in.id)], order="run_number")
        self.assertEqual(touchpoints.mapped("run_number"), [-1, 0], "runs of the engine are numbered from 1")
        self.assertEqual(touchpoints.mapped("state"), ["replied", "done"])

    def test_engine_touchpoints_carry_the_type(self):
        calls = self.env["campaign.action"].create(
            {
                "campaign_id": self.campaign.id,
                "name": "Second round of calls",
                "channel": "task",
                "touchpoint_type_id": self.call_type.id,
            }
        )
        run = self.env["campaign.engine"]._create_run(calls, fields.Datetime.now())
        self.assertEqual(len(run.touchpoint_ids), 3)
        self.assertEqual(run.touchpoint_ids.type_id, self.call_type, "set by the engine's INSERT")
        wizard = self._wizard(action_id=calls.id, partner_id=self.partners[0].id, schedule_follow_up=False)
        wizard.outcome = {"amount": 75.0}
        result = wizard.action_record()
        touchpoint = run.touchpoint_ids.filtered(lambda tp: tp.partner_id == self.partners[0])
        self.assertEqual(result["res_id"], touchpoint.id, "the engine's planned touchpoint gets the outcome")
        self.assertEqual((touchpoint.state, touchpoint.outcome["amount"]), ("done", 75.0))

    def test_erasure_clears_recorded_outcomes(self):
        wizard = self._wizard(partner_id=self.partners[0].id, schedule_follow_up=False, note="Lives alone, call at 6")
        wizard.outcome = {"next_step": "Visit at home"}
        wizard.action_record()
        self.env["campaign.contact.erase"].with_user(self.user_manager).create(
            {"partner_ids": [(6, 0, self.partners[0].ids)], "blacklist": False}
        ).action_erase()
        touchpoint = self.planned[0]
        self.assertEqual(touchpoint.partner_id.name, "Anonymised contact")
        self.assertFalse(touchpoint.note)
        self.assertFalse(touchpoint.outcome["next_step"])
        self.assertEqual(touchpoint.state, "done", "the totals keep it")

    def test_touchpoint_form_opens_the_wizard(self):
        action = self.planned[2].action_record_outcome()
        wizard = self.env["campaign.touchpoint.record"].with_context(**action["context"]).create({})
        self.assertEqual(
            (wizard.campaign_id, wizard.action_id, wizard.partner_id, wizard.type_id),
            (self.campaign, self.action, self.partners[2], self.call_type),
        )

    def test_touchpoint_without_type_gets_the_action_type(self):
        # touchpoints inserted in SQL by the engine may lack the type: recording sets it
        self.planned[0].type_id = False
        wizard = self._wizard(touchpoint_id=self.planned[0].id, schedule_follow_up=False)
        self.assertEqual(wizard.type_id, self.call_type)
        wizard.outcome = {"answer": "no"}
        wizard.action_record()
        self.assertEqual(self.planned[0].type_id, self.call_type)
        self.assertEqual(self.planned[0].outcome["answer"], "No")

    def test_bad_input(self):
        other = self._campaign("OtherCalls")
        with self.assertRaises(UserError):
            self._wizard(campaign_id=other.id, partner_id=self.partners[0].id).action_record()
        links = self.env["campaign.action"].create(
            {"campaign_id": self.campaign.id, "name": "Links", "channel": "weblink"}
        )
        with self.assertRaises(UserError):
            self._wizard(action_id=links.id, partner_id=self.partners[0].id).action_record()
        with self.assertRaises(UserError):
            self.action.touchpoint_type_id = False
        visit_type = self.env["campaign.touchpoint.type"].create({"name": "Visit"})
        fresh = self.env["campaign.action"].create({"campaign_id": self.campaign.id, "name": "Visits"})
        fresh.touchpoint_type_id = visit_type
        self.assertEqual(fresh.touchpoint_type_id, visit_type, "free to change before any contact is reached")

    def test_only_managers_configure_types(self):
        with self.assertRaises(AccessError):
            self.env["campaign.touchpoint.type"].with_user(self.user_marketing).create({"name": "Mine"})
        self.assertEqual(
            self.env["campaign.touchpoint.type"].with_user(self.user_marketing).search([("name", "=", "Phone call")]),
            self.call_type,
        )
        self.env["campaign.touchpoint.type"].with_user(self.user_manager).create({"name": "Fair visit"})
        self.assertEqual(self.call_type.action_count, 1)


@tagged("post_install", "-at_install")
class TestTouchpointTypesTour(TourCase):
    """A user opens a planned call, records its outcome; a manager sees the type's fields."""

    def setUp(self):
        super().setUp()
        self.call_type = self.env["campaign.touchpoint.type"].create(
            {"name": "Phone call", "outcome_definition": CALL_FIELDS}
        )
        campaign = self.env["campaign.campaign"].create({"name": "TourCalls"})
        action = self.env["campaign.action"].create(
            {"campaign_id": campaign.id, "name": "Call", "channel": "task", "touchpoint_type_id": self.call_type.id}
        )
        partner = self.env["res.partner"].create({"name": "Tour contact", "email": "tour.contact@example.com"})
        self.touchpoint = self.env["campaign.touchpoint"].create({"action_id": action.id, "partner_id": partner.id})

    def test_record_outcome_tour(self):
        self.start_tour(
            f"/odoo/action-campaign_manager.campaign_touchpoint_action/{self.touchpoint.id}",
            "campaign_record_outcome_tour",
            login="admin",
        )
        self.assertEqual(self.touchpoint.state, "done")
        self.assertEqual(self.touchpoint.note, "Keen on the season passes")
        outcome = self.touchpoint.with_context(property_selection_get_key=True).outcome
        self.assertEqual(
            (outcome["answer"], outcome["next_step"], outcome["amount"]), ("yes", "Send the contract", 1500.0)
        )

    def test_type_form_tour(self):
        self.start_tour(
            f"/odoo/action-campaign_manager.campaign_touchpoint_type_action/{self.call_type.id}",
            "campaign_touchpoint_type_tour",
            login="admin",
        )
