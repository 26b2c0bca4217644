import json
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo import SUPERUSER_ID, api, sql_db
from odoo.addons.base.models.ir_mail_server import IrMail_Server
from odoo.addons.campaign_manager.models.campaign_delivery import CampaignDelivery, DeliveryLedger
from odoo.addons.campaign_manager.models.campaign_engine import CampaignEngine, SavepointEachBatch
from odoo.modules.registry import DummyRLock, Registry
from odoo.tests import HttpCase, TransactionCase, get_db_name, new_test_user
from odoo.tools import SQL, mute_logger


@contextmanager
def delivering_in_test():
    """The delivery workers as they run in production, inside a test's transaction: each batch is a
    savepoint instead of a commit (a failure undoes the batch only, as a rollback would), the ledger
    writes on the test's cursor, and mails really go to the SMTP server the test set up (Odoo skips
    sending in tests). Tests that need real commits (several workers, killed workers) do not use it."""

    @contextmanager
    def batch(self):
        progress = {"processed": 0}
        with self.env.cr.savepoint():
            yield progress

    @contextmanager
    def ledger(self):
        yield DeliveryLedger(self.env.cr, lambda: None)

    with (
        patch.object(CampaignDelivery, "_delivery_batch", batch),
        patch.object(CampaignDelivery, "_delivery_ledger", ledger),
        patch.object(IrMail_Server, "_disable_send", return_value=False),
        mute_logger("odoo.addons.mail.models.mail_mail", "odoo.addons.base.models.ir_mail_server"),
    ):
        yield


def deliver_campaign_mails(env, **kwargs):
    """One call of a delivery worker's job (see campaign.delivery), in the test's transaction."""
    with delivering_in_test():
        env["campaign.delivery"]._cron_deliver(**kwargs)


def foreign_currency(env, company):
    """A currency other than the company's, active, worth 2.00 of it from 2024-01-01 and 1.25 from
    2024-03-01 (rates 0.5 and 0.8), for the figures of documents in another currency."""
    euro = env.ref("base.EUR")
    foreign = euro if company.currency_id != euro else env.ref("base.USD")
    foreign.active = True
    env["res.currency.rate"].search([("currency_id", "=", foreign.id)]).unlink()
    env["res.currency.rate"].create(
        [
            {"name": "2024-01-01", "rate": 0.5, "currency_id": foreign.id, "company_id": company.id},
            {"name": "2024-03-01", "rate": 0.8, "currency_id": foreign.id, "company_id": company.id},
        ]
    )
    return foreign


class WorkerKilled(BaseException):
    """Stands for the worker process being killed: not an Exception, nothing catches it."""


