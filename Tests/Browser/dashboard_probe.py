#!/usr/bin/env python3
"""Drives headless Chromium over the DevTools protocol (``--remote-debugging-pipe``: JSON messages
separated by NUL bytes on file descriptors 3 and 4, so no WebSocket client is needed) to check the
gateway's dashboard as a browser renders it.

1. loads URL and waits until the page shows at least --min-total agents over a live event stream;
2. writes the first-render facts as JSON to --rendered-marker (the test waits for that file, then
   makes the simulator produce transitions);
3. waits until every --expect-name appears as an agent name in the events table (live updates);
4. checks that no agent-controlled string ran as script or became markup;
5. saves a full-page PNG screenshot to --screenshot; prints a JSON summary on stdout.

Every wait polls the DOM until a deadline; none is a fixed sleep. Exit status 0 only if every check
passed; otherwise the reason is printed on stderr.
"""
import argparse
import base64
import fcntl
import json
import os
import signal
import sys
import tempfile
import threading
import time


class DevTools:
    def __init__(self, chromium, log_path):
        to_chrome_r, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome_w = os.pipe()
        # Move the child's ends above 3 and 4 so dup2 onto 3/4 always creates fresh descriptors.
        child_in = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_out = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.profile = tempfile.mkdtemp(prefix="dashboard-chromium-")
        args = [
            chromium, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--hide-scrollbars", "--mute-audio", "--user-data-dir=" + self.profile, "about:blank",
        ]
        self.log = open(log_path, "wb")
        self.pid = os.posix_spawn(
            chromium, args, os.environ,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, child_in, 3),
                (os.POSIX_SPAWN_DUP2, child_out, 4),
                (os.POSIX_SPAWN_DUP2, self.log.fileno(), 1),
                (os.POSIX_SPAWN_DUP2, self.log.fileno(), 2),
            ])
        os.close(child_in)
        os.close(child_out)
        self.writer = to_chrome_w
        self.reader = from_chrome_r
        self.next_id = 0
        self.replies = {}
        self.events = []
        self.lock = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buffer = b""
        while True:
            try:
                chunk = os.read(self.reader, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self.lock:
                    self.replies[None] = "closed"
                    self.lock.notify_all()
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                with self.lock:
                    if "id" in message:
                        self.replies[message["id"]] = message
                    else:
                        self.events.append(message)
                    self.lock.notify_all()

    def call(self, method, params=None, session=None, timeout=30):
        self.next_id += 1
        ident = self.next_id
        message = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.writer, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self.lock:
            while ident not in self.replies:
                if None in self.replies:
                    raise RuntimeError("chromium closed the DevTools pipe (see its log)")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError("no DevTools reply to %s within %ss" % (method, timeout))
                self.lock.wait(left)
            reply = self.replies.pop(ident)
        if "error" in reply:
            raise RuntimeError("%s failed: %s" % (method, reply["error"]))
        return reply.get("result", {})

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        for _ in range(50):
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.1)
        else:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        self.log.close()


