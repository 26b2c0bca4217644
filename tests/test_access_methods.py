import re
from contextlib import closing

from odoo.exceptions import AccessError, UserError
from odoo.service.model import get_public_method
from odoo.tests import tagged

from .access_common import AccessCase, AccessHttpCase
from .common import RpcError

ADDON = "odoo.addons.campaign_manager."
# create and write are proved model by model in test_access_matrix
ORM_METHODS = {"create", "write"}
# Odoo's own public methods that the addon extends without changing who may call them: Odoo's checks
# apply (the mail queue is the administrators'; the delivery workers leave it the other emails; a
# confirmed order enrols its customer in journeys, whoever confirms it).
ODOO_METHODS = {("mail.mail", "process_email_queue"), ("sale.order", "action_confirm")}
# Methods anybody may call on any record: they build a window action or an address from the ids
# given and read nothing, so they answer the same for a record out of the caller's reach as for a
# record that does not exist; opening what they return is then up to the rules.
NAVIGATION = {
    "campaign.campaign": {
        "action_choose_kpis",
        "action_open_duplicate",
        "action_view_actions",
        "action_view_enrolments",
        "action_view_late_actions",
        "action_view_runs",
        "action_view_targets",
        "action_view_touchpoints",
    },
    "campaign.action": {
        "action_open_duplicate",
        "action_view_runs",
        "action_view_send_time",
        "action_view_touchpoints",
        "action_view_weblinks",
    },
    "campaign.action.run": {"action_view_tasks", "action_view_touchpoints"},
    "campaign.touchpoint": {"action_record_outcome"},
    "campaign.touchpoint.type": {"action_view_actions"},
    "campaign.weblink": {"action_download_qr_code"},
    "res.partner": {"action_view_campaign_touchpoints", "mail_allowed_qweb_expressions"},
}
# On which campaigns' records each user calls every method: campaigns out of their reach, and for
# the accountants one they may read but not change.
CALL_ON = {
    "user_a": ["c1_b", "c2_company"],
    "user_b": ["c1_a", "c2_c"],
    "manager": ["c2_c"],
    "user_c": ["c1_a"],
    "accountant": ["c1_company", "c1_b"],
    "readonly": ["c1_company", "c2_c"],
    "salesman": ["c1_company"],
    "portal": ["c1_a"],
    "public": ["c2_company"],
}
# The wizards, as their owner (user A, on their personal campaign; the manager for the erasure)
# opens them.
WIZARD_OWNER = {"campaign.contact.erase": "manager"}


