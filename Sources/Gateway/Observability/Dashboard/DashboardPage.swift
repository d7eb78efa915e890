/// The dashboard's HTML and CSS, compiled into the binary (no resource bundle, no CDN: works
/// offline). The page holds no data and no inline script: `dashboard.js` fills it from
/// `/dashboard/events`, inserting every value with `textContent`.
enum DashboardPage {
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>wazuh-nats-gateway · dashboard</title>
        <link rel="stylesheet" href="/dashboard.css">
        <script src="/dashboard.js" defer></script>
        </head>
        <body>
        <header class="bar">
          <div class="brand"><span class="logo">◆</span> wazuh-nats-gateway</div>
          <div class="meta">manager <b id="manager-node">–</b> · v<span id="gateway-version">–</span> · up <span id="uptime">–</span></div>
          <div class="live"><span id="stream-dot" class="dot"></span><span id="stream-state">connecting…</span> · updated <span id="updated-age">–</span></div>
        </header>
        <main>
          <section class="counts" aria-label="fleet">
            <div class="stat"><div class="label">Agents</div><div class="value" id="fleet-total">–</div></div>
            <div class="stat ok"><div class="label">Active</div><div class="value" id="fleet-active">–</div></div>
            <div class="stat bad"><div class="label">Disconnected</div><div class="value" id="fleet-disconnected">–</div></div>
            <div class="stat warn"><div class="label">Pending</div><div class="value" id="fleet-pending">–</div></div>
            <div class="stat muted"><div class="label">Never connected</div><div class="value" id="fleet-never">–</div></div>
          </section>
          <section class="card">
            <h2>Managers <span class="sub" id="managers-count"></span></h2>
            <table id="managers"><thead><tr><th>Manager</th><th>Source</th><th>Agents</th><th>Active</th><th>Disc.</th><th>Pending</th><th>Never</th><th>Events</th><th>Last read</th><th>Last error</th></tr></thead><tbody></tbody></table>
          </section>
          <section class="grid">
            <div class="card">
              <h2>Outbox</h2>
              <dl><dt>Pending</dt><dd id="outbox-depth">–</dd><dt>Oldest pending</dt><dd id="outbox-oldest">–</dd></dl>
            </div>
            <div class="card">
              <h2>Delivery</h2>
              <dl><dt>Rate</dt><dd id="delivery-rate">–</dd>
              <dt>Ack p50 / p99</dt><dd id="delivery-latency">–</dd>
              <dt>Delivered</dt><dd id="delivery-total">–</dd>
              <dt>Failed / parked</dt><dd id="delivery-failures">–</dd></dl>
            </div>
            <div class="card">
              <h2>Circuit breaker</h2>
              <div class="pill" id="breaker-state">–</div>
              <div class="note" id="delivery-last-failure"></div>
            </div>
            <div class="card">
              <h2>NATS</h2>
              <div class="pill" id="nats-state">–</div>
              <dl><dt>Server</dt><dd id="nats-server">–</dd><dt>Name</dt><dd id="nats-server-name">–</dd><dt>Version</dt><dd id="nats-server-version">–</dd>
              <dt>Reconnects</dt><dd id="nats-reconnects">–</dd></dl>
            </div>
            <div class="card">
              <h2>Source <span class="sub" id="source-manager"></span></h2>
              <div class="pill" id="source-state">–</div>
              <dl><dt>Last read</dt><dd id="source-last-read">–</dd><dt>Reads</dt><dd id="source-reads">–</dd></dl>
              <div class="note" id="source-error"></div>
            </div>
          </section>
          <section class="grid wide">
            <div class="card chart-card">
              <h2>Transitions per minute <span class="sub">last 30 minutes</span></h2>
              <svg id="chart" viewBox="0 0 600 140" preserveAspectRatio="none" role="img" aria-label="transitions per minute"></svg>
              <div class="axis"><span>−30 min</span><span id="chart-peak"></span><span>now</span></div>
            </div>
            <div class="card">
              <h2>Cluster nodes</h2>
              <table id="nodes"><thead><tr><th>Node</th><th>Total</th><th>Active</th><th>Disc.</th><th>Pending</th><th>Never</th></tr></thead><tbody></tbody></table>
            </div>
          </section>
          <section class="card">
            <h2>Recent events <span class="sub" id="events-count"></span></h2>
            <table id="events"><thead><tr><th>Age</th><th>Manager</th><th>Agent</th><th>Name</th><th>Node</th><th>Transition</th><th>Reason</th></tr></thead><tbody></tbody></table>
          </section>
        </main>
        </body>
        </html>