class Page:
    def __init__(self, tools):
        self.tools = tools
        target = tools.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = tools.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for method in ["Page.enable", "Runtime.enable", "Log.enable"]:
            self.call(method)
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": 1440, "height": 900, "deviceScaleFactor": 1, "mobile": False})

    def call(self, method, params=None, timeout=30):
        return self.tools.call(method, params, session=self.session, timeout=timeout)

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise RuntimeError("evaluation failed: %s %s" % (
                details.get("text"), details.get("exception", {}).get("description")))
        return result["result"].get("value")

    def wait_for(self, what, expression, timeout):
        """Polls `expression` (returning a JSON-able value) until it is truthy; returns it."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.evaluate(expression)
            except RuntimeError as error:
                # While a navigation commits the document can be briefly absent: try again.
                last = str(error)
                time.sleep(0.1)
                continue
            if last:
                return last
            time.sleep(0.1)
        raise RuntimeError("timed out after %ss waiting for %s (last: %r)" % (timeout, what, last))


RENDERED = """(() => {
  const d = document.documentElement.dataset, el = document.getElementById('fleet-total');
  if (!el) return null;
  const total = parseInt((el.textContent || '').replace(/,/g, ''), 10);
  if (!(total >= %d) || d.stream !== 'live' || !d.firstRenderMs) return null;
  return {total, firstRenderMs: Number(d.firstRenderMs), version: Number(d.version),
          names: [...document.querySelectorAll('#events .agent-name')].map(e => e.textContent),
          resources: performance.getEntriesByType('resource').map(r => ({name: r.name, bytes: r.encodedBodySize})),
          navigationBytes: performance.getEntriesByType('navigation').map(n => n.encodedBodySize)[0]};
})()"""

ARRIVED = """(() => {
  const wanted = %s;
  const names = [...document.querySelectorAll('#events .agent-name')].map(e => e.textContent);
  return wanted.every(w => names.includes(w)) ? {names, version: Number(document.documentElement.dataset.version)} : null;
})()"""

SAFETY = """(() => ({
  pwned: window.__pwned === undefined ? null : window.__pwned,
  title: document.title,
  injectedElements: document.querySelectorAll('#events img, #events script, #events iframe, #nodes img, #nodes script').length,
  scripts: [...document.scripts].map(s => s.getAttribute('src')),
  eventCells: document.querySelectorAll('#events tbody td').length,
}))()"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--chromium", default="chromium")
    parser.add_argument("--screenshot", required=True)
    parser.add_argument("--rendered-marker")
    parser.add_argument("--expect-name", action="append", default=[])
    parser.add_argument("--min-total", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--log", default=os.path.join(tempfile.gettempdir(), "dashboard-chromium.log"))
    options = parser.parse_args()
    # A test that gives up terminates this driver: close Chromium on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(2))

    tools = DevTools(options.chromium, options.log)
    try:
        page = Page(tools)
        started = time.monotonic()
        page.call("Page.navigate", {"url": options.url})
        rendered = page.wait_for("the first render with fleet counts over a live stream",
                                 RENDERED % options.min_total, options.timeout)
        rendered["wallToFirstRenderMs"] = round((time.monotonic() - started) * 1000)
        for name in options.expect_name:
            if name in rendered["names"]:
                raise RuntimeError("%r was already shown before the live update" % name)
        if options.rendered_marker:
            with open(options.rendered_marker + ".tmp", "w") as marker:
                json.dump(rendered, marker)
            os.rename(options.rendered_marker + ".tmp", options.rendered_marker)
        arrived = None
        if options.expect_name:
            arrived = page.wait_for("the live events " + json.dumps(options.expect_name),
                                    ARRIVED % json.dumps(options.expect_name), options.timeout)
        safety = page.evaluate(SAFETY)
        problems = []
        if safety["pwned"] is not None:
            problems.append("an agent name ran as script (window.__pwned=%r)" % safety["pwned"])
        if "pwned" in safety["title"]:
            problems.append("an agent name changed the title: %r" % safety["title"])
        if safety["injectedElements"]:
            problems.append("%d elements were created from agent names" % safety["injectedElements"])
        if safety["scripts"] != ["/dashboard.js"]:
            problems.append("unexpected scripts in the page: %r" % safety["scripts"])
        exceptions = [e["params"]["exceptionDetails"].get("text") for e in tools.events
                      if e.get("method") == "Runtime.exceptionThrown"]
        if exceptions:
            problems.append("the page threw: %r" % exceptions)
        metrics = page.call("Page.getLayoutMetrics")
        height = min(int(metrics["cssContentSize"]["height"]) + 1, 4000)
        page.call("Emulation.setDeviceMetricsOverride",
                  {"width": 1440, "height": height, "deviceScaleFactor": 1, "mobile": False})
        page.evaluate("new Promise(r => requestAnimationFrame(() => r(true)))")
        shot = page.call("Page.captureScreenshot", {"format": "png"})
        os.makedirs(os.path.dirname(os.path.abspath(options.screenshot)), exist_ok=True)
        with open(options.screenshot, "wb") as output:
            output.write(base64.b64decode(shot["data"]))
        console = [e["params"]["entry"].get("text") for e in tools.events if e.get("method") == "Log.entryAdded"]
        print(json.dumps({"rendered": rendered, "arrived": arrived, "safety": safety, "console": console,
                          "screenshot": options.screenshot}))
        if problems:
            print("dashboard check failed: " + "; ".join(problems), file=sys.stderr)
            return 1
        return 0
    except Exception as error:
        print("dashboard check failed: %s" % error, file=sys.stderr)
        return 1
    finally:
        tools.close()


if __name__ == "__main__":
    sys.exit(main())