class EngineInTestMixin:
    """The campaign engine run inside the test's transaction: each of its batches ends with a
    savepoint instead of a commit (the only line where the tests' engine differs from
    production's). Test classes that need real commits (several workers, processes killed) do
    not use it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(patch.object(CampaignEngine, "_transactions", SavepointEachBatch))

    def assertWorkerKilled(self, owner, name, process, at=2, before=False):
        """Run ``process()`` while ``owner.name`` kills the worker at its ``at``-th call, once the
        original has done its work (before it with ``before``), and assert that the worker died
        there. Returns the positional arguments of each call. The caller then checks what the
        kill left and runs the job again.

        Not self.assertRaises: it would also roll back the batches committed before the kill."""
        original = getattr(owner, name)
        calls = []

        def die(*args, **kwargs):
            calls.append(args)
            if before and len(calls) == at:
                raise WorkerKilled()
            result = original(*args, **kwargs)
            if len(calls) == at and not before:
                raise WorkerKilled()
            return result

        killed = False
        with patch.object(owner, name, die):
            try:
                process()
            except WorkerKilled:
                killed = True
        self.assertTrue(killed, f"the worker was not killed at call {at} of {name}")
        return calls


class CommittedWorkersCase(TransactionCase):
    """Tests whose workers commit for real, as in production (several workers at once, a worker
    stopped in the middle): their fixtures are committed on connections of their own (other
    connections must see them) and removed afterwards; the engine keeps its production commits
    (no EngineInTestMixin here)."""

    def _real_cursor(self):
        """A connection of its own, committing for real: not the registry's cursor, which Odoo's
        test runner may point at the test's transaction."""
        return sql_db.db_connect(self.env.cr.dbname).cursor()

    def _execute_committed(self, statements):
        """Run ``statements`` (SQL) on a connection of their own, committed (fixture removal)."""
        with self._real_cursor() as cr:
            for statement in statements:
                cr.execute(statement)

    @staticmethod
    def _launched_email_campaign(env, name, partners, template, **values):
        """A campaign (``values``) with one target of ``partners`` and one email action of
        ``template``, launched now: returns the action."""
        campaign = env["campaign.campaign"].create({"name": name, **values})
        env["campaign.target"].create(
            {"campaign_id": campaign.id, "name": "All", "source": "manual", "partner_ids": [(6, 0, partners.ids)]}
        )
        action = env["campaign.action"].create(
            {"campaign_id": campaign.id, "name": "Mail", "channel": "email", "mail_template_id": template.id}
        )
        env["campaign.campaign.launch"].create({"campaign_id": campaign.id, "mode": "now"}).action_launch()
        return action

    def _remove_email_campaigns(self, campaigns, mailings, utm_sources, utm_campaigns, templates, partners):
        """Remove committed email campaigns (ids of each kind of record): their mails, traces,
        touchpoints, mailings, runs and actions, then the records made for them."""
        statements = (
            ("DELETE FROM mail_mail WHERE mailing_id IN %s", mailings),
            ("DELETE FROM mailing_trace WHERE mass_mailing_id IN %s", mailings),
            ("DELETE FROM campaign_touchpoint WHERE campaign_id IN %s", campaigns),
            ("UPDATE campaign_action_run SET mailing_id = NULL WHERE campaign_id IN %s", campaigns),
            (
                "DELETE FROM mailing_mailing WHERE campaign_action_id IN "
                "(SELECT id FROM campaign_action WHERE campaign_id IN %s)",
                campaigns,
            ),
            ("DELETE FROM campaign_action_run WHERE campaign_id IN %s", campaigns),
            ("DELETE FROM campaign_action WHERE campaign_id IN %s", campaigns),
            ("DELETE FROM campaign_campaign WHERE id IN %s", campaigns),
            ("DELETE FROM utm_source WHERE id IN %s", utm_sources),
            ("DELETE FROM utm_campaign WHERE id IN %s", utm_campaigns),
            ("DELETE FROM mail_template WHERE id IN %s", templates),
            ("DELETE FROM mail_message WHERE model = 'res.partner' AND res_id IN %s", partners),
            ("DELETE FROM res_partner WHERE id IN %s", partners),
        )
        self._execute_committed(SQL(query, tuple(param) or (0,)) for query, param in statements)

    @contextmanager
    def committed_workers(self, work, count=1, together=True, timeout=120):
        """Run ``work(env)`` in ``count`` threads named worker-1, worker-2..., each with a
        connection of its own committing for real (``together``: they start at the same moment).
        Yields the threads; on leaving the block, waits for them and asserts that none failed.

        Odoo's test runner holds the registries' lock while it runs the tests: the workers find
        the loaded registry without it (as they would in a server). Workers conflicting on the same
        rows is the point: PostgreSQL refuses one statement and the worker retries, which
        odoo.sql_db logs as a bad query; a real error of a worker fails the assertion below."""
        barrier = threading.Barrier(count) if together else None
        errors = []

        def worker():
            try:
                with self._real_cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    if barrier:
                        barrier.wait()
                    work(env)
            except Exception as error:  # reported by the assertion below
                errors.append(error)

        with patch.object(Registry, "_lock", DummyRLock()), mute_logger("odoo.sql_db"):
            threads = [threading.Thread(target=worker, name=f"worker-{n}") for n in range(1, count + 1)]
            for thread in threads:
                thread.start()
            try:
                yield threads
            finally:
                for thread in threads:
                    thread.join(timeout)
        self.assertFalse(errors, errors)
        self.assertFalse([thread.name for thread in threads if thread.is_alive()], "workers still running")


