"""Headless Chromium driven over the DevTools protocol (websocket-client, as Odoo's own browser
tests), for the tests that need a browser on a server other than the test's: a user's clicks and
keys on any Odoo server, what the page shows, screenshots."""

import base64
import json
import resource
import shutil
import subprocess
import tempfile
import time
import urllib.request

import websocket

from .chromium_switches import CHROMIUM, SWITCHES
from .smtp_server import free_port


class BrowserError(Exception):
    pass


def _unlimited_memory():
    # Odoo limits the address space of its process (limit_memory_hard); Chromium reserves far more
    # than it uses and would not start under that limit (Odoo's own browser tests lift it too)
    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


class Chromium:
    """One headless Chromium and its page. Use as a context manager."""

    def __init__(self, width=1366, height=768, lang="en-US"):
        self.profile = tempfile.mkdtemp(prefix="campaign_chromium_")
        port = free_port()
        self.process = subprocess.Popen(
            [
                shutil.which("chromium") or CHROMIUM,
                *SWITCHES,
                f"--remote-debugging-port={port}",
                "--remote-debugging-address=127.0.0.1",
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                f"--lang={lang}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_unlimited_memory,
        )
        deadline = time.monotonic() + 30
        targets = []
        while time.monotonic() < deadline and not targets:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=2) as response:
                    targets = [t for t in json.load(response) if t.get("type") == "page"]
            except OSError:
                time.sleep(0.2)
        if not targets:
            self.close()
            raise BrowserError("Chromium did not start")
        self.ws = websocket.create_connection(targets[0]["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.next_id = 0
        self.console = []  # console messages and uncaught exceptions of the page
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            if getattr(self, "ws", None):
                self.ws.close()
        finally:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
            shutil.rmtree(self.profile, ignore_errors=True)

    # -- protocol ------------------------------------------------------------------------------
    def send(self, method, timeout=60, **params):
        self.next_id += 1
        message_id = self.next_id
        self.ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.ws.settimeout(max(deadline - time.monotonic(), 0.1))
            message = json.loads(self.ws.recv())
            if message.get("id") == message_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._event(message)
        raise BrowserError(f"{method}: no answer in {timeout} s")

    def _event(self, message):
        method = message.get("method")
        if method == "Runtime.consoleAPICalled":
            args = message["params"].get("args", [])
            self.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in args))
        elif method == "Runtime.exceptionThrown":
            details = message["params"]["exceptionDetails"]
            self.console.append(f"EXCEPTION {details.get('exception', {}).get('description') or details.get('text')}")

    def evaluate(self, expression, timeout=60):
        """The value of the JavaScript ``expression`` (promises awaited)."""
        result = self.send(
            "Runtime.evaluate", timeout=timeout, expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression[:200]}: {result['exceptionDetails'].get('text')}")
        return result.get("result", {}).get("value")

    # -- a user's actions ------------------------------------------------------------------------
    def goto(self, url):
        self.send("Page.navigate", url=url)
        self.wait("document.readyState === 'complete'")

    def wait(self, condition, timeout=60, what=None):
        """Wait until the JavaScript ``condition`` is true; its value."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.evaluate(f"(() => {{ try {{ return {condition}; }} catch (e) {{ return false; }} }})()")
            except (BrowserError, websocket.WebSocketException):
                value = False  # the page is being replaced
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"Waited {timeout} s for {what or condition}")
            time.sleep(0.25)

    def wait_for(self, selector, timeout=60, text=None):
        """Wait for a visible element matching ``selector`` (containing ``text`` when given)."""
        return self.wait(
            f"[...document.querySelectorAll({json.dumps(selector)})].some(e => e.offsetParent !== null"
            f" && ({json.dumps(text)} === null || e.textContent.includes({json.dumps(text)})))",
            timeout=timeout,
            what=f"{selector} {text or ''}",
        )

    def idle(self, timeout=60):
        """Wait for the web client to be idle: loaded, no request nor blocking overlay."""
        self.wait(
            "document.readyState === 'complete' && document.querySelector('.o_main_navbar, .o_web_client')"
            " && !document.querySelector('.o_loading_indicator, .o_blockUI, .o_ui_blocked')",
            timeout=timeout,
            what="the web client to be idle",
        )
        time.sleep(0.5)

    def click(self, selector, text=None, timeout=60):
        """Click, as a user does, the visible element matching ``selector`` (with ``text``)."""
        self.wait_for(selector, timeout=timeout, text=text)
        box = self.evaluate(
            f"""(() => {{
                const el = [...document.querySelectorAll({json.dumps(selector)})].find(e => e.offsetParent !== null
                    && ({json.dumps(text)} === null || e.textContent.includes({json.dumps(text)})));
                el.scrollIntoView({{block: 'center'}});
                const r = el.getBoundingClientRect();
                return [r.x + r.width / 2, r.y + r.height / 2];
            }})()"""
        )
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def type(self, selector, text, enter=False):
        """Focus ``selector``, select what it holds and type ``text`` (then Enter)."""
        self.click(selector)
        self.evaluate(f"document.querySelector({json.dumps(selector)}).select?.()")
        self.send("Input.insertText", text=text)
        if enter:
            self.press("Enter")

    def press(self, key):
        codes = {"Enter": 13, "Escape": 27, "Tab": 9}
        for kind in ("keyDown", "keyUp"):
            self.send(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=key,
                windowsVirtualKeyCode=codes[key],
                text="\r" if key == "Enter" and kind == "keyDown" else "",
            )

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as file:
            file.write(base64.b64decode(data))
        return path
