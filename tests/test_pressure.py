import threading
import time
from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import SUPERUSER_ID, api
from odoo import fields as odoo_fields
from odoo.addons.campaign_manager.models.mailing_mailing import MailingMailing
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools import SQL

from .common import CampaignCase, CampaignHttpCase, CommittedWorkersCase, RpcError

MONDAY = datetime(2027, 1, 4, 9, 0)


class PressureMixin:
    def _launch(self, campaign):
        Form(self.env["campaign.campaign.launch"].with_context(default_campaign_id=campaign.id)).save().action_launch()

    def _sms_action(self, campaign, name="Text", **values):
        return self._email_action(campaign, name=name, channel="sms", sms_body="Hi {{ object.name }}", **values)

    def _states(self, action):
        """{(state, exclusion reason, held until): contacts} of the action's touchpoints."""
        result = {}
        for touchpoint in action.run_ids.touchpoint_ids:
            key = (touchpoint.state, touchpoint.exclusion_reason or False, touchpoint.date_not_before or False)
            result[key] = result.get(key, 0) + 1
        return result


@tagged("post_install", "-at_install")
class TestPressureCaps(PressureMixin, CampaignCase):
    """Caps across three campaigns and two channels over frozen time: 2 emails a week, 1 SMS a week
    and 3 messages a week in all; campaigns of priority 20, 10 and 5."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls._partners(10, prefix="pressed")
        caps = cls.env["campaign.pressure.cap"]
        cls.caps = caps.create(
            [
                {"channel": "email", "period": "week", "limit": 2},
                {"channel": "sms", "period": "week", "limit": 1},
                {"channel": False, "period": "week", "limit": 3},
            ]
        )
        cls.first = cls._campaign("PressureFirst", pressure_priority=20)
        cls.second = cls._campaign("PressureSecond", pressure_priority=10)
        cls.third = cls._campaign("PressureThird", pressure_priority=5)
        for campaign in (cls.first, cls.second, cls.third):
            cls._manual_target(campaign, cls.partners)

    def test_caps_exact_then_released(self):
        # created in the reverse order of the priorities: the runs are generated and dispatched
        # lowest priority first, so only the priorities can make the first campaign served first
        third_mail = self._email_action(self.third, name="Third mail")
        third_sms = self._sms_action(self.third, name="Third SMS", pressure_mode="exclude")
        second_mail = self._email_action(self.second, name="Second mail")
        first_sms = self._sms_action(self.first, name="First SMS")
        first_mail = self._email_action(self.first, name="First mail")
        engine = self.env["campaign.engine"]
        with freeze_time(MONDAY):
            for campaign in (self.third, self.second, self.first):
                self._launch(campaign)
            engine._cron_process()
        release = MONDAY + timedelta(days=7)
        self.assertEqual(self._states(first_mail), {("queued", False, False): 10})
        self.assertEqual(self._states(first_sms), {("queued", False, False): 10})
        self.assertEqual(self._states(second_mail), {("queued", False, False): 10}, "2nd email, 3rd message")
        # the third email would be the 3rd email and the 4th message: held a week; its SMS the 2nd
        self.assertEqual(self._states(third_mail), {("planned", False, release): 10})
        self.assertEqual(self._states(third_sms), {("excluded", "pressure", False): 10})
        self.assertEqual(third_sms.run_ids.excluded_count, 10)
        self.assertEqual(third_sms.run_ids.planned_count, 0)
        self.assertFalse(sum(third_sms.run_ids.touchpoint_ids.mapped("unit_cost")))
        # three days on, still held; Calculate shows them held (and excluded in exclude mode)
        with freeze_time(MONDAY + timedelta(days=3)):
            engine._cron_process()
            self.assertEqual(self._states(third_mail), {("planned", False, release): 10})
            later = self._email_action(self.second, name="Second reminder")
            wizard = self.env["campaign.campaign.calculate"].create(
                {"campaign_id": self.second.id, "action_id": later.id}
            )
            self.assertEqual((wizard.final, wizard.held_pressure, wizard.excluded_pressure), (10, 10, 0))
            later.pressure_mode = "exclude"
            wizard.action_calculate()
            self.assertEqual((wizard.final, wizard.held_pressure, wizard.excluded_pressure), (0, 0, 10))
            later.unlink()
        # a minute after the week, the messages of Monday leave the window: the emails go
        with freeze_time(release + timedelta(minutes=1)):
            engine._cron_process()
        self.assertEqual(self._states(third_mail), {("queued", False, release): 10})
        self.assertEqual(third_mail.run_ids.state, "done")

    def test_limit_and_channel_of_each_cap(self):
        """A cap of one channel leaves the others alone; an archived cap counts for nothing."""
        self.caps.filtered(lambda c: c.channel != "sms").action_archive()
        mails = [self._email_action(self.third, name=f"Mail {n}") for n in range(3)]
        texts = [self._sms_action(self.third, name=f"Text {n}") for n in range(2)]
        with freeze_time(MONDAY):
            self._launch(self.third)
            self.env["campaign.engine"]._cron_process()
        for mail in mails:
            self.assertEqual(self._states(mail), {("queued", False, False): 10})
        held = ("planned", False, MONDAY + timedelta(days=7))
        self.assertEqual(
            sorted(next(iter(self._states(text).items())) for text in texts),
            sorted([(held, 10), (("queued", False, False), 10)]),
            "the first SMS run sent, the second held a week",
        )

    def test_email_marketing_mailings_counted_when_set(self):
        """With the setting, Email Marketing's own mailings count: here a newsletter sent yesterday
        to 4 of the contacts, 3 as contacts and 1 as a mailing list subscriber (by address)."""
        self.caps.filtered(lambda c: c.channel == "email").limit = 1
        newsletter = self.env["mailing.mailing"].create(
            {"subject": "Newsletter", "mailing_model_id": self.env["ir.model"]._get_id("res.partner")}
        )
        subscriber = self.env["mailing.contact"].create({"name": "Sub", "email": self.partners[3].email})
        yesterday = MONDAY - timedelta(days=1)
        self.env["mailing.trace"].create(
            [
                {
                    "mass_mailing_id": newsletter.id,
                    "model": "res.partner",
                    "res_id": partner.id,
                    "email": partner.email,
                    "trace_status": "sent",
                    "sent_datetime": yesterday,
                }
                for partner in self.partners[:3]
            ]
            + [
                {
                    "mass_mailing_id": newsletter.id,
                    "model": "mailing.contact",
                    "res_id": subscriber.id,
                    "email": subscriber.email,
                    "trace_status": "open",
                    "sent_datetime": yesterday,
                },
                # a failed email was not received: not counted
                {
                    "mass_mailing_id": newsletter.id,
                    "model": "res.partner",
                    "res_id": self.partners[4].id,
                    "email": self.partners[4].email,
                    "trace_status": "error",
                    "sent_datetime": yesterday,
                },
            ]
        )
        action = self._email_action(self.second)
        with freeze_time(MONDAY):
            stats = action._audience_stats()
            self.assertEqual(stats["held"], 0, "not counted unless the administrator says so")
            self.company.campaign_pressure_count_mailings = True
            stats = action._audience_stats()
            self.assertEqual((stats["final"], stats["held"]), (10, 4))

    def test_bad_limit_refused(self):
        for limit in (0, -2):
            with self.subTest(limit=limit), self.assertRaisesRegex(ValidationError, "at least one message"):
                self.env["campaign.pressure.cap"].create({"channel": "email", "period": "day", "limit": limit})
        with self.assertRaisesRegex(ValidationError, "not 0"):
            self.caps[0].limit = 0

    def test_accountant_reads_and_changes_nothing(self):
        caps = self.env["campaign.pressure.cap"].with_user(self.user_accountant)
        self.assertEqual(caps.search([]), self.caps)
        self.assertTrue(self.caps.with_user(self.user_accountant).mapped("name"))
        with self.assertRaises(AccessError):
            caps.create({"channel": "email", "period": "day", "limit": 1})
        with self.assertRaises(AccessError):
            self.caps[0].with_user(self.user_accountant).limit = 5
        with self.assertRaises(AccessError):
            self.caps[0].with_user(self.user_accountant).unlink()
        with self.assertRaises(AccessError):
            self.first.with_user(self.user_accountant).pressure_priority = 1
        # a campaign user reads the caps of the company but does not set them
        with self.assertRaises(AccessError):
            self.env["campaign.pressure.cap"].with_user(self.user_marketing).create({"period": "day", "limit": 1})


@tagged("post_install", "-at_install")
class TestPressureOverRpc(PressureMixin, CampaignHttpCase):
    """Over JSON-RPC, as a real client: a manager sets a cap, a plain campaign user sees in
    Calculate how many contacts it holds; a cap of 0 or below is refused in the user's language."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(["campaign_manager"], ["fr_FR"], overwrite=True)
        partners = cls.env["res.partner"].create(
            [{"name": f"rpc pressed {n}", "email": f"rpc.pressed.{n}@example.com"} for n in range(6)]
        )
        other = cls.env["campaign.campaign"].create({"name": "RpcPressureEarlier"})
        cls.env["campaign.target"].create(
            {"campaign_id": other.id, "name": "Some", "source": "manual", "partner_ids": [(6, 0, partners[:4].ids)]}
        )
        template = cls.env["mail.template"].create(
            {"name": "Rpc pressure", "model_id": cls.env["ir.model"]._get_id("res.partner"), "subject": "Hi"}
        )
        cls.env["campaign.action"].create(
            {"campaign_id": other.id, "name": "Earlier", "channel": "email", "mail_template_id": template.id}
        )
        cls.template = template
        cls.partners = partners

    def test_manager_sets_cap_user_calculates(self):
        # the fixture, as the campaign job: 4 of the 6 contacts received an email of another campaign
        self._launch(self.env["campaign.campaign"].search([("name", "=", "RpcPressureEarlier")]))
        self.env["campaign.engine"]._cron_process()
        cap_id = self.json2(
            self.user_manager, "campaign.pressure.cap", "create", vals_list=[{"channel": "email", "limit": 1}]
        )[0]
        with self.assertRaises(RpcError) as caught:
            self.json2(self.user_marketing, "campaign.pressure.cap", "create", vals_list=[{"limit": 5}])
        self.assertEqual(caught.exception.name, "odoo.exceptions.AccessError")
        # the user builds the campaign and calculates, through the web client
        user = self.user_marketing
        campaign_id = self.call_kw(user, "campaign.campaign", "create", [{"name": "RpcPressure"}])
        self.call_kw(
            user,
            "campaign.target",
            "create",
            [
                {
                    "campaign_id": campaign_id,
                    "name": "All",
                    "source": "manual",
                    "partner_ids": [(6, 0, self.partners.ids)],
                }
            ],
        )
        action_id = self.call_kw(
            user,
            "campaign.action",
            "create",
            [{"campaign_id": campaign_id, "name": "Now", "channel": "email", "mail_template_id": self.template.id}],
        )
        names = ["final", "held_pressure", "excluded_pressure"]
        wizard_id = self.call_kw(
            user, "campaign.campaign.calculate", "create", [{"campaign_id": campaign_id, "action_id": action_id}]
        )
        figures = self.call_kw(user, "campaign.campaign.calculate", "read", [wizard_id, names])[0]
        self.assertEqual([figures[name] for name in names], [6, 4, 0])
        self.call_kw(user, "campaign.action", "write", [[action_id], {"pressure_mode": "exclude"}])
        self.call_kw(user, "campaign.campaign.calculate", "action_calculate", [[wizard_id]])
        figures = self.call_kw(user, "campaign.campaign.calculate", "read", [wizard_id, names])[0]
        self.assertEqual([figures[name] for name in names], [2, 0, 4])
        # the manager archives the cap: nobody held any more
        self.json2(self.user_manager, "campaign.pressure.cap", "action_archive", ids=[cap_id])
        self.call_kw(user, "campaign.campaign.calculate", "action_calculate", [[wizard_id]])
        figures = self.call_kw(user, "campaign.campaign.calculate", "read", [wizard_id, names])[0]
        self.assertEqual([figures[name] for name in names], [6, 0, 0])
        # the accountant reads the caps and changes none
        self.assertEqual(
            self.json2(self.user_accountant, "campaign.pressure.cap", "search_count", domain=[("active", "=", False)]),
            1,
        )
        with self.assertRaises(RpcError) as caught:
            self.json2(self.user_accountant, "campaign.pressure.cap", "write", ids=[cap_id], vals={"limit": 9})
        self.assertEqual(caught.exception.name, "odoo.exceptions.AccessError")

    def test_bad_limit_refused(self):
        expected = {"en_US": "at least one message per period", "fr_FR": "au moins un message par période"}
        for limit in (0, -3):
            for lang, message in expected.items():
                with self.subTest(limit=limit, lang=lang), self.assertRaises(RpcError) as caught:
                    self.json2(
                        self.user_manager,
                        "campaign.pressure.cap",
                        "create",
                        vals_list=[{"channel": "sms", "limit": limit}],
                        context={"lang": lang},
                    )
                self.assertEqual(caught.exception.name, "odoo.exceptions.ValidationError")
                self.assertIn(message, caught.exception.message)
        self.assertFalse(self.env["campaign.pressure.cap"].search([]))