class CampaignCase(EngineInTestMixin, TransactionCase):
    """Shared fixtures: campaign users of two kinds, an accountant, and helpers that build contacts,
    campaigns and targets without demo data."""

    _phone_counter = 0

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(
            context=dict(cls.env.context, tracking_disable=True, mail_create_nolog=True, mail_notrack=True)
        )
        cls.company = cls.env.company
        cls.user_marketing = new_test_user(
            cls.env, login="cm_user", name="Camille Marketing", groups="campaign_manager.group_campaign_user"
        )
        cls.user_marketing_2 = new_test_user(
            cls.env, login="cm_user2", name="Bruno Marketing", groups="campaign_manager.group_campaign_user"
        )
        cls.user_manager = new_test_user(
            cls.env, login="cm_manager", name="Manon Manager", groups="campaign_manager.group_campaign_manager"
        )
        cls.user_accountant = new_test_user(
            cls.env, login="cm_accountant", name="Alain Accountant", groups="account.group_account_invoice"
        )
        cls.user_employee = new_test_user(cls.env, login="cm_employee", name="Emile Employee", groups="base.group_user")
        cls.tag = cls.env["res.partner.category"].create({"name": "Campaign test tag"})
        cls.mail_template = cls.env["mail.template"].create(
            {
                "name": "Campaign test email",
                "model_id": cls.env["ir.model"]._get_id("res.partner"),
                "subject": "Hello {{ object.name }}",
                "body_html": '<p>Dear <t t-out="object.name"/>, '
                '<a href="https://shop.example.com/offer">see our offer</a>.</p>',
            }
        )

    @classmethod
    def _partners(cls, count, prefix="contact", **values):
        """Create ``count`` contacts with unique emails, phones and full addresses unless overridden."""
        country = cls.env.ref("base.fr")
        vals_list = []
        for index in range(count):
            CampaignCase._phone_counter += 1
            number = CampaignCase._phone_counter
            vals = {
                "name": f"{prefix} {index}",
                "email": f"{prefix}.{index}@example.com",
                "phone": f"+33 6 {number // 10000 % 100:02d} {number // 100 % 100:02d} {number % 100:02d} 11",
                "street": f"{index} rue de Paris",
                "zip": "75001",
                "city": "Paris",
                "country_id": country.id,
            }
            vals.update(values)
            vals_list.append(vals)
        return cls.env["res.partner"].create(vals_list)

    @classmethod
    def _campaign(cls, name="TestCampaign", **values):
        return cls.env["campaign.campaign"].create({"name": name, **values})

    @classmethod
    def _email_action(cls, campaign, name="Mail", **values):
        """An email action whose content comes from the test template."""
        return cls.env["campaign.action"].create(
            {"campaign_id": campaign.id, "name": name, "channel": "email", "mail_template_id": cls.mail_template.id}
            | values
        )

    @classmethod
    def _manual_target(cls, campaign, partners, name="Picked"):
        return cls.env["campaign.target"].create(
            {"campaign_id": campaign.id, "name": name, "source": "manual", "partner_ids": [(6, 0, partners.ids)]}
        )

    @classmethod
    def _filter_target(cls, campaign, domain, name="Filter", target_type="dynamic"):
        return cls.env["campaign.target"].create(
            {
                "campaign_id": campaign.id,
                "name": name,
                "source": "filter",
                "target_type": target_type,
                "partner_domain": str(domain),
            }
        )


class RpcError(Exception):
    """An error answered by the server to a JSON-RPC or /json/2 call: ``name`` is the exception's
    class (``odoo.exceptions.AccessError``...), ``message`` what the user is shown."""

    def __init__(self, name, message, status=200):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message
        self.status = status


