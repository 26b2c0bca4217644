from odoo.tests import HttpCase

from .common import EngineInTestMixin


class TourCase(EngineInTestMixin, HttpCase):
    """Browser tours: the web client's asset bundles are built before the browser asks for them.
    Built while the page loads, they hold the test cursor (20 s and more on a busy machine) and the
    page's other requests, waiting for it, fail; the tour then breaks before its first step."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        qweb = cls.env["ir.qweb"]
        for name, js, css in (
            ("web.assets_web", True, True),
            ("web.assets_web_print", False, True),
            ("web.assets_tests", True, False),
            ("web.assets_emoji", True, False),
            ("bus.websocket_worker_assets", True, False),
        ):
            bundle = qweb._get_asset_bundle(name, js=js, css=css)
            if js:
                bundle.js()
            if css:
                bundle.css()
