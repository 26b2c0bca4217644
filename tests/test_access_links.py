from collections import defaultdict
from datetime import timedelta

from odoo import Command, fields
from odoo.addons.campaign_manager.models.campaign_access_mixin import ADDON, LINK_TYPES
from odoo.tests import tagged

from .access_common import AccessHttpCase, fingerprint
from .common import RpcError

# Records of Odoo that belong to one campaign although every user may read them: its UTM campaign,
# analytic account and project, the UTM sources of its actions and mailings.
CAMPAIGN_OWNED_MODELS = {"utm.campaign", "utm.source", "account.analytic.account", "project.project"}
# Another user's personal campaign, the other company's campaigns (user A's reach: c1_company, c1_a).
FOREIGN = ("c1_b", "c2_c", "c2_company")
# How a refused link is answered: an access error (the checks), or the clear error of a rule of the
# model itself that refuses first (a campaign that reached contacts keeps its company).
ACCEPTED_ERRORS = ("odoo.exceptions.AccessError", "odoo.exceptions.UserError", "odoo.exceptions.ValidationError")


@tagged("post_install", "-at_install")
class TestAccessLinks(AccessHttpCase):
    """Every relational field of every model of the addon that users may write (and those of the
    Odoo models it extends, that it adds or whose meaning it changes), found by introspection: a
    plain campaign user tries, over JSON-RPC (/json/2 for writes, the web client's call_kw for
    creates), to point it at a record of another user's personal campaign and at a record of the
    other company, on their own record and on a new one. Every attempt is refused with an access
    error and nothing changes. A field added later without protection makes this test fail."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.user_a = cls.users["user_a"]
        for key in ("c1_a", "c1_b", "c2_c"):
            cls.campaigns[key].action_create_project()
        own = cls.samples["c1_a"]
        campaign_a = own["campaign.campaign"]
        cls.employee_a = env["hr.employee"].create({"name": "Employee A", "user_id": cls.user_a.id})
        cls.product = env["product.product"].create({"name": "Taxi", "type": "service", "can_be_expensed": True})
        start = fields.Datetime.now() + timedelta(days=7)
        cls.own = {
            **{model: record for model, record in own.items() if model != "web_action"},
            "campaign.touchpoint.type": cls.fixtures["campaign.touchpoint.type"][0][0],
            "campaign.kpi.choice": next(
                record for record, key in cls.fixtures["campaign.kpi.choice"] if key == ("owner", cls.user_a)
            ),
            "campaign.webhook.field": env["campaign.webhook.field"].search([], limit=1),
            "project.task": env["project.task"].create({"name": "Mine", "project_id": campaign_a.project_id.id}),
            "calendar.event": env["calendar.event"].create(
                {
                    "name": "Webinar",
                    "start": start,
                    "stop": start + timedelta(hours=1),
                    "user_id": cls.user_a.id,
                    "campaign_run_id": own["campaign.action.run"].id,
                }
            ),
            "hr.expense": env["hr.expense"].create(
                {
                    "name": "Taxi",
                    "employee_id": cls.employee_a.id,
                    "product_id": cls.product.id,
                    "total_amount_currency": 20,
                    "campaign_id": campaign_a.id,
                }
            ),
            "res.partner": cls.partners[0],
            "link.tracker": own["campaign.weblink"].link_tracker_id,
            "res.company": cls.user_a.company_id,
            "campaign.pressure.cap": env["campaign.pressure.cap"].create(
                {"company_id": cls.user_a.company_id.id, "limit": 3, "period": "week"}
            ),
        }
        cls.own.update(cls._own_wizards())
        # a lead of the other user's campaign (a reply to their page)
        cls.samples["c1_b"]["campaign.touchpoint"].lead_id = env["crm.lead"].create({"name": "Their reply"})
        cls.foreign = cls._foreign_records()

    @classmethod
    def _own_wizards(cls):
        """A wizard of each kind, opened by user A on their own campaign."""
        own = cls.samples["c1_a"]
        Env = cls.env(user=cls.user_a)
        campaign = own["campaign.campaign"]
        launch = Env["campaign.campaign.launch"].create({"campaign_id": campaign.id})
        order = Env["campaign.campaign.order"].create({"name": "Mine"})
        journey_test = Env["campaign.journey.test"].create({"campaign_id": campaign.id})
        return {
            "campaign.campaign.calculate": Env["campaign.campaign.calculate"].create({"campaign_id": campaign.id}),
            "campaign.campaign.duplicate": Env["campaign.campaign.duplicate"].create(
                {"campaign_id": campaign.id, "name": "MineAgain"}
            ),
            "campaign.action.duplicate": Env["campaign.action.duplicate"].create(
                {"action_ids": own["campaign.action"].ids, "campaign_ids": campaign.ids}
            ),
            "campaign.campaign.launch": launch,
            "campaign.campaign.launch.line": launch.line_ids[:1],
            "campaign.campaign.order": order,
            "campaign.campaign.order.line": Env["campaign.campaign.order.line"].create(
                {"wizard_id": order.id, "action_id": own["campaign.action"].id}
            ),
            "campaign.campaign.expense": Env["campaign.campaign.expense"].create({"campaign_id": campaign.id}),
            "campaign.kpi.choose": Env["campaign.kpi.choose"].create({}),
            "campaign.touchpoint.record": Env["campaign.touchpoint.record"].create(
                {"touchpoint_id": own["campaign.touchpoint"].id}
            ),
            "campaign.journey.test": journey_test,
            "campaign.journey.test.line": Env["campaign.journey.test.line"].create(
                {"test_id": journey_test.id, "action_id": own["campaign.action"].id, "result": "shown"}
            ),
            # the erasure is the managers': user A cannot even open one
            "campaign.contact.erase": cls.env(user=cls.users["manager"])["campaign.contact.erase"].create(
                {"partner_ids": cls.partners.ids}
            ),
        }

    @classmethod
    def _foreign_records(cls):
        """{model: ids} of records of another user's personal campaign or of the other company: those
        of the fixtures and what they link to, that user A may not read, or that belong to such a
        campaign (CAMPAIGN_OWNED_MODELS)."""
        found = defaultdict(set)
        for model, records in cls.fixtures.items():
            for record, grant in records:
                if grant in [("campaign", key) for key in FOREIGN]:
                    found[model].add(record.id)
                    for name, field in record._fields.items():
                        if field.type == "many2one" and field.store and record[name]:
                            found[field.comodel_name].add(record[name].id)
        for key in FOREIGN:
            campaign = cls.campaigns[key]
            for related in (campaign.project_id, campaign.analytic_account_id, campaign.utm_campaign_id):
                if related:
                    found[related._name].add(related.id)
        found["res.company"].add(cls.company_2.id)
        found["res.users"].add(cls.users["user_c"].id)
        found["res.partner"].add(cls._partners(1, prefix="other company", company_id=cls.company_2.id).id)
        result = {}
        for model, ids in found.items():
            records = cls.env[model].browse(sorted(ids))
            readable = records.with_user(cls.user_a)._filtered_access("read")
            kept = records - readable if model not in CAMPAIGN_OWNED_MODELS else records
            if kept:
                result[model] = kept.ids
        return result

    # ------------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------------
    def _guarded_models(self):
        mixin = self.env.registry["campaign.access.mixin"]
        return sorted(
            name for name in self.env.registry if not self.env[name]._abstract and isinstance(self.env[name], mixin)
        )

    def _create_values(self, model):
        """Values of a new record of ``model`` that user A may create (their own campaign)."""
        own = self.samples["c1_a"]
        values = {
            "campaign.campaign": {"name": "LinkNew", "scope": "personal"},
            "campaign.target": {"campaign_id": own["campaign.campaign"].id, "name": "New", "source": "manual"},
            "campaign.action": {"campaign_id": own["campaign.campaign"].id, "name": "New", "channel": "email"},
            "campaign.action.variant": {"action_id": own["campaign.action"].id},
            "campaign.action.run": {"run_number": 99},
            "campaign.touchpoint": {
                "action_id": own["campaign.action"].id,
                "partner_id": self.partners[0].id,
                "run_number": -50,
            },
            "campaign.weblink": {"action_id": own["web_action"].id, "name": "New", "url": "https://example.com/new"},
            "campaign.calendar.item": {"name": "New", "kind": "reminder"},
            "campaign.trigger": {"campaign_id": own["campaign.campaign"].id, "trigger_type": "webhook"},
            "campaign.enrolment": {"cause": "webhook"},
            "campaign.touchpoint.type": {"name": "New"},
            "campaign.kpi.choice": {"metric": "roi"},
            "campaign.webhook.field": {},
            "mailing.mailing": {"subject": "New", "mailing_model_id": self.partner_model.id},
            "mailing.trace": {"mass_mailing_id": self.plain_mailing.id, "model": "res.partner", "res_id": 1},
            "project.task": {"name": "New", "project_id": own["campaign.campaign"].project_id.id},
            "calendar.event": {"name": "New", "start": "2030-01-01 10:00:00", "stop": "2030-01-01 11:00:00"},
            "hr.expense": {
                "name": "New",
                "employee_id": self.employee_a.id,
                "product_id": self.product.id,
                "total_amount_currency": 5,
            },
            "res.partner": {"name": "New"},
            "res.company": {"name": "New Company"},
            "campaign.pressure.cap": {"limit": 2, "period": "day"},
            "link.tracker": {"url": "https://example.com/new", "title": "New"},
            "campaign.campaign.calculate": {"campaign_id": own["campaign.campaign"].id},
            "campaign.campaign.duplicate": {"campaign_id": own["campaign.campaign"].id, "name": "Again"},
            "campaign.action.duplicate": {
                "action_ids": [Command.set(own["campaign.action"].ids)],
                "campaign_ids": [Command.set(own["campaign.campaign"].ids)],
            },
            "campaign.campaign.launch": {"campaign_id": own["campaign.campaign"].id},
            "campaign.campaign.launch.line": {"wizard_id": self.own["campaign.campaign.launch"].id},
            "campaign.campaign.order": {"name": "Mine"},
            "campaign.campaign.order.line": {
                "wizard_id": self.own["campaign.campaign.order"].id,
                "action_id": own["campaign.action"].id,
            },
            "campaign.contact.erase": {},
            "campaign.campaign.expense": {"campaign_id": own["campaign.campaign"].id},
            "campaign.kpi.choose": {},
            "campaign.touchpoint.record": {"touchpoint_id": own["campaign.touchpoint"].id},
            "campaign.journey.test": {"campaign_id": own["campaign.campaign"].id},
            "campaign.journey.test.line": {
                "test_id": self.own["campaign.journey.test"].id,
                "action_id": own["campaign.action"].id,
                "result": "shown",
            },
        }
        return dict(values[model])

    def _targets(self, model, field):
        """The ids ``field`` is tried with: records out of user A's reach; for the engine's links, any."""
        if field.type == "many2one_reference":
            return self.foreign["mailing.trace"][:1]  # whatever the model of the reference
        ids = self.foreign.get(field.comodel_name, [])
        if not ids:
            # no record of the fixtures: any that user A may not read (another user's, another company's)
            Comodel = self.env[field.comodel_name].with_context(active_test=False)
            records = Comodel.search([], limit=1000)
            if Comodel.with_user(self.user_a).has_access("read"):
                records -= records.with_user(self.user_a)._filtered_access("read")
            ids = records.ids
        if not ids and self.env[model]._campaign_link_rules()[field.name] == "engine":
            # any record but the current one: the engine's links cannot be changed at all
            current = self.own[model][field.name].ids
            Comodel = self.env[field.comodel_name].with_context(active_test=False)
            ids = Comodel.search([("id", "not in", current)], limit=1).ids
        return ids[:2]

    @staticmethod
    def _values(field, record_id):
        if field.type in ("many2one", "many2one_reference"):
            return [record_id]
        if field.type == "many2many":
            return [[Command.set([record_id])], [Command.link(record_id)]]
        return [[Command.link(record_id)]]

    def _tables(self, models):
        tables = set()
        for model in models:
            Model = self.env[model]
            tables.add(Model._table)
            for field in Model._fields.values():
                if field.type == "many2many" and field.store and field.relation:
                    tables.add(field.relation)
        return tuple(sorted(tables))

    # ------------------------------------------------------------------
    # TESTS
    # ------------------------------------------------------------------
    def test_every_model_with_links_is_guarded(self):
        """Every model (of the addon or extended by it) with a relational field of the addon
        checks what users write in it: it holds the mixin, and the fields have a rule."""
        mixin = self.env.registry["campaign.access.mixin"]
        unguarded = []
        for name in self.env.registry:
            Model = self.env[name]
            if Model._abstract or not Model._auto:
                continue  # mixins, and the SQL views (read-only for everybody)
            # (fields of a parent model through _inherits are written, and checked, there)
            links = [
                f for f in Model._fields.values() if ADDON in f._modules and f.type in LINK_TYPES and not f.inherited
            ]
            if links and not isinstance(Model, mixin):
                unguarded.append(name)
        self.assertFalse(unguarded, "models with links of the addon that do not check them")
        for name in self._guarded_models():
            with self.subTest(model=name):
                self.assertIn(name, self.own, "a record of user A to try the links on")

    def test_links_out_of_reach_refused_over_rpc(self):
        user = self.user_a
        attempts, failures, unprotected = 0, [], []
        for model in self._guarded_models():
            rules = self.env[model]._campaign_link_rules()
            tables = self._tables([model, *{self.env[model]._fields[name].comodel_name for name in rules} - {None}])
            reference = fingerprint(self.env, tables, messages=False)
            record = self.own[model]
            for name in sorted(rules):
                field = self.env[model]._fields[name]
                if field.type not in LINK_TYPES:  # a technical field of the engine's (the model of a reference)
                    values = ["campaign.touchpoint", "res.partner"]
                else:
                    ids = self._targets(model, field)
                    if not ids:
                        unprotected.append((model, name, field.comodel_name))
                        continue
                    values = [value for record_id in ids for value in self._values(field, record_id)]
                for value in values:
                    attempts += 2
                    with self._case(failures, model=model, field=name, value=value, how="write"):
                        with self.assertRaises(RpcError) as caught:
                            self.json2(user, model, "write", ids=record.ids, vals={name: value})
                        self.assertIn(caught.exception.name, ACCEPTED_ERRORS, caught.exception.message)
                    with self._case(failures, model=model, field=name, value=value, how="create"):
                        with self.assertRaises(RpcError) as caught:
                            self.call_kw(user, model, "create", [{**self._create_values(model), name: value}])
                        self.assertIn(caught.exception.name, ACCEPTED_ERRORS, caught.exception.message)
            with self._case(failures, model=model, check="nothing changed"):
                self.env.invalidate_all()
                self.assertEqual(fingerprint(self.env, tables, messages=False), reference)
        self.assertFalse(failures, "\n".join(failures))
        self.assertGreater(attempts, 300)
        # a field without any record out of user A's reach to try: every record of what it links to
        # is one every user may read (nothing to protect), and it is not one of a campaign's own
        for model, name, comodel in unprotected:
            with self.subTest(model=model, field=name):
                self.assertNotIn(comodel, CAMPAIGN_OWNED_MODELS)
                Comodel = self.env[comodel].with_context(active_test=False)
                if not Comodel.search_count([]):
                    continue  # nothing to point at
                self.assertEqual(
                    Comodel.with_user(user).search_count([]),
                    Comodel.search_count([]),
                    f"{model}.{name}: records of {comodel} out of reach exist; add one to the fixtures",
                )

    def test_manager_and_owner_still_link_what_they_reach(self):
        """The checks refuse what is out of reach only: user A moves an action between their own
        campaigns; a manager moves it into another user's personal campaign of the company."""
        action = self.samples["c1_a"]["campaign.action"]
        own_company = self.samples["c1_company"]["campaign.campaign"]
        self.json2(self.user_a, "campaign.action", "write", ids=action.ids, vals={"campaign_id": own_company.id})
        self.assertEqual(action.campaign_id, own_company)
        personal_b = self.samples["c1_b"]["campaign.campaign"]
        self.json2(
            self.users["manager"], "campaign.action", "write", ids=action.ids, vals={"campaign_id": personal_b.id}
        )
        self.assertEqual(action.campaign_id, personal_b)