class MethodTablesMixin:
    """What the method tests share, in process and over RPC: the public methods of the addon, the
    records each user calls them on, the wizards as their owners open them."""

    def _public_methods(self, model):
        """The RPC-callable methods defined by the addon on ``model``."""
        cls = type(self.env[model])
        names = {
            name
            for klass in cls.__mro__
            if klass.__module__.startswith(ADDON)
            for name, member in vars(klass).items()
            if callable(member) and not name.startswith("_")
        }
        public = set()
        for name in names - ORM_METHODS:
            if (model, name) in ODOO_METHODS:
                continue
            try:
                get_public_method(self.env[model], name)
            except AccessError:
                continue
            public.add(name)
        return public

    def _addon_models(self):
        models = {}
        for model in self.env.registry:
            methods = self._public_methods(model)
            if methods:
                models[model] = methods
        return models

    def _targets(self, model, login):
        """Records of ``model`` ``login`` calls the methods on, with whether they may read them."""
        if model == "res.partner":
            return [(self.partners[0], self.partners[0].with_user(self.users[login]).has_access("read"))]
        if model == "campaign.touchpoint.type":
            records = [(record, key) for record, key in self.fixtures[model] if key[0] == "company"]
        elif model in self.fixtures:
            records = []
            for key in CALL_ON[login]:
                rows = [record for record, grant in self.fixtures[model] if grant == ("campaign", key)]
                records += [(rows[0], ("campaign", key))]
        else:
            return []
        perms = self._perms(model, login)
        return [(record, "r" in perms and self._grants(login, key)) for record, key in records]

    def _blind(self, value, record_id, key=None):
        """``value`` with ``record_id`` masked where actions carry the ids they were built from."""
        if isinstance(value, dict):
            return {k: self._blind(v, record_id, k) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._blind(v, record_id, key) for v in value]
        if key and (key in ("domain", "res_id") or key.startswith(("default_", "active_"))) and value == record_id:
            return "ID"
        if key == "url" and isinstance(value, str):
            return re.sub(rf"(?<![0-9]){record_id}(?![0-9])", "ID", value)
        return value

    def _wizards(self):
        """Each wizard as its owner opens it: {model: record}."""
        user_a = self.users["user_a"]
        samples = self.samples["c1_a"]
        campaign = samples["campaign.campaign"].with_user(user_a)
        launch = self.env["campaign.campaign.launch"].with_user(user_a).create({"campaign_id": campaign.id})
        order = self.env["campaign.campaign.order"].browse(campaign.action_order()["res_id"]).with_user(user_a)
        order._refresh_lines()
        journey_test = self.env["campaign.journey.test"].with_user(user_a).create({"campaign_id": campaign.id})
        return {
            "campaign.campaign.calculate": self.env["campaign.campaign.calculate"]
            .with_user(user_a)
            .create({"campaign_id": campaign.id}),
            "campaign.campaign.duplicate": self.env["campaign.campaign.duplicate"]
            .with_user(user_a)
            .create({"campaign_id": campaign.id, "name": "MineAgain"}),
            "campaign.action.duplicate": self.env["campaign.action.duplicate"]
            .with_user(user_a)
            .create({"action_ids": samples["campaign.action"].ids, "campaign_ids": campaign.ids}),
            "campaign.campaign.launch": launch,
            "campaign.campaign.launch.line": launch.line_ids[:1],
            "campaign.campaign.order": order,
            "campaign.campaign.order.line": order.line_ids[:1],
            "campaign.contact.erase": self.env["campaign.contact.erase"]
            .with_user(self.users["manager"])
            .create({"partner_ids": self.partners.ids}),
            "campaign.campaign.expense": self.env["campaign.campaign.expense"]
            .with_user(user_a)
            .create({"campaign_id": campaign.id}),
            "campaign.kpi.choose": self.env["campaign.kpi.choose"].with_user(user_a).create({}),
            "campaign.touchpoint.record": self.env["campaign.touchpoint.record"]
            .with_user(user_a)
            .create({"touchpoint_id": samples["campaign.touchpoint"].id}),
            "campaign.journey.test": journey_test,
            "campaign.journey.test.line": self.env["campaign.journey.test.line"]
            .with_user(user_a)
            .create({"test_id": journey_test.id, "action_id": samples["campaign.action"].id, "result": "shown"}),
        }

    def _out_of_reach_attempts(self):
        """Wizards created by user A and user C on what is out of their reach: [(login, foreign key,
        model, values)]."""
        attackers = {"user_a": ("c1_a", ["c1_b", "c2_company"]), "user_c": ("c2_c", ["c1_a"])}
        # a wizard of somebody else's, on a campaign the attackers' own company may see
        managers_launch = (
            self.env["campaign.campaign.launch"]
            .with_user(self.users["manager"])
            .create({"campaign_id": self.samples["c1_company"]["campaign.campaign"].id})
        )
        result = []
        for login, (own_key, foreign_keys) in attackers.items():
            user = self.users[login]
            own = self.samples[own_key]
            launch = (
                self.env["campaign.campaign.launch"]
                .with_user(user)
                .create({"campaign_id": own["campaign.campaign"].id})
            )
            order = self.env["campaign.campaign.order"].with_user(user).create({"name": "Mine"})
            for foreign_key in foreign_keys:
                foreign = self.samples[foreign_key]
                campaign, action = foreign["campaign.campaign"], foreign["campaign.action"]
                attempts = [
                    ("campaign.campaign.calculate", {"campaign_id": campaign.id}),
                    ("campaign.campaign.calculate", {"campaign_id": campaign.id, "channel": "sms"}),
                    (
                        "campaign.campaign.calculate",
                        {"campaign_id": own["campaign.campaign"].id, "action_id": action.id},
                    ),
                    ("campaign.campaign.duplicate", {"campaign_id": campaign.id, "name": "Stolen"}),
                    ("campaign.campaign.expense", {"campaign_id": campaign.id}),
                    (
                        "campaign.action.duplicate",
                        {"action_ids": action.ids, "campaign_ids": own["campaign.campaign"].ids},
                    ),
                    (
                        "campaign.action.duplicate",
                        {"action_ids": own["campaign.action"].ids, "campaign_ids": campaign.ids},
                    ),
                    ("campaign.campaign.launch", {"campaign_id": campaign.id}),
                    ("campaign.campaign.launch.line", {"wizard_id": launch.id, "action_id": action.id}),
                    ("campaign.campaign.order", {"campaign_id": campaign.id, "step": "contacts"}),
                    ("campaign.campaign.order.line", {"wizard_id": order.id, "action_id": action.id}),
                    ("campaign.touchpoint.record", {"touchpoint_id": foreign["campaign.touchpoint"].id}),
                    (
                        "campaign.touchpoint.record",
                        {"campaign_id": campaign.id, "action_id": action.id, "partner_id": self.partners[0].id},
                    ),
                    ("campaign.campaign.launch.line", {"wizard_id": managers_launch.id}),
                    ("campaign.journey.test", {"campaign_id": campaign.id}),
                    (
                        "campaign.journey.test",
                        {"campaign_id": own["campaign.campaign"].id, "next_action_id": action.id},
                    ),
                    ("campaign.campaign.order", {"name": "Mine", "launch_id": managers_launch.id}),
                ]
                result += [(login, foreign_key, model, values) for model, values in attempts]
        return result