PARTNERS = 24
BATCH = 3


@tagged("post_install", "-at_install")
class TestPressureWorkers(CommittedWorkersCase):
    """Two workers (two connections, real commits) dispatch the runs of three campaigns at once,
    each starting with another run, under a cap of 1 email a week: two campaigns of the same
    priority race for every contact, and every contact gets exactly 1 email, from one or the other;
    the third campaign, of a lower priority, is held for everyone. Without the caps' lock both
    workers count the same contact at 0 and mail it twice (seen: 24 of 24 contacts, twice).
    The fixture is committed and removed afterwards."""

    def setUp(self):
        super().setUp()
        context = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}
        with self._real_cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, context)
            partners = env["res.partner"].create(
                [{"name": f"pressure worker {i}", "email": f"pressure.worker.{i}@example.com"} for i in range(PARTNERS)]
            )
            template = env["mail.template"].create(
                {"name": "Pressure workers", "model_id": env["ir.model"]._get_id("res.partner"), "subject": "Hi"}
            )
            cap = env["campaign.pressure.cap"].create({"channel": "email", "period": "week", "limit": 1})
            campaigns = env["campaign.campaign"]
            for priority in (10, 11, 5):
                name = f"PressureWorkers{priority}"
                action = self._launched_email_campaign(
                    env, name, partners, template, pressure_priority=min(priority, 10)
                )
                campaigns |= action.campaign_id
            self.start = odoo_fields.Datetime.now()
            runs = env["campaign.engine"]._start_due_runs()
            for run in runs:
                env["mailing.mailing"]._campaign_run_mailing(run)
            self.ids = {
                "partners": partners.ids,
                "template": template.id,
                "cap": cap.id,
                "campaigns": campaigns.ids,
                "runs": {int(run.campaign_id.name[len("PressureWorkers") :]): run.id for run in runs},
                "mailings": runs.mailing_id.ids,
                "utm_campaigns": campaigns.utm_campaign_id.ids,
                "utm_sources": campaigns.action_ids.source_id.ids,
            }
        self.addCleanup(self._remove_fixture)

    def _remove_fixture(self):
        ids = self.ids
        self._execute_committed([SQL("DELETE FROM campaign_pressure_cap WHERE id = %s", ids["cap"])])
        self._remove_email_campaigns(
            ids["campaigns"],
            ids["mailings"],
            ids["utm_sources"],
            ids["utm_campaigns"],
            [ids["template"]],
            ids["partners"],
        )

    def test_two_workers_never_overshoot(self):
        original = MailingMailing._campaign_send
        workers_of_batch = []
        runs = self.ids["runs"]

        def slow_send(mailing_model, run, touchpoints, variant=None):
            workers_of_batch.append(threading.current_thread().name)
            time.sleep(0.05)  # long enough for the other worker to claim meanwhile
            return original(mailing_model, run, touchpoints, variant=variant)

        def work(env):
            # each worker starts with another of the two runs of the same priority
            order = (10, 11, 5) if threading.current_thread().name == "worker-1" else (11, 10, 5)
            engine = env["campaign.engine"]
            for key in order:
                engine._dispatch(env["campaign.action.run"].browse(runs[key]), BATCH, time.monotonic() + 120)

        with patch.object(MailingMailing, "_campaign_send", slow_send), self.committed_workers(work, count=2):
            pass
        self.assertEqual(set(workers_of_batch), {"worker-1", "worker-2"}, "both workers carried batches")
        with self._real_cursor() as cr:
            cr.execute(
                SQL(
                    """SELECT partner_id, COUNT(*) FROM campaign_touchpoint
                        WHERE campaign_id IN %s AND state = 'queued' GROUP BY partner_id""",
                    tuple(self.ids["campaigns"]),
                )
            )
            self.assertEqual(dict(cr.fetchall()), dict.fromkeys(self.ids["partners"], 1), "1 email each, no more")
            cr.execute(
                SQL(
                    """SELECT state, date_not_before IS NOT NULL, COUNT(*) FROM campaign_touchpoint
                        WHERE run_id = %s GROUP BY 1, 2""",
                    runs[5],
                )
            )
            self.assertEqual(cr.fetchall(), [("planned", True, PARTNERS)], "the lower priority held for everyone")
            cr.execute(
                SQL(
                    """SELECT state, date_not_before IS NOT NULL, COUNT(*) FROM campaign_touchpoint
                        WHERE run_id IN %s GROUP BY 1, 2 ORDER BY 1""",
                    (runs[10], runs[11]),
                )
            )
            self.assertEqual(cr.fetchall(), [("planned", True, PARTNERS), ("queued", False, PARTNERS)])
            cr.execute(SQL("SELECT DISTINCT date_not_before FROM campaign_touchpoint WHERE run_id = %s", runs[5]))
            releases = [row[0] for row in cr.fetchall()]
            week, now = timedelta(days=7), odoo_fields.Datetime.now()
            self.assertTrue(all(self.start + week <= release <= now + week for release in releases), releases)


@tagged("post_install", "-at_install")
class TestPressureCapsList(CampaignHttpCase):
    """The caps' list in a browser, as a marketing manager: the all-channel cap says so, in English
    and in French (its cell was blank)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["campaign.pressure.cap"].create(
            [
                {"channel": "email", "period": "week", "limit": 2},
                {"channel": False, "period": "week", "limit": 3},
            ]
        )

    def _list_url(self):
        action = self.env.ref("campaign_manager.campaign_pressure_cap_action")
        return f"/odoo/action-{action.id}"

    def test_all_channel_cap_named(self):
        self.start_tour(self._list_url(), "campaign_pressure_caps_list_tour", login=self.user_manager.login)

    def test_all_channel_cap_named_in_french(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["base", "campaign_manager"], ["fr_FR"], overwrite=True)
        self.user_manager.lang = "fr_FR"
        self.start_tour(self._list_url(), "campaign_pressure_caps_list_fr_tour", login=self.user_manager.login)