        """

    static let css = """
        :root{--bg:#0f141a;--panel:#17202a;--line:#243140;--text:#d8e1ea;--dim:#8394a6;--ok:#3fb27f;--bad:#e5534b;--warn:#d9a53a;--info:#4c9be8;--muted:#6b7b8c}
        *{box-sizing:border-box}
        body{margin:0;background:var(--bg);color:var(--text);font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
        .bar{display:flex;align-items:center;gap:24px;padding:10px 20px;background:#0b1016;border-bottom:1px solid var(--line)}
        .brand{font-weight:600;font-size:16px;letter-spacing:.2px}.logo{color:var(--info)}
        .meta{color:var(--dim)}.meta b{color:var(--text);font-weight:600}
        .live{margin-left:auto;color:var(--dim);display:flex;align-items:center;gap:6px}
        .dot{width:9px;height:9px;border-radius:50%;background:var(--muted);display:inline-block}
        .dot.on{background:var(--ok);box-shadow:0 0 6px var(--ok)}.dot.off{background:var(--bad)}
        main{padding:16px 20px;display:flex;flex-direction:column;gap:16px}
        .counts{display:grid;grid-template-columns:repeat(5,1fr);gap:12px}
        .stat{background:var(--panel);border:1px solid var(--line);border-left:4px solid var(--info);border-radius:6px;padding:10px 14px}
        .stat.ok{border-left-color:var(--ok)}.stat.bad{border-left-color:var(--bad)}.stat.warn{border-left-color:var(--warn)}.stat.muted{border-left-color:var(--muted)}
        .stat .label{color:var(--dim);font-size:12px;text-transform:uppercase;letter-spacing:.6px}
        .stat .value{font-size:30px;font-weight:600;font-variant-numeric:tabular-nums}
        .grid{display:grid;grid-template-columns:repeat(5,1fr);gap:12px}
        .grid.wide{grid-template-columns:3fr 2fr}
        .card{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:12px 14px;min-width:0}
        h2{margin:0 0 8px;font-size:13px;font-weight:600;color:var(--dim);text-transform:uppercase;letter-spacing:.6px}
        h2 .sub{text-transform:none;letter-spacing:0;font-weight:400;color:var(--muted)}
        dl{margin:6px 0 0;display:grid;grid-template-columns:auto minmax(0,1fr);gap:3px 10px}
        dt{color:var(--dim);white-space:nowrap}dd{margin:0;text-align:right;font-variant-numeric:tabular-nums;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
        .pill{display:inline-block;padding:2px 10px;border-radius:10px;font-weight:600;font-size:12px;background:var(--line)}
        .pill.ok{background:rgba(63,178,127,.18);color:var(--ok)}.pill.bad{background:rgba(229,83,75,.18);color:var(--bad)}.pill.warn{background:rgba(217,165,58,.18);color:var(--warn)}
        .note{margin-top:6px;color:var(--warn);font-size:12px;word-break:break-word}
        svg{width:100%;height:140px;display:block}
        svg rect{fill:var(--info)}svg rect.now{fill:var(--ok)}svg line{stroke:var(--line)}
        .axis{display:flex;justify-content:space-between;color:var(--muted);font-size:11px}
        table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
        th{text-align:left;color:var(--dim);font-weight:500;font-size:12px;border-bottom:1px solid var(--line);padding:4px 6px}
        td{padding:4px 6px;border-bottom:1px solid #1d2733;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:340px}
        #events tbody tr:first-child td{animation:flash 1.2s ease-out}
        @keyframes flash{from{background:rgba(76,155,232,.25)}to{background:transparent}}
        .st{font-weight:600}.st-Active{color:var(--ok)}.st-Disconnected{color:var(--bad)}.st-Pending{color:var(--warn)}.st-NeverConnected,.st-Unknown{color:var(--muted)}
        .arrow{color:var(--muted);padding:0 4px}
        #managers td.error{color:var(--warn);white-space:normal;word-break:break-word}
        @media (max-width:1100px){.grid{grid-template-columns:repeat(2,1fr)}.grid.wide{grid-template-columns:1fr}.counts{grid-template-columns:repeat(3,1fr)}}

        """
}
