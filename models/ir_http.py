from odoo import models
from odoo.http import request

# What a NUL character of an address becomes: a character no address of the site holds either.
NUL_REPLACEMENT = "\ufffd"


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _match(cls, path):
        """An address with a NUL character (``%00``) is read as the same address with a character
        that matches nothing in its place: the database refuses NUL characters, so the routes (and
        the website's own lookups of pages and redirections) would otherwise answer a server error
        instead of their answer for a page, a link or a token that does not exist."""
        if "\x00" in path:
            request.reroute(path.replace("\x00", NUL_REPLACEMENT))
            path = request.httprequest.path
        return super()._match(path)