@tagged("post_install", "-at_install")
class TestAccessLinkHoles(AccessHttpCase):
    """The holes found over JSON-RPC by a plain campaign user, each refused: moving one's own
    records into another user's personal campaign (and the "one task per contact" action that then
    named that campaign's contacts), linking another campaign's UTM campaign, UTM source, content
    mailing, run mailing or event and mailing trace (renaming one's own record then renamed the
    other's UTM records, and reading back showed the other's email subject)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_a = cls.users["user_a"]
        cls.mine = cls.samples["c1_a"]
        cls.theirs = cls.samples["c1_b"]
        cls.their_campaign = cls.theirs["campaign.campaign"]
        cls.their_action = cls.theirs["campaign.action"]

    def _refused(self, model, record, values):
        with self.assertRaises(RpcError) as caught:
            self.json2(self.user_a, model, "write", ids=record.ids, vals=values)
        self.assertEqual(caught.exception.name, "odoo.exceptions.AccessError")
        return caught.exception.message

    def test_records_not_moved_into_another_personal_campaign(self):
        their = self.their_campaign
        attempts = [
            ("campaign.action", self.mine["campaign.action"], {"campaign_id": their.id}),
            ("campaign.target", self.mine["campaign.target"], {"campaign_id": their.id}),
            ("campaign.calendar.item", self.mine["campaign.calendar.item"], {"campaign_id": their.id}),
            ("campaign.action.run", self.mine["campaign.action.run"], {"action_id": self.their_action.id}),
            ("campaign.touchpoint", self.mine["campaign.touchpoint"], {"action_id": self.their_action.id}),
            ("campaign.weblink", self.mine["campaign.weblink"], {"action_id": self.theirs["web_action"].id}),
            ("campaign.action.variant", self.mine["campaign.action.variant"], {"action_id": self.their_action.id}),
        ]
        for model, record, values in attempts:
            with self.subTest(model=model):
                message = self._refused(model, record, values)
                if model != "campaign.action.run":  # a run's action is the engine's
                    self.assertIn("records move only between campaigns you may change", message)
                record.invalidate_recordset()
                self.assertNotEqual(record.campaign_id, their)

    def test_one_task_per_contact_not_moved_into_another_campaign(self):
        """A "one task per contact" action assigned to oneself, moved into someone else's active
        personal campaign, created tasks naming all of that campaign's contacts."""
        their = self.their_campaign
        their.action_ids.write({"state": "cancelled"})
        their.write({"state": "ready"})
        their.write({"state": "active"})
        theirs_contacts = self._partners(2, prefix="bruno own contact")
        self._manual_target(their, theirs_contacts, name="Bruno's")
        their.action_create_project()
        task_action_id = self.json2(
            self.user_a,
            "campaign.action",
            "create",
            vals_list=[
                {
                    "campaign_id": self.mine["campaign.campaign"].id,
                    "name": "Call {contact}",
                    "channel": "task",
                    "task_mode": "contact",
                    "task_user_ids": [Command.set(self.user_a.ids)],
                }
            ],
        )[0]
        action = self.env["campaign.action"].browse(task_action_id)
        self._refused("campaign.action", action, {"campaign_id": their.id, "state": "scheduled"})
        self._refused("campaign.action", action, {"campaign_id": their.id})
        self.env["campaign.engine"]._cron_process()
        tasks = self.env["project.task"].search([("partner_id", "in", theirs_contacts.ids)])
        self.assertFalse(tasks, "no task names the other campaign's contacts")
        self.assertEqual(action.campaign_id, self.mine["campaign.campaign"])

    def test_utm_records_of_another_campaign_refused(self):
        their_action = self.theirs["campaign.action"]
        their_source, their_utm = their_action.source_id, self.their_campaign.utm_campaign_id
        source_name, utm_title = their_source.name, their_utm.title
        self.assertTrue(their_source and their_utm)
        self._refused("campaign.campaign", self.mine["campaign.campaign"], {"utm_campaign_id": their_utm.id})
        self._refused("campaign.action", self.mine["campaign.action"], {"source_id": their_source.id})
        self._refused("campaign.weblink", self.mine["campaign.weblink"], {"source_id": their_source.id})
        plain = self.json2(
            self.user_a,
            "mailing.mailing",
            "create",
            vals_list=[{"subject": "My newsletter", "mailing_model_id": self.partner_model.id}],
        )
        self._refused("mailing.mailing", self.env["mailing.mailing"].browse(plain), {"source_id": their_source.id})
        self._refused("mailing.mailing", self.env["mailing.mailing"].browse(plain), {"campaign_id": their_utm.id})
        # renaming one's own records renames one's own UTM records only
        mine = self.mine["campaign.campaign"]
        self.json2(self.user_a, "campaign.campaign", "write", ids=mine.ids, vals={"name": "RenamedA"})
        self.json2(
            self.user_a, "campaign.action", "write", ids=self.mine["campaign.action"].ids, vals={"name": "Renamed"}
        )
        self.env.invalidate_all()
        self.assertEqual((their_source.name, their_utm.title), (source_name, utm_title))
        self.assertEqual(self.mine["campaign.action"].source_id.name, "RenamedA - Renamed")
        self.assertEqual(self.mine["campaign.campaign"].utm_campaign_id.title, "RenamedA")

    def test_mailings_events_and_traces_of_another_campaign_refused(self):
        their_mailing, their_trace = self.theirs["mailing.mailing"], self.theirs["mailing.trace"]
        event = self.env["calendar.event"].create(
            {
                "name": "Their webinar",
                "start": "2030-01-01 10:00:00",
                "stop": "2030-01-01 11:00:00",
                "campaign_run_id": self.theirs["campaign.action.run"].id,
            }
        )
        self._refused("campaign.action", self.mine["campaign.action"], {"mailing_id": their_mailing.id})
        self._refused("campaign.action.variant", self.mine["campaign.action.variant"], {"mailing_id": their_mailing.id})
        self._refused("campaign.action.run", self.mine["campaign.action.run"], {"mailing_id": their_mailing.id})
        self._refused("campaign.action.run", self.mine["campaign.action.run"], {"event_id": event.id})
        self._refused("campaign.touchpoint", self.mine["campaign.touchpoint"], {"mailing_trace_id": their_trace.id})
        self._refused("campaign.touchpoint", self.mine["campaign.touchpoint"], {"mailing_id": their_mailing.id})
        # reading back the action's email subject shows one's own, never the other's
        [read] = self.json2(
            self.user_a, "campaign.action", "read", ids=self.mine["campaign.action"].ids, fields=["email_subject"]
        )
        self.assertNotEqual(read["email_subject"], their_mailing.subject)
