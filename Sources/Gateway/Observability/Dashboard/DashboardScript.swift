/// The dashboard's script (served as `/dashboard.js`; the Content-Security-Policy forbids inline
/// script). It listens to `/dashboard/events` and renders each snapshot. Agent-controlled strings
/// are only ever assigned to `textContent`: the page never parses data as HTML.
///
/// For tests and measurements it records on `<html>`: `data-first-render-ms` (time from navigation
/// start to the first rendered snapshot), `data-version` (the last rendered snapshot's version)
/// and `data-stream` (`live` / `reconnecting`).
enum DashboardScript {
    static let source = #"""
        "use strict";
        (function () {
          const root = document.documentElement;
          let last = null, receivedAt = 0;
          const $ = (id) => document.getElementById(id);
          const text = (id, value) => { const el = $(id); if (el) el.textContent = value; };
          const num = (n) => (n === null || n === undefined) ? "–" : Number(n).toLocaleString("en-US");
          function duration(ms) {
            if (ms === null || ms === undefined || ms < 0) return "–";
            const s = Math.floor(ms / 1000);
            if (s < 60) return s + "s";
            if (s < 3600) return Math.floor(s / 60) + "m " + (s % 60) + "s";
            if (s < 86400) return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
            return Math.floor(s / 86400) + "d " + Math.floor((s % 86400) / 3600) + "h";
          }
          const serverNow = () => last ? last.now + (Date.now() - receivedAt) : Date.now();
          function pill(id, label, tone) {
            const el = $(id); if (!el) return;
            el.textContent = label; el.className = "pill " + tone;
          }
          function cell(row, value, cls) {
            const td = document.createElement("td");
            td.textContent = value;
            if (cls) td.className = cls;
            row.appendChild(td);
            return td;
          }
          function status(row, value) {
            const span = document.createElement("span");
            span.className = "st st-" + String(value).replace(/[^A-Za-z]/g, "");
            span.textContent = value;
            row.appendChild(span);
          }
          function renderEvents(s) {
            const body = document.querySelector("#events tbody");
            const rows = [];
            for (const e of s.events) {
              const tr = document.createElement("tr");
              tr.dataset.detectedAt = String(e.detectedAt);
              cell(tr, duration(serverNow() - e.detectedAt), "age");
              cell(tr, e.manager === null || e.manager === undefined ? s.managerNode : e.manager, "manager");
              cell(tr, e.agentID);
              cell(tr, e.agentName, "agent-name").title = e.agentName;
              cell(tr, e.node === null || e.node === undefined ? "–" : e.node);
              const t = cell(tr, "");
              if (e.kind === "registered") { t.textContent = "registered "; status(t, e.currentStatus); }
              else if (e.kind === "removed") { t.textContent = "removed"; }
              else {
                status(t, e.previousStatus);
                const a = document.createElement("span"); a.className = "arrow"; a.textContent = "→"; t.appendChild(a);
                status(t, e.currentStatus);
              }
              cell(tr, e.reason === null || e.reason === undefined ? "–" : e.reason.replace(/_/g, " "));
              rows.push(tr);
            }
            body.replaceChildren(...rows);
            text("events-count", s.events.length ? "last " + s.events.length : "none yet");
          }
          function renderManagers(s) {
            const body = document.querySelector("#managers tbody");
            const managers = s.managers || [];
            body.replaceChildren(...managers.map((m) => {
              const tr = document.createElement("tr");
              tr.dataset.lastRead = m.source.lastSuccessfulRead ? String(m.source.lastSuccessfulRead) : "";
              cell(tr, m.node, "manager-node");
              const state = document.createElement("td"), p = document.createElement("span");
              p.className = "pill " + (m.source.healthy ? "ok" : "bad");
              p.textContent = m.source.healthy ? "healthy" : "failing";
              state.appendChild(p); tr.appendChild(state);
              for (const v of [m.fleet.total, m.fleet.active, m.fleet.disconnected, m.fleet.pending, m.fleet.neverConnected, m.transitionsTotal]) cell(tr, num(v));
              cell(tr, "–", "last-read");
              cell(tr, m.source.lastError ? m.source.lastError : "", "error");
              return tr;
            }));
            text("managers-count", managers.length === 1 ? "1 manager" : managers.length + " managers");
          }
          function renderNodes(s) {
            const body = document.querySelector("#nodes tbody");
            body.replaceChildren(...s.nodes.map((n) => {
              const tr = document.createElement("tr");
              cell(tr, n.node);
              for (const v of [n.counts.total, n.counts.active, n.counts.disconnected, n.counts.pending, n.counts.neverConnected]) cell(tr, num(v));
              return tr;
            }));
          }
          function renderChart(s) {
            const svg = $("chart"); const ns = "http://www.w3.org/2000/svg";
            const minute = s.now - (s.now % 60000), buckets = [];
            const byMinute = new Map(s.transitionsPerMinute.map((b) => [b.minute, b.transitions]));
            for (let i = 29; i >= 0; i--) buckets.push(byMinute.get(minute - i * 60000) || 0);
            const peak = Math.max(1, ...buckets), w = 600 / buckets.length, nodes = [];
            for (let i = 0; i < 4; i++) {
              const l = document.createElementNS(ns, "line");
              const y = String(10 + i * 40);
              l.setAttribute("x1", "0"); l.setAttribute("x2", "600"); l.setAttribute("y1", y); l.setAttribute("y2", y);
              nodes.push(l);
            }
            buckets.forEach((v, i) => {
              const h = Math.round((v / peak) * 128), r = document.createElementNS(ns, "rect");
              r.setAttribute("x", String(i * w + 1)); r.setAttribute("width", String(w - 2));
              r.setAttribute("y", String(138 - h)); r.setAttribute("height", String(Math.max(h, v > 0 ? 2 : 0)));
              if (i === buckets.length - 1) r.setAttribute("class", "now");
              const tip = document.createElementNS(ns, "title"); tip.textContent = v + " transitions"; r.appendChild(tip);
              nodes.push(r);
            });
            svg.replaceChildren(...nodes);
            text("chart-peak", "peak " + Math.max(...buckets) + "/min · this minute " + buckets[buckets.length - 1]);
          }
          function render(s) {
            text("manager-node", s.managerNode); text("gateway-version", s.gatewayVersion);
            text("fleet-total", num(s.fleet.total)); text("fleet-active", num(s.fleet.active));
            text("fleet-disconnected", num(s.fleet.disconnected)); text("fleet-pending", num(s.fleet.pending));
            text("fleet-never", num(s.fleet.neverConnected));
            text("outbox-depth", num(s.outbox.depth));
            text("outbox-oldest", s.outbox.depth ? duration(s.outbox.oldestPendingAgeSeconds * 1000) : "–");
            const d = s.delivery;
            text("delivery-rate", d.ratePerSecond.toFixed(1) + " msg/s");
            const ms = (v) => v === null || v === undefined ? "–" : (v < 10 ? v.toFixed(2) : v.toFixed(0)) + " ms";
            text("delivery-latency", ms(d.ackLatencyP50Milliseconds) + " / " + ms(d.ackLatencyP99Milliseconds));
            text("delivery-total", num(d.deliveredTotal));
            text("delivery-failures", num(d.failedAttemptsTotal) + " / " + num(d.parkedTotal));
            const breaker = { closed: ["closed", "ok"], half_open: ["half-open", "warn"], open: ["open", "bad"] }[d.breaker] || [d.breaker, ""];
            pill("breaker-state", breaker[0], breaker[1]);
            text("delivery-last-failure", d.lastFailure && d.breaker !== "closed" ? "last failure: " + d.lastFailure : "");
            pill("nats-state", s.nats.connected ? "connected" : "disconnected", s.nats.connected ? "ok" : "bad");
            text("nats-server", s.nats.server || "–");
            text("nats-server-name", s.nats.serverName || "–");
            text("nats-server-version", s.nats.serverVersion || "–");
            text("nats-reconnects", num(s.nats.reconnects));
            pill("source-state", s.source.healthy ? "healthy" : "failing", s.source.healthy ? "ok" : "bad");
            text("source-reads", num(s.source.successfulReads));
            text("source-error", s.source.lastError ? s.source.lastError : "");
            text("source-manager", s.managers && s.managers.length > 1 ? "of " + s.managers[0].node : "");
            renderManagers(s); renderNodes(s); renderEvents(s); renderChart(s); tick();
            root.dataset.version = String(s.version);
            if (!root.dataset.firstRenderMs) root.dataset.firstRenderMs = String(Math.round(performance.now()));
          }
          function tick() {
            if (!last) return;
            const now = serverNow();
            text("uptime", duration(now - last.startedAt));
            text("updated-age", duration(Date.now() - receivedAt) + " ago");
            text("source-last-read", last.source.lastSuccessfulRead ? duration(now - last.source.lastSuccessfulRead) + " ago" : "never");
            for (const tr of document.querySelectorAll("#managers tbody tr")) {
              const read = Number(tr.dataset.lastRead);
              tr.querySelector(".last-read").textContent = read ? duration(now - read) + " ago" : "never";
            }
            for (const tr of document.querySelectorAll("#events tbody tr")) {
              tr.firstChild.textContent = duration(now - Number(tr.dataset.detectedAt));
            }
          }
          function connect() {
            const source = new EventSource("/dashboard/events");
            source.addEventListener("open", () => {
              root.dataset.stream = "live"; text("stream-state", "live"); $("stream-dot").className = "dot on";
            });
            source.addEventListener("error", () => {
              root.dataset.stream = "reconnecting"; text("stream-state", "reconnecting…"); $("stream-dot").className = "dot off";
            });
            source.addEventListener("snapshot", (m) => {
              let s;
              try { s = JSON.parse(m.data); } catch (e) { return; }
              last = s; receivedAt = Date.now(); render(s);
            });
          }
          setInterval(tick, 1000);
          connect();
        })();

        """#
}
