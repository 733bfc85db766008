/// The dashboard at `/`: plain HTML, CSS and JavaScript from the binary, no build step, no external
/// assets. It reads `/events` (task transitions and stats ticks) with `fetch`, so it can send the
/// token, which it asks for once (on the first 401) and keeps in the browser's local storage.
enum DashboardPage {
    static let html = HTMLPage.document(title: "agent-repl · scheduler", style: #"""
    :root { --bg: #0f1115; --panel: #181b22; --text: #e6e6e6; --dim: #8b93a1; --accent: #6cb6ff; --ok: #5fd38d; --bad: #ff7b72; --warn: #e3b341; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--text); }
    header { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: baseline; padding: .8rem 1rem; background: var(--panel); }
    header h1 { font-size: 1.1rem; margin: 0; }
    #status { color: var(--dim); }
    main { display: grid; gap: 1rem; padding: 1rem; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); }
    section { background: var(--panel); border-radius: 8px; padding: .8rem 1rem; min-width: 0; overflow-x: auto; }
    h2 { font-size: .95rem; margin: 0 0 .6rem; color: var(--dim); font-weight: 600; }
    .numbers { display: grid; grid-template-columns: repeat(3, 1fr); gap: .5rem; }
    .number b { display: block; font-size: 1.6rem; font-variant-numeric: tabular-nums; }
    .number span { color: var(--dim); font-size: .8rem; }
    table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
    th, td { text-align: left; padding: .2rem .4rem; border-bottom: 1px solid #262a33; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 14rem; }
    th { color: var(--dim); font-weight: 500; }
    .bar { height: .6rem; background: var(--accent); border-radius: 3px; min-width: 1px; }
    .state-running { color: var(--accent); } .state-paused { color: var(--warn); } .state-completed { color: var(--ok); }
    .state-failed, .state-cancelled, .state-timed_out { color: var(--bad); }
    form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin-top: .5rem; }
    select, input, button { font: inherit; background: #0f1115; color: var(--text); border: 1px solid #333a46; border-radius: 4px; padding: .25rem .4rem; }
    button { cursor: pointer; }
    canvas { width: 100%; height: 80px; }
    #error { color: var(--bad); }
    .note { color: var(--dim); font-size: .8rem; margin-top: .4rem; }
    @media (min-width: 1000px) { section.wide { grid-column: span 2; } }
    """#, body: #"""
    <header><h1>agent-repl scheduler</h1><span id="status">connecting…</span><span id="error"></span></header>
    <main>
    <section>
      <h2>Tasks</h2>
      <div class="numbers">
        <div class="number"><b id="queued">0</b><span>queued</span></div>
        <div class="number"><b id="running">0</b><span>running</span></div>
        <div class="number"><b id="paused">0</b><span>paused</span></div>
        <div class="number"><b id="completed">0</b><span>completed</span></div>
        <div class="number"><b id="failed">0</b><span>failed</span></div>
        <div class="number"><b id="total">0</b><span>submitted</span></div>
      </div>
    </section>
    <section>
      <h2>Queue per level</h2>
      <table><thead><tr><th>level</th><th>slice</th><th>queued</th><th>running</th></tr></thead><tbody id="levels"></tbody></table>
    </section>
    <section>
      <h2>Scheduler</h2>
      <div>strategy <b id="strategy">?</b> · workers <b id="workers">?</b> · slice <b id="quantum">?</b> ms</div>
      <form id="strategy-form">
        <select id="strategy-select">
          <option>mlfq</option><option>priority</option><option>preemptive</option><option>round_robin</option><option>sjf</option><option>fifo</option>
        </select>
        <input id="slice-input" type="number" min="0.001" step="0.001" placeholder="slice (s)" style="width:7rem">
        <button>Set strategy</button>
      </form>
      <form id="workers-form">
        <input id="workers-input" type="number" min="1" max="256" style="width:5rem">
        <button>Set workers</button>
      </form>
    </section>
    <section>
      <h2>Throughput (tasks ended per second, last 5 minutes)</h2>
      <canvas id="throughput" width="600" height="80"></canvas>
      <div id="rate">0 /s</div>
    </section>
    <section>
      <h2>Running and paused</h2>
      <table><thead><tr><th>id</th><th>tool</th><th>state</th><th>level</th><th>since</th></tr></thead><tbody id="live"></tbody></table>
    </section>
    <section class="wide">
      <h2>Per tool</h2>
      <table><thead><tr><th>tool</th><th>ended</th><th>avg</th><th>p95</th><th>5 min</th><th>p50</th><th>p95</th><th></th></tr></thead><tbody id="tools"></tbody></table>
      <div class="note">Milliseconds. ended, avg, p95: every ended call's run time (p95 of the last 200). 5 min, p50, p95: the calls ended in the last 5 minutes, submitted to ended.</div>
    </section>
    <section class="wide">
      <h2>Recent tasks</h2>
      <table><thead><tr><th>id</th><th>name</th><th>tool</th><th>status</th><th>wait s</th><th>run s</th></tr></thead><tbody id="recent"></tbody></table>
    </section>
    </main>
    <script>
    "use strict";
    const $ = (id) => document.getElementById(id);
    let token = localStorage.getItem("agent-repl-token") || "";
    const live = new Map();      // id -> {tool, state, level, since}
    const samples = [];          // [time ms, ended]
    const submitted = new Map(); // id -> server time (at_ms) of its submission
    const latencies = [];        // [server time it ended, tool, ms from submitted to ended], the last 5 minutes
    const windowMs = 300000;
    let serverNow = 0;           // the newest at_ms seen
    let recentTimer = null;

    function headers(extra) {
      const h = Object.assign({}, extra || {});
      if (token) h["Authorization"] = "Bearer " + token;
      return h;
    }
    async function api(method, path, body) {
      const response = await fetch(path, { method, headers: headers(body ? { "Content-Type": "application/json" } : {}), body: body ? JSON.stringify(body) : undefined });
      if (response.status === 401) { askToken(); throw new Error("a token is needed"); }
      const data = await response.json();
      if (!response.ok) throw new Error(data.detail || response.statusText);
      return data;
    }
    function askToken() {
      const given = prompt("This server needs its token:");
      if (given) { token = given.trim(); localStorage.setItem("agent-repl-token", token); }
    }
    function cell(text, cls) { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; return td; }
    function row(cells) { const tr = document.createElement("tr"); cells.forEach((c) => tr.appendChild(c)); return tr; }

    function showStats(s) {
      $("queued").textContent = s.queued; $("running").textContent = s.running; $("paused").textContent = s.paused;
      $("completed").textContent = s.completed; $("failed").textContent = s.failed + s.cancelled + s.timed_out; $("total").textContent = s.total;
      $("strategy").textContent = s.strategy; $("workers").textContent = s.workers; $("quantum").textContent = s.quantum_ms;
      if (document.activeElement !== $("workers-input")) $("workers-input").value = s.workers;
      $("levels").replaceChildren(...s.levels.map((l) => row([cell(l.level), cell(l.quantum_ms + " ms"), cell(l.queued), cell(l.running)])));
      const tools = Object.entries(s.tools).sort((a, b) => b[1].count - a[1].count);
      const recent = recentLatencies();
      const slowest = Math.max(1, ...tools.map(([name]) => (recent.get(name) || { p95: 0 }).p95));
      $("tools").replaceChildren(...tools.map(([name, t]) => {
        const w = recent.get(name);
        const bar = document.createElement("div"); bar.className = "bar"; bar.style.width = (w ? 100 * w.p95 / slowest : 0) + "%";
        const td = document.createElement("td"); td.style.width = "15%"; td.appendChild(bar);
        return row([cell(name), cell(t.count), cell(t.avg_ms.toFixed(1)), cell(t.p95_ms.toFixed(1)),
          cell(w ? w.count : 0, "window-count"), cell(w ? w.p50.toFixed(1) : "", "window-p50"), cell(w ? w.p95.toFixed(1) : "", "window-p95"), td]);
      }));
      const now = Date.now();
      samples.push([now, s.completed + s.failed + s.cancelled + s.timed_out]);
      while (samples.length && samples[0][0] < now - 300000) samples.shift();
      drawThroughput();
      if (!recentTimer) recentTimer = setTimeout(loadRecent, 1000);
    }
    // Per tool, over the last 5 minutes of the server's clock: calls ended, and the nearest-rank median
    // and 95th percentile of their latency (submitted to ended).
    function recentLatencies() {
      while (latencies.length && latencies[0][0] < serverNow - windowMs) latencies.shift();
      if (submitted.size > 10000) for (const [id, at] of submitted) if (at < serverNow - windowMs) submitted.delete(id);
      const byTool = new Map();
      for (const [, tool, ms] of latencies) { if (!byTool.has(tool)) byTool.set(tool, []); byTool.get(tool).push(ms); }
      const rank = (sorted, q) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
      const result = new Map();
      for (const [tool, values] of byTool) {
        values.sort((a, b) => a - b);
        result.set(tool, { count: values.length, p50: rank(values, 0.5), p95: rank(values, 0.95) });
      }
      return result;
    }
    function drawThroughput() {
      const canvas = $("throughput"), g = canvas.getContext("2d");
      g.clearRect(0, 0, canvas.width, canvas.height);
      const rates = [];
      for (let i = 1; i < samples.length; i++) {
        const dt = (samples[i][0] - samples[i - 1][0]) / 1000;
        rates.push(dt > 0 ? (samples[i][1] - samples[i - 1][1]) / dt : 0);
      }
      const last = rates.slice(-4);
      $("rate").textContent = (last.length ? last.reduce((a, b) => a + b, 0) / last.length : 0).toFixed(1) + " /s";
      const top = Math.max(1, ...rates);
      g.strokeStyle = "#6cb6ff"; g.beginPath();
      rates.forEach((r, i) => { const x = canvas.width * i / Math.max(1, rates.length - 1), y = canvas.height * (1 - r / top); i ? g.lineTo(x, y) : g.moveTo(x, y); });
      g.stroke();
    }
    function showTask(t) {
      serverNow = Math.max(serverNow, t.at_ms);
      if (t.state === "waiting" && !submitted.has(t.id)) submitted.set(t.id, t.at_ms);
      if (["completed", "failed", "cancelled", "timed_out"].includes(t.state) && submitted.has(t.id)) {
        latencies.push([t.at_ms, t.name, t.at_ms - submitted.get(t.id)]);
        submitted.delete(t.id);
      }
      if (t.state === "running" || t.state === "paused") {
        const known = live.get(t.id);
        live.set(t.id, { tool: t.name, state: t.state, level: t.level, since: known ? known.since : Date.now() });
      } else if (t.state !== "waiting") {
        live.delete(t.id);
      }
      renderLive();
    }
    function renderLive() {
      const now = Date.now();
      $("live").replaceChildren(...[...live.entries()].slice(0, 50).map(([id, t]) =>
        row([cell(id), cell(t.tool), cell(t.state, "state-" + t.state), cell(t.level), cell(((now - t.since) / 1000).toFixed(1) + " s")])));
    }
    async function loadRecent() {
      recentTimer = null;
      try {
        const tasks = await api("GET", "/tasks?limit=15");
        $("recent").replaceChildren(...tasks.map((t) => row([cell(t.id), cell(t.name), cell(t.tool), cell(t.status, "state-" + t.state),
          cell(t.wait_time.toFixed(2)), cell(t.execution_time == null ? "" : t.execution_time.toFixed(2))])));
      } catch (e) { $("error").textContent = e.message; }
    }
    async function listen() {
      for (;;) {
        try {
          const response = await fetch("/events", { headers: headers() });
          if (response.status === 401) { askToken(); await new Promise((r) => setTimeout(r, 500)); continue; }
          $("status").textContent = "live"; $("error").textContent = "";
          const reader = response.body.getReader(), decoder = new TextDecoder();
          let buffer = "";
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += decoder.decode(value, { stream: true });
            let end;
            while ((end = buffer.indexOf("\n\n")) >= 0) {
              const block = buffer.slice(0, end); buffer = buffer.slice(end + 2);
              let event = "message", data = "";
              for (const line of block.split("\n")) {
                if (line.startsWith("event: ")) event = line.slice(7);
                else if (line.startsWith("data: ")) data += line.slice(6);
              }
              if (!data) continue;
              const value = JSON.parse(data);
              if (event === "stats") showStats(value); else if (event === "task") showTask(value);
            }
          }
        } catch (e) { $("error").textContent = e.message; }
        $("status").textContent = "reconnecting…";
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    $("strategy-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { strategy: $("strategy-select").value };
      if ($("slice-input").value) body.time_slice = Number($("slice-input").value);
      try { await api("PUT", "/scheduler/strategy", body); } catch (err) { $("error").textContent = err.message; }
    });
    $("workers-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      try { await api("PUT", "/scheduler/workers", { workers: Number($("workers-input").value) }); } catch (err) { $("error").textContent = err.message; }
    });
    setInterval(renderLive, 1000);
    listen();
    </script>
    """#)
}