@tagged("post_install", "-at_install")
class TestAccessMethods(MethodTablesMixin, AccessCase):
    """Every public method of the addon's models and wizards (those RPC can call), called by every
    kind of user on records out of their reach: refused (AccessError or UserError), or, for the
    methods listed in NAVIGATION, an answer that says nothing about the record; in every case
    nothing changes. Accountants may call the methods that only read, on what they may read."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.reference = None

    # ------------------------------------------------------------------
    # MODELS
    # ------------------------------------------------------------------
    def test_every_model_with_public_methods_is_exercised(self):
        models = self._addon_models()
        self.assertIn("action_erase", models["campaign.contact.erase"], "the introspection finds the wizards")
        for model in models:
            with self.subTest(model=model):
                if self.env[model].is_transient():
                    self.assertIn(model, self._wizards(), "each wizard is opened by its owner below")
                else:
                    self.assertTrue(self._targets(model, "public"), "records to call the methods on")
        for model, methods in NAVIGATION.items():
            self.assertLessEqual(methods, models[model], f"{model}: navigation methods exist")

    def test_methods_refused_out_of_reach(self):
        self.reference = self._fingerprint()
        answered, navigation, failures = set(), set(), []
        for model, methods in sorted(self._addon_models().items()):
            if self.env[model].is_transient():
                continue
            for login, user in self.users.items():
                for record, readable in self._targets(model, login):
                    if readable and self.roles[login] in ("user", "manager") and model != "res.partner":
                        continue  # their own work
                    for method in sorted(methods):
                        with self._case(failures, model=model, method=method, user=login, record=record.id):
                            if self._call(record.with_user(user), method, readable, model):
                                answered.add((model, method, login))
                                if not readable:
                                    navigation.add((model, method))
        self.assertFalse(failures, "\n".join(failures))
        # the list is exact: each method listed does answer out of reach
        self.assertEqual(navigation, {(model, method) for model, methods in NAVIGATION.items() for method in methods})
        # what accountants may do on the campaigns they read: open what they may read
        self.assertIn(("campaign.campaign", "action_view_expenses", "accountant"), answered)
        self.assertIn(("campaign.target", "action_view_recipients", "readonly"), answered)
        self.assertNotIn(("campaign.campaign", "action_stop", "accountant"), answered)

    def _call(self, record, method, readable, model):
        """Call ``method``; return whether it answered (rather than refused)."""
        try:
            with closing(self.env.cr.savepoint()):  # always rolled back, after the digest below
                self.env.invalidate_all()  # as in a request: nothing read beforehand
                result = getattr(record, method)()
                changed = self._fingerprint() != self.reference
        except UserError:  # AccessError, MissingError and ValidationError included
            return False
        self.assertFalse(changed, f"{record.env.user.login}: {model}.{method} on {record} changes nothing")
        if not readable:
            self.assertIn(method, NAVIGATION.get(model, ()), f"{model}.{method} answers a user out of reach")
            ghost = record.browse(record.id + 10**7)
            self.assertEqual(
                self._blind(result, record.id),
                self._blind(getattr(ghost, method)(), ghost.id),
                f"{model}.{method} answers as for a record that does not exist",
            )
        return True

    # ------------------------------------------------------------------
    # WIZARDS
    # ------------------------------------------------------------------
    def test_wizards_belong_to_who_opened_them(self):
        """A wizard holds what its owner was doing (contacts picked, a file of contacts, figures of a
        personal campaign, a note on a contact): nobody else reads it nor runs it."""
        wizards = self._wizards()
        self.reference = self._fingerprint()
        models = self._addon_models()
        failures = []
        for model, wizard in wizards.items():
            self.assertTrue(wizard, model)
            owner = WIZARD_OWNER.get(model, "user_a")
            for login, user in self.users.items():
                if login == owner:
                    continue
                with self._case(failures, model=model, user=login):
                    self.env.invalidate_all()
                    with self.assertRaises(AccessError):
                        wizard.with_user(user).read([])
                    for method in sorted(models.get(model, ())):
                        self.env.invalidate_all()
                        with self.assertRaises(UserError, msg=method):
                            getattr(wizard.with_user(user), method)()
        self.assertFalse(failures, "\n".join(failures))
        self.assertEqual(self._fingerprint(), self.reference)

    def test_wizards_refuse_what_is_out_of_reach(self):
        """A wizard opened on a campaign, an action, a touchpoint or another wizard out of the user's
        reach is refused when created: it would show their names, figures and contacts."""
        attempts = self._out_of_reach_attempts()
        self.reference = self._fingerprint()
        failures = []
        for login, foreign_key, model, values in attempts:
            with self._case(failures, user=login, campaign=foreign_key, model=model, values=values):
                self._attempt(self.users[login], model, values)
        self.assertFalse(failures, "\n".join(failures))
        self.assertEqual(self._fingerprint(), self.reference)

    def _attempt(self, user, model, values):
        self.env.invalidate_all()  # as in a request: nothing read beforehand
        with self.assertRaises(AccessError):
            self.env[model].with_user(user).create(values)


# How the server refuses a call: a user error of any kind (access, missing record, validation),
# or, for a visitor without credentials, no session at all.
REFUSALS = {
    "odoo.exceptions.AccessError",
    "odoo.exceptions.UserError",
    "odoo.exceptions.MissingError",
    "odoo.exceptions.ValidationError",
    "odoo.exceptions.AccessDenied",
    "odoo.http.SessionExpiredException",
    "werkzeug.exceptions.Unauthorized",
}


@tagged("post_install", "-at_install")
class TestAccessMethodsRpc(MethodTablesMixin, AccessHttpCase):
    """TestAccessMethods through the clients the users really use (the same tables and fixtures):
    every public method of the addon called over /json/2 and the web client's call_kw by every kind
    of user on records out of their reach is refused, or answers as for a record that does not exist
    (NAVIGATION); nothing changes; the wizards are their owner's only."""

    def test_methods_refused_out_of_reach_json2(self):
        self._methods_out_of_reach("json2")

    def test_methods_refused_out_of_reach_call_kw(self):
        self._methods_out_of_reach("call_kw")

    def _methods_out_of_reach(self, client):
        answered, navigation, failures = set(), set(), []
        models = {
            model: methods for model, methods in self._addon_models().items() if not self.env[model].is_transient()
        }
        for login, user in self.users.items():  # user by user: one session each
            for model, methods in sorted(models.items()):
                reference = self._fingerprint()
                for record, readable in self._targets(model, login):
                    if readable and self.roles[login] in ("user", "manager") and model != "res.partner":
                        continue  # their own work
                    for method in sorted(methods):
                        with self._case(
                            failures, client=client, model=model, method=method, user=login, record=record.id
                        ):
                            if self._call_rpc(client, user, record, method, readable):
                                answered.add((model, method, login))
                                if not readable:
                                    navigation.add((model, method))
                with self._case(failures, client=client, model=model, user=login, check="nothing changed"):
                    self.env.invalidate_all()
                    self.assertEqual(self._fingerprint(), reference)
        self.assertFalse(failures, "\n".join(failures))
        self.assertEqual(navigation, {(model, method) for model, methods in NAVIGATION.items() for method in methods})
        self.assertIn(("campaign.campaign", "action_view_expenses", "accountant"), answered)
        self.assertIn(("campaign.target", "action_view_recipients", "readonly"), answered)
        self.assertNotIn(("campaign.campaign", "action_stop", "accountant"), answered)

    def _call_rpc(self, client, user, record, method, readable):
        """Call ``method`` on ``record`` as ``user``; return whether it answered (rather than refused)."""
        model = record._name

        def call(records):
            if getattr(getattr(type(records), method), "_api_model", False):
                return self.rpc(client, user, model, method)  # a method of the model: no ids
            return self.rpc(client, user, model, method, ids=records.ids)

        try:
            result = call(record)
        except RpcError as error:
            self.assertIn(error.name, REFUSALS, error.message)
            return False
        if not readable:
            self.assertIn(method, NAVIGATION.get(model, ()), f"{model}.{method} answers a user out of reach")
            ghost = record.browse(record.id + 10**7)
            self.assertEqual(
                self._blind(result, record.id),
                self._blind(call(ghost), ghost.id),
                f"{model}.{method} answers as for a record that does not exist",
            )
        return True

    def test_wizards_belong_to_who_opened_them(self):
        wizards = self._wizards()
        reference = self._fingerprint()
        models = self._addon_models()
        failures = []
        for login, user in self.users.items():
            for model, wizard in wizards.items():
                if login == WIZARD_OWNER.get(model, "user_a"):
                    continue
                client = ("json2", "call_kw")[list(self.users).index(login) % 2]
                with self._case(failures, model=model, user=login):
                    with self.assertRaises(RpcError) as caught:
                        self.rpc(client, user, model, "read", ids=wizard.ids, fields=["display_name"])
                    self.assertIn(caught.exception.name, REFUSALS)
                    for method in sorted(models.get(model, ())):
                        with self.assertRaises(RpcError, msg=method) as caught:
                            self.rpc(client, user, model, method, ids=wizard.ids)
                        self.assertIn(caught.exception.name, REFUSALS, method)
        self.assertFalse(failures, "\n".join(failures))
        self.env.invalidate_all()
        self.assertEqual(self._fingerprint(), reference)

    def test_wizards_refuse_what_is_out_of_reach(self):
        attempts = self._out_of_reach_attempts()
        reference = self._fingerprint()
        failures = []
        for index, (login, foreign_key, model, values) in enumerate(attempts):
            client = ("json2", "call_kw")[index % 2]
            with self._case(failures, client=client, user=login, campaign=foreign_key, model=model, values=values):
                with self.assertRaises(RpcError) as caught:
                    if client == "json2":
                        self.rpc(client, self.users[login], model, "create", vals_list=[values])
                    else:
                        self.rpc(client, self.users[login], model, "create", args=[values])
                self.assertEqual(caught.exception.name, "odoo.exceptions.AccessError", caught.exception.message)
        self.assertFalse(failures, "\n".join(failures))
        self.env.invalidate_all()
        self.assertEqual(self._fingerprint(), reference)