class RpcClientMixin:
    """Calls to the server as a real client makes them, for :class:`HttpCase` tests: the web
    client's ``/web/dataset/call_kw`` with a session cookie, and the external ``/json/2`` API with
    an API key. Nothing runs in the test's own environment: the server checks the rights of the
    user exactly as for a browser or an integration."""

    def json2(self, user, model, method, ids=None, context=None, **params):
        """``POST /json/2/<model>/<method>`` as ``user`` (with an API key of theirs); without an
        API key for the public user (a visitor)."""
        headers = {"Content-Type": "application/json", "X-Odoo-Database": get_db_name()}
        if not user._is_public():
            keys = type(self).__dict__.get("_rpc_class_keys", {})
            if user.id not in keys:
                # a key made in a test is rolled back with it (and with the savepoint of an
                # assertRaises around the call): made once for the class when possible
                keys = self.__dict__.setdefault("_rpc_keys", {})
                keys.setdefault(user.id, self._rpc_new_key(user))
            headers["Authorization"] = f"Bearer {keys[user.id]}"
        body = dict(params)
        if ids is not None:
            body["ids"] = list(ids)
        if context is not None:
            body["context"] = context
        # an integration sends no session cookie (the web client's session of another test user, here)
        cookies = list(self.opener.cookies)
        self.opener.cookies.clear()
        try:
            response = self.url_open(f"/json/2/{model}/{method}", data=json.dumps(body), headers=headers)
        finally:
            for cookie in cookies:
                self.opener.cookies.set_cookie(cookie)
        try:
            result = response.json()
        except ValueError:
            result = {"name": f"HTTP {response.status_code}", "message": response.text[:200]}
        if response.status_code != 200:
            raise RpcError(result.get("name"), result.get("message"), response.status_code)
        return result

    @staticmethod
    def _rpc_new_key(user):
        # the user creates their own key, as they would in their preferences
        return (
            user.with_user(user)
            .env["res.users.apikeys"]
            ._generate(scope="rpc", name="campaign tests", expiration_date=datetime.now() + timedelta(days=1))
        )

    @classmethod
    def _rpc_prepare_keys(cls, users):
        """API keys of ``users`` made for the whole class (in setUpClass)."""
        cls._rpc_class_keys = {user.id: cls._rpc_new_key(user) for user in users if not user._is_public()}

    def call_kw(self, user, model, method, args=(), kwargs=None):
        """``POST /web/dataset/call_kw`` as the web client does it, in a session of ``user``
        (whose password is their login, as ``new_test_user`` makes them); a visitor's session for
        the public user."""
        if getattr(self, "_rpc_session_user", None) != user.id:
            if user._is_public():
                self.authenticate(None, None)
            else:
                self.authenticate(user.login, user.login)
            self._rpc_session_user = user.id
        response = self.url_open(
            f"/web/dataset/call_kw/{model}/{method}",
            data=json.dumps(
                {
                    "id": 1,
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {"model": model, "method": method, "args": list(args), "kwargs": kwargs or {}},
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        response.raise_for_status()
        answer = response.json()
        if "error" in answer:
            data = answer["error"].get("data", {})
            raise RpcError(data.get("name"), data.get("message"))
        return answer.get("result")

    def rpc(self, client, user, model, method, ids=None, args=(), **kwargs):
        """Call ``method`` through ``client`` (``json2`` or ``call_kw``): on the records ``ids``
        when given (a method of the model otherwise), with the keyword arguments ``kwargs``."""
        if client == "json2":
            return self.json2(user, model, method, ids=ids, **kwargs)
        return self.call_kw(user, model, method, [list(ids), *args] if ids is not None else list(args), kwargs)


class CampaignHttpCase(EngineInTestMixin, RpcClientMixin, HttpCase):
    """Users of each role with exactly the groups a real user of the role gets, for tests that go
    through a real client (HTTP JSON-RPC or a browser tour)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.user_marketing = new_test_user(
            cls.env, login="rpc_user", name="Camille Marketing", groups="campaign_manager.group_campaign_user"
        )
        cls.user_marketing_2 = new_test_user(
            cls.env, login="rpc_user2", name="Bruno Marketing", groups="campaign_manager.group_campaign_user"
        )
        cls.user_manager = new_test_user(
            cls.env, login="rpc_manager", name="Manon Manager", groups="campaign_manager.group_campaign_manager"
        )
        cls.user_accountant = new_test_user(
            cls.env, login="rpc_accountant", name="Alain Accountant", groups="account.group_account_invoice"
        )
        cls._rpc_prepare_keys(cls.user_marketing | cls.user_marketing_2 | cls.user_manager | cls.user_accountant)
