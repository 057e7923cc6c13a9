// ui.js — loadplan's live page. It draws what the server's event stream says (/events: one JSON
// frame per update, each the whole state) and sends Stop, Abort and Start as POST requests.
// Everything it writes into the page goes through textContent: plan names, diagnostics and
// summaries are data, never markup.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v; else e.setAttribute(k, v);
    }
    for (const k of kids) e.append(k);
    return e;
  };
  const fmt = (n, d) => (n === undefined || n === null || isNaN(n)) ? '–' :
    Number(n).toLocaleString('en-US', { maximumFractionDigits: d === undefined ? 0 : d });
  const dur = (s) => { s = Math.max(0, Math.round(s)); const m = Math.floor(s / 60); return m ? m + 'm' + String(s % 60).padStart(2, '0') + 's' : s + 's'; };

  // window.loadplanUI is the page's state, read by the browser tests.
  const ui = window.loadplanUI = { frame: null, frames: 0, runId: 0, plans: [], selected: null, view: null,
    charts: () => window.loadplanView.charts($('view')) };

  function post(path, body, json) {
    const opts = { method: 'POST', credentials: 'same-origin', body };
    if (json) opts.headers = { 'Content-Type': 'application/json' };
    return fetch(path, opts);
  }
  function control(path) {
    const run = ui.frame && ui.frame.run;
    if (!run) return;
    const body = new URLSearchParams({ id: String(run.id) });
    post(path, body).then((r) => { if (!r.ok) r.text().then((t) => console.warn(path, r.status, t)); });
  }
  $('stop').addEventListener('click', () => { $('stop').disabled = true; control('/api/stop'); });
  $('abort').addEventListener('click', () => { $('abort').disabled = true; control('/api/abort'); });

  function connect() {
    const es = ui.es = new EventSource('/events');
    es.onopen = () => { $('conn').hidden = true; };
    es.onerror = () => { $('conn').hidden = false; };
    es.onmessage = (e) => onFrame(JSON.parse(e.data));
  }

  // A hidden tab draws nothing: it keeps the newest frame and draws it when shown again, so a
  // page left open in the background costs its machine (often the load generator) nothing.
  document.addEventListener('visibilitychange', () => { if (!document.hidden && ui.pending) { const f = ui.pending; ui.pending = null; draw(f); } });

  function onFrame(f) {
    ui.frame = f; ui.frames++;
    // apply --ui: a finished run changes no more; close the stream rather than have the browser
    // retry it once loadplan has exited.
    if (f.mode === 'apply' && f.run && f.run.done) ui.es.close();
    if (document.hidden) { ui.pending = f; return; }
    draw(f);
  }

  function draw(f) {
    if (f.mode === 'session') session(f);
    const run = f.run;
    header(run);
    if (run && run.id !== ui.runId) { ui.runId = run.id; ui.view = null; $('view').textContent = ''; $('view')._lp = null; }
    if (run && run.view) renderView(run);
    final(run);
    document.body.dataset.state = !run ? 'idle' : (run.done ? 'done' : 'running');
  }

  function header(run) {
    const st = run ? run.status : null;
    $('plan').textContent = run ? run.plan + (run.choices ? '  ' + run.choices : '') : '';
    $('phase').textContent = !run ? 'idle' : run.done ? 'done' : (st.interrupted ? 'stopping' : st.phase);
    const live = run && !run.done;
    $('stop').disabled = !live || st.interrupted;
    $('abort').disabled = !live;
    const v = $('verdict');
    v.hidden = !(run && run.done);
    if (run && run.done) {
      v.textContent = run.verdict + ' (exit ' + run.code + ')';
      v.className = 'badge ' + (run.code === 0 ? 'ok' : 'bad');
    }
    let pct = 0, text = '';
    if (st) {
      pct = run.done ? 100 : st.total > 0 ? Math.min(100, 100 * st.elapsed / st.total) : 0;
      text = dur(st.elapsed) + (st.total > 0 ? ' / ' + dur(st.total) : '') +
        (st.stageCount ? ' · stage ' + st.stage + '/' + st.stageCount : '') + ' · ' + fmt(st.vus) + ' VUs' +
        (st.abortReason ? ' · aborted: ' + st.abortReason : '');
    }
    $('bar').style.width = pct + '%';
    $('progress-text').textContent = text;
  }

  function final(run) {
    const done = !!(run && run.done);
    $('final').hidden = !done;
    if (!done) return;
    const files = $('files');
    files.textContent = '';
    for (const f of run.files || []) files.append(el('li', {}, el('a', { href: f.url, download: f.name, text: f.name })));
    if (!(run.files || []).length) files.append(el('li', { class: 'muted', text: 'this run wrote no files' }));
    $('summary').textContent = (run.error ? run.error + '\n\n' : '') + (run.summary || '');
    $('final-note').hidden = ui.frame.mode !== 'apply';
  }

  // renderView draws the run's View with the shared renderer (internal/webview's view.js, the
  // HTML report's too): verdict, progress, totals, charts, thresholds, steps, checks, errors.
  function renderView(run) {
    $('idle').hidden = true;
    window.loadplanView.update($('view'), run.view);
    ui.view = true;
  }

  // session: `loadplan ui` — the plans, the start form, the history.
  function session(f) {
    const sec = $('session');
    if (sec.hidden) {
      sec.hidden = false;
      $('folder').textContent = f.folder;
      $('results').textContent = 'files in ' + f.results;
      loadPlans();
    }
    $('start').disabled = f.busy;
    const tb = $('history').tBodies[0];
    tb.textContent = '';
    for (const h of f.history || []) {
      const files = el('td', { class: 'name' });
      for (const x of h.files || []) files.append(el('a', { href: x.url, download: x.name, text: x.name }), ' ');
      tb.append(el('tr', { 'data-id': String(h.id), 'data-code': String(h.code) },
        el('td', { text: String(h.id) }), el('td', { class: 'name', text: h.plan }), el('td', { class: 'name', text: h.choices || '' }),
        el('td', { text: new Date(h.started).toLocaleTimeString() }),
        el('td', { class: h.code === 0 ? 'pass' : 'fail', text: h.verdict + ' (' + h.code + ')' }),
        el('td', { class: 'requests', text: fmt(h.requests) }), el('td', { class: 'failures', text: fmt(h.failures) }), files));
    }
  }

  function loadPlans() {
    fetch('/api/plans', { credentials: 'same-origin' }).then((r) => r.json()).then((plans) => {
      ui.plans = plans;
      const ul = $('plans');
      ul.textContent = '';
      for (const p of plans) {
        const li = el('li', { class: p.valid ? '' : 'invalid', 'data-path': p.path, text: p.name + (p.valid ? '' : ' (invalid)') });
        if (!p.valid) li.append(el('pre', { text: p.diagnostics || '' }));
        else li.addEventListener('click', () => select(p, li));
        ul.append(li);
      }
      if (!plans.length) ul.append(el('li', { class: 'muted', text: 'no .hcl plans in this folder' }));
    });
  }

  function select(p, li) {
    ui.selected = p;
    for (const x of $('plans').children) x.classList.toggle('sel', x === li);
    const form = $('start-form');
    form.hidden = false;
    $('form-plan').textContent = p.name;
    $('form-load').textContent = p.load || '';
    const vars = $('form-vars');
    vars.textContent = '';
    for (const v of p.variables || []) {
      const input = el('input', { name: 'var.' + v.name, placeholder: v.sensitive ? '(sensitive: set it here or in the environment)' : v.default });
      if (v.sensitive) input.type = 'password';
      vars.append(el('label', { title: v.description || '' }, (v.name === 'host' ? 'Host (var.host)' : 'var.' + v.name), input));
    }
    const sc = $('form-scenarios');
    sc.textContent = '';
    sc.append(el('legend', { text: 'Scenarios (none ticked runs all)' }));
    for (const name of p.scenarios || []) {
      sc.append(el('label', {}, el('input', { type: 'checkbox', name: 'scenario', value: name }), ' ' + name));
    }
    $('form-error').hidden = true;
  }

  $('start-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const p = ui.selected;
    if (!p) return;
    const form = e.target;
    const req = { plan: p.path, vars: {}, vus: Number(form.vus.value) || 0, duration: form.duration.value.trim(), scenarios: [] };
    for (const input of form.querySelectorAll('#form-vars input')) {
      if (input.value.trim() !== '') req.vars[input.name.slice(4)] = input.value.trim();
    }
    for (const c of form.querySelectorAll('input[name=scenario]:checked')) req.scenarios.push(c.value);
    $('start').disabled = true;
    post('/api/start', JSON.stringify(req), true).then((r) => {
      if (r.ok) { $('form-error').hidden = true; return; }
      return r.text().then((t) => { $('form-error').textContent = t; $('form-error').hidden = false; $('start').disabled = false; });
    });
  });

  connect();
})();
