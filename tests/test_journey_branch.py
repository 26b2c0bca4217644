from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..const import BRANCHES
from .common import CampaignHttpCase, RpcError
from .journey_common import JourneyCase

T0 = datetime(2026, 3, 2, 9, 0, 0)


@tagged("post_install", "-at_install")
class TestJourneyBranch(JourneyCase):
    """Branches (issue 14): a yes/no split of a step's contacts on their data, each branch taking
    exactly its contacts, in a journey and in a batch campaign; the wait for a click with a
    time-out made of two follow-ups; the splits refused at save."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.france = cls.env.ref("base.fr")
        cls.belgium = cls.env.ref("base.be")
        cls.in_france = str([("country_id", "=", cls.france.id)])

    def _at(self, delta):
        return freeze_time(T0 + delta)

    def _followup(self, name, **values):
        """An email of the welcome journey following its first step, ``delay`` days after it."""
        return self._email_action(
            self.campaign, name=name, schedule_type="after", parent_id=self.step_1.id, delay_unit="days", **values
        )

    def _partners_of(self, action):
        return self._touchpoints(action).partner_id

    def test_each_branch_reached_by_exactly_its_contacts(self):
        self.step_1.split_domain = self.in_france
        self.step_2.branch = "yes"
        abroad = self._followup("Abroad", delay=2, branch="no")
        with self._at(timedelta(0)):
            self._launch()
            for name in ("fr1", "fr2", "be1", "nowhere"):
                self._subscribe(name)
            (self._partner("fr1") | self._partner("fr2")).country_id = self.france
            self._partner("be1").country_id = self.belgium
        with self._at(timedelta(minutes=5)):
            self._process()
        # a contact who moves before the branch is due takes the branch of where they live then
        with self._at(timedelta(days=1)):
            self._partner("fr2").country_id = self.belgium
        for delta in (timedelta(days=2, minutes=10), timedelta(days=2, minutes=20), timedelta(days=4)):
            with self._at(delta):
                self._process()
        fr1, fr2, be1, nowhere = (self._partner(name) for name in ("fr1", "fr2", "be1", "nowhere"))
        self.assertEqual(self._partners_of(self.step_1), fr1 | fr2 | be1 | nowhere)
        self.assertEqual(self._partners_of(self.step_2), fr1)
        self.assertEqual(self._partners_of(abroad), fr2 | be1 | nowhere, "no country: not matching the split")
        steps = {enrolment.partner_id: enrolment.step_action_id for enrolment in self._enrolments()}
        self.assertEqual(steps, {fr1: self.step_2, fr2: abroad, be1: abroad, nowhere: abroad})
        # one run of each branch, none for the passes where nobody of the branch was due
        self.assertEqual((len(self.step_2.run_ids), len(abroad.run_ids)), (1, 1))
        self.assertFalse(self.step_2.date_next_run, "nobody left at the previous step")

    def test_clicked_within_three_days_else_the_other_branch(self):
        # A as soon as they click; B three days after the welcome for those who did not click by then
        self.step_2.write({"followup_filter": "clicked", "delay": 0})
        reminder = self._followup("Reminder", delay=3, followup_filter="not_clicked")
        with self._at(timedelta(0)):
            self._launch()
            for name in ("clicker", "sleeper", "late"):
                self._subscribe(name)
            self._process()
            traces = self._touchpoints(self.step_1).mailing_trace_id
            traces.set_sent()

        def click(name):
            traces.filtered(lambda t: t.res_id == self._partner(name).id).set_clicked()

        with self._at(timedelta(days=1)):
            click("clicker")
        with self._at(timedelta(days=1, minutes=5)):
            self._process()
            self.assertEqual(self._partners_of(self.step_2), self._partner("clicker"))
            self.assertFalse(self._touchpoints(reminder), "the time-out is not over")
        with self._at(timedelta(days=3, minutes=5)):
            self._process()
        with self._at(timedelta(days=4)):
            click("late")
        with self._at(timedelta(days=4, minutes=5)):
            self._process()
        self.assertEqual(self._partners_of(self.step_2), self._partner("clicker"), "a click after the time-out: B only")
        self.assertEqual(self._partners_of(reminder), self._partner("sleeper") | self._partner("late"))

    def test_overlapping_followups_take_each_contact_once(self):
        # two follow-ups that could both take a contact: the first to run does, the other never
        other = self._followup("Other", delay=2)
        with self._at(timedelta(0)):
            self._launch()
            self._subscribe("anna")
            self._subscribe("bob")
        for delta in (timedelta(minutes=5), timedelta(days=2, minutes=10), timedelta(days=3)):
            with self._at(delta):
                self._process()
        touchpoints = self._touchpoints(self.step_2) | self._touchpoints(other)
        self.assertEqual(sorted(touchpoints.partner_id.mapped("name")), ["anna", "bob"])
        self.assertEqual(len(touchpoints), 2, "one of the two follow-ups per contact")

    def test_batch_followup_branches(self):
        french = self._partners(2, prefix="bfr")
        belgian = self._partners(2, prefix="bbe", country_id=self.belgium.id)
        campaign = self._campaign("BatchBranches", date_start=date(2026, 3, 1))
        self._manual_target(campaign, french | belgian)
        mail = self._email_action(campaign, name="News", split_domain=self.in_france)
        values = {"schedule_type": "after", "parent_id": mail.id, "delay": 1, "delay_unit": "hours"}
        # the yes branch among the contacts the news reached, the no branch among the action's targets
        yes = self._email_action(campaign, name="Local", followup_filter="reached", branch="yes", **values)
        no = self._email_action(campaign, name="Abroad", branch="no", **values)
        with freeze_time(T0):
            self._launch(campaign)
            self._process()
            mail.run_ids.touchpoint_ids.mailing_trace_id.set_sent()
        with freeze_time(T0 + timedelta(hours=2)):
            self._process()
        self.assertEqual(self._partners_of(mail), french | belgian)
        self.assertEqual(self._partners_of(yes), french)
        self.assertEqual(self._partners_of(no), belgian)
        self.assertEqual((yes.run_ids.total_count, no.run_ids.total_count), (2, 2))

    def test_test_mode_takes_the_branch_of_the_test_contact(self):
        self.step_1.split_domain = self.in_france
        self.step_2.branch = "yes"
        abroad = self._followup("Abroad", branch="no")
        for country, expected in ((self.france, self.step_2), (self.belgium, abroad)):
            with self.subTest(country=country.code):
                partner = self.env["res.partner"].create({"name": f"Tester {country.code}", "country_id": country.id})
                test = self.env["campaign.journey.test"].create(
                    {"campaign_id": self.campaign.id, "partner_id": partner.id, "current_action_id": self.step_1.id}
                )
                self.assertEqual(test.candidate_action_ids, expected)
                self.assertIn(dict(BRANCHES)[expected.branch], test.candidates_summary)

    def test_duplicated_branches(self):
        self.step_1.split_domain = self.in_france
        self.step_2.branch = "yes"
        other = self._campaign("OtherBranches")
        copies = (self.step_1 | self.step_2)._copy_to_campaign(other)
        first, second = copies.sorted(lambda a: a.parent_id.id)
        self.assertEqual((first.split_domain, second.branch, second.parent_id), (self.in_france, "yes", first))
        # without the action it followed, a branch has no split to take: it reaches every contact
        alone = self.step_2._copy_to_campaign(self._campaign("AloneBranch"))
        self.assertEqual((alone.parent_id, alone.schedule_type, alone.branch), (alone.browse(), "now", "all"))

    def test_bad_splits_are_refused_and_nothing_is_lost(self):
        self.step_1.split_domain = self.in_france
        self.step_2.branch = "yes"
        for domain, expected in (
            ("[('country_id', '=', ", "The split of the action “Welcome” is not valid"),
            ("[('no_such_field', '=', 1)]", "no_such_field"),
            ("[('id', '=', 'abc')]", "The split of the action “Welcome” is not valid"),
        ):
            with self.subTest(domain=domain), self.assertRaises(ValidationError) as caught:
                self.step_1.split_domain = domain
                self.step_1.flush_recordset()
            self.assertIn(expected, str(caught.exception))
        self.step_1.invalidate_recordset()
        self.assertEqual(self.step_1.split_domain, self.in_france, "the split saved before is kept")
        with self.assertRaisesRegex(ValidationError, "keep its split"):
            self.step_1.split_domain = "[]"
            self.step_1.flush_recordset()
        with self.assertRaisesRegex(ValidationError, "only take a branch of a split when it follows"):
            self._email_action(self.campaign, name="Lost", schedule_type="entry", branch="no")


@tagged("post_install", "-at_install")
class TestJourneyBranchRpc(CampaignHttpCase):
    """A plain campaign user builds a journey that branches on the country over JSON-RPC, with the
    errors they are shown; each branch then reaches exactly its contacts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_create_nolog=True))
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(["campaign_manager"], ["fr_FR"], overwrite=True)
        cls.template = cls.env["mail.template"].create(
            {"name": "Branch", "model_id": cls.env["ir.model"]._get_id("res.partner"), "subject": "Hi"}
        )
        cls.newsletter = cls.env["mailing.list"].create({"name": "Branch newsletter"})
        cls.france = cls.env.ref("base.fr")

    def _action(self, **values):
        return self.json2(
            self.user_marketing,
            "campaign.action",
            "create",
            vals_list=[{"channel": "email", "mail_template_id": self.template.id, **values}],
        )[0]

    def _refused(self, context=None, **values):
        with self.assertRaises(RpcError) as caught:
            self.json2(
                self.user_marketing,
                "campaign.action",
                "create",
                vals_list=[{"channel": "email", "mail_template_id": self.template.id, **values}],
                context=context,
            )
        self.assertEqual(caught.exception.name, "odoo.exceptions.ValidationError")
        return caught.exception.message

    def test_campaign_user_branches_a_journey_on_the_country(self):
        user = self.user_marketing
        [campaign_id] = self.json2(user, "campaign.campaign", "create", vals_list=[{"name": "RpcBranches"}])
        self.json2(
            user,
            "campaign.trigger",
            "create",
            vals_list=[
                {"campaign_id": campaign_id, "trigger_type": "mailing_list", "mailing_list_id": self.newsletter.id}
            ],
        )
        entry = {"campaign_id": campaign_id, "schedule_type": "entry", "delay": 0}
        # a split that is malformed, or names a field contacts do not have: refused, saying why
        message = self._refused(name="Welcome", split_domain="[('country_id', '=', ", **entry)
        self.assertTrue(message.startswith("The split of the action “Welcome” is not valid: "), message)
        message = self._refused(
            name="Welcome", split_domain="[('no_such_field', '=', 1)]", context={"lang": "fr_FR"}, **entry
        )
        self.assertIn("L'embranchement de l'action « Welcome » n'est pas valide", message)
        self.assertIn("no_such_field", message)
        welcome = self._action(name="Welcome", split_domain=str([("country_id", "=", self.france.id)]), **entry)
        after = {"campaign_id": campaign_id, "schedule_type": "after", "parent_id": welcome, "delay": 0}
        local = self._action(name="Local", branch="yes", **after)
        abroad = self._action(name="Abroad", branch="no", **after)
        # a branch of an action without a split
        message = self._refused(name="Orphan", branch="yes", **{**after, "parent_id": local})
        self.assertEqual(
            message,
            "The action “Orphan” takes a branch of the split of “Local”, which has no split: set one on “Local”, "
            "or let the action reach every contact.",
        )
        # a malformed split written over a good one: refused, the good one kept
        with self.assertRaises(RpcError):
            self.json2(user, "campaign.action", "write", ids=[welcome], vals={"split_domain": "[(1, 2"})
        [read] = self.json2(user, "campaign.action", "read", ids=[welcome], fields=["split_domain"])
        self.assertEqual(read["split_domain"], str([("country_id", "=", self.france.id)]))
        self.assertEqual(
            self.env["campaign.action"].search_count([("campaign_id", "=", campaign_id)]), 3, "nothing else saved"
        )
        [campaign] = self.json2(user, "campaign.campaign", "read", ids=[campaign_id], fields=["journey_tree"])
        nodes = {node["name"]: node for node in campaign["journey_tree"]["nodes"]}
        self.assertEqual(nodes["Welcome"]["split"], "Country = France")
        self.assertEqual((nodes["Local"]["branch"], nodes["Abroad"]["branch"]), ("yes", "no"))

        [launch] = self.json2(user, "campaign.campaign.launch", "create", vals_list=[{"campaign_id": campaign_id}])
        self.json2(user, "campaign.campaign.launch", "action_launch", ids=[launch])
        # subscribers of the newsletter, the country they gave copied to the contact made for them
        countries = {"jeanne": self.france.id, "pieter": self.env.ref("base.nl").id, "ana": False}
        contacts = self.env["mailing.contact"].create(
            [{"name": name, "email": f"{name}@example.com", "country_id": c} for name, c in countries.items()]
        )
        self.env["mailing.subscription"].create([{"contact_id": c.id, "list_id": self.newsletter.id} for c in contacts])
        partners = {p.name: p for p in self.env["res.partner"].search([("email", "in", contacts.mapped("email"))])}
        self.assertEqual({name: p.country_id.id for name, p in partners.items()}, countries)
        for _index in range(3):
            self.env["campaign.engine"]._cron_process()
        reached = {
            action: self.env["campaign.touchpoint"].search([("action_id", "=", action)]).partner_id
            for action in (welcome, local, abroad)
        }
        self.assertEqual(reached[welcome], partners["jeanne"] | partners["pieter"] | partners["ana"])
        self.assertEqual(reached[local], partners["jeanne"])
        self.assertEqual(reached[abroad], partners["pieter"] | partners["ana"])
