// view.js renders a loadplan View (internal/webview's JSON) into an element: the verdict, the
// thresholds, the per-step table, checks, errors, variables and the over-time charts (uPlot,
// embedded beside this file). Used by the live web UI (update() on every event) and by the
// self-contained HTML report (render() once). Loads nothing; writes text with textContent only,
// so a step or check name can never become markup.
//
//   window.loadplanView.render(el, view)  builds the page in el
//   window.loadplanView.update(el, view)  refreshes it with a newer view (keeps the selection)
//   window.loadplanView.charts(el)        the uPlot instances, for tests: [{title, data}]
(function () {
  'use strict';

  function h(tag, attrs, kids) {
    const e = document.createElement(tag);
    if (attrs) for (const k in attrs) {
      if (attrs[k] == null) continue;
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'cls') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach((c) => { if (c != null) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }

  function ms(v) {
    if (v == null) return '-';
    if (v >= 1000) return (v / 1000).toFixed(v >= 10000 ? 1 : 2) + ' s';
    if (v >= 100) return v.toFixed(0) + ' ms';
    if (v >= 1) return v.toFixed(1) + ' ms';
    return v.toFixed(3) + ' ms';
  }
  function num(v, d) {
    if (v == null || isNaN(v)) return '-';
    return Number(v).toLocaleString('en-US', { maximumFractionDigits: d == null ? 2 : d });
  }
  function bytes(v) {
    if (v == null) return '-';
    const u = ['B', 'kB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (v >= 1000 && i < u.length - 1) { v /= 1000; i++; }
    return (i ? v.toFixed(1) : v.toFixed(0)) + ' ' + u[i];
  }
  function dur(s) {
    s = Math.max(0, Math.round(s || 0));
    const m = Math.floor(s / 60), r = s % 60;
    return m >= 60 ? Math.floor(m / 60) + 'h' + String(m % 60).padStart(2, '0') + 'm' : m + 'm' + String(r).padStart(2, '0') + 's';
  }

  // table builds a table; the first `text` columns (default 1) are text, the others numbers.
  function table(cls, head, rows, text) {
    text = text || 1;
    const t = h('table', { cls: 'lp-table ' + (cls || '') });
    t.appendChild(h('thead', null, [h('tr', null, head.map((c, i) => h('th', { text: c, cls: i >= text ? 'num' : null })))]));
    const b = h('tbody');
    rows.forEach((r) => {
      const tr = h('tr', r.cls ? { cls: r.cls } : null);
      r.cells.forEach((c, i) => tr.appendChild(h('td', { text: c == null ? '' : String(c), cls: i >= text ? 'num' : null })));
      b.appendChild(tr);
    });
    t.appendChild(b);
    return t;
  }

  function section(title, body, id) {
    return h('section', { cls: 'lp-section', id: id }, [h('h2', { text: title }), body]);
  }

  function header(v) {
    const m = v.meta;
    const cls = !m.final ? (m.pass ? 'running' : 'failing') : (m.verdict === 0 ? 'pass' : 'fail');
    const verdict = h('div', { cls: 'lp-verdict ' + cls, id: 'lp-verdict' }, [
      h('span', { cls: 'lp-badge', text: m.final ? (m.verdict === 0 ? 'PASS' : 'FAIL') : (m.phase || 'running').toUpperCase() }),
      // live, the badge is the phase; the status says it again only when it says more
      h('span', { cls: 'lp-status', text: m.final ? m.status + ' · exit ' + m.verdict :
        (String(m.status || '').toLowerCase() === String(m.phase || 'running').toLowerCase() ? '' : m.status) }),
    ]);
    const facts = [
      ['plan', m.plan + (m.planFile ? ' (' + m.planFile + ')' : '')],
      ['start', m.start ? m.start.replace('T', ' ').replace('Z', ' UTC') : '-'],
      ['end', m.end ? m.end.replace('T', ' ').replace('Z', ' UTC') : (m.final ? '-' : 'running')],
      ['elapsed', dur(m.elapsed)],
      ['loadplan', m.version || 'dev'],
    ];
    if (m.segment) facts.push(['segment', m.segment]);
    const dl = h('dl', { cls: 'lp-facts' });
    facts.forEach((f) => { dl.appendChild(h('dt', { text: f[0] })); dl.appendChild(h('dd', { text: f[1] })); });
    return h('header', { cls: 'lp-header' }, [h('h1', { text: 'loadplan · ' + m.plan }), verdict, dl]);
  }

  function progress(v) {
    const p = v.progress;
    const frac = p.total > 0 ? Math.min(1, p.elapsed / p.total) : (v.meta.final ? 1 : 0);
    const bar = h('div', { cls: 'lp-bar' }, [h('div', { cls: 'lp-fill', style: 'width:' + (100 * frac).toFixed(1) + '%' })]);
    const txt = dur(p.elapsed) + (p.total ? ' of ' + dur(p.total) : '') +
      (p.stageCount ? ' · stage ' + p.stage + '/' + p.stageCount : '') + ' · ' + num(p.vus, 0) + ' VUs' +
      ' · ' + num(p.iterations, 0) + ' iterations' + (p.dropped ? ' · ' + num(p.dropped, 0) + ' dropped' : '');
    return h('div', { cls: 'lp-progress', id: 'lp-progress' }, [bar, h('span', { text: txt })]);
  }

  function totals(v) {
    const t = v.totals;
    const items = [
      ['requests', num(t.requests, 0), 'lp-total-requests'],
      ['failures', num(t.failures, 0) + (t.requests ? ' (' + (100 * t.failures / t.requests).toFixed(2) + '%)' : ''), 'lp-total-failures'],
      ['req/s', num(t.rps, 1)],
      ['iterations', num(t.iterations, 0)],
      ['checks', t.checks ? (100 * t.checksPassed / t.checks).toFixed(2) + '% of ' + num(t.checks, 0) : '-'],
      ['received', bytes(t.dataReceived)],
      ['sent', bytes(t.dataSent)],
    ];
    if (t.wsSessions) items.push(['ws sessions', num(t.wsSessions, 0)], ['ws frames', num(t.wsFrames, 0)]);
    return h('div', { cls: 'lp-totals' }, items.map((i) => h('div', { cls: 'lp-tile' }, [
      h('div', { cls: 'lp-tile-v', id: i[2] || null, text: i[1] }), h('div', { cls: 'lp-tile-k', text: i[0] })])));
  }

  function thresholds(v) {
    if (!v.thresholds.length) return h('p', { cls: 'lp-none', text: 'no thresholds' });
    return table('lp-thresholds', ['', 'threshold', 'conditions', 'observed', 'scope'], v.thresholds.map((t) => ({
      cls: t.skipped ? 'skip' : t.pass ? 'ok' : 'bad',
      cells: [t.skipped ? '–' : t.pass ? '✓' : '✗', t.name, t.conditions.join(', '), t.observed, (t.scope || '') + (t.aborted ? ' aborted the run' : '')],
    })), 5);
  }

  // comparison renders the run against its baseline (loadplan compare, apply --baseline): per
  // step and metric the baseline, the new value, the change, the test's p-value and the verdict.
  function comparison(v) {
    const c = v.comparison;
    const val = (m, x) => m === 'requests/s' ? num(x, 1) + '/s' : m === 'error rate' ? num(100 * x, 2) + '%' : ms(x);
    const rows = [];
    c.steps.forEach((st) => {
      if (!st.rows || !st.rows.length) {
        rows.push({ cls: 'bad', cells: [st.name, '', st.baseRequests + ' req', st.newRequests + ' req', '', '', st.verdict] });
        return;
      }
      st.rows.forEach((r, i) => rows.push({
        cls: r.verdict === 'regression' ? 'bad' : r.verdict === 'improvement' ? 'ok' : null,
        cells: [i ? '' : st.name, r.metric, val(r.metric, r.base), val(r.metric, r.new),
          (r.change >= 0 ? '+' : '') + num(100 * r.change, 1) + '%', num(r.p, 3), r.verdict],
      }));
    });
    const head = h('p', { cls: c.regressions && c.regressions.length ? 'lp-bad' : 'lp-ok',
      text: (c.regressions && c.regressions.length ? c.regressions.length + ' regression(s) beyond ' : 'no regression beyond ') +
        num(100 * c.tolerance, 1) + '% against ' + (c.base || []).join(' ') });
    return h('div', null, [head, table('lp-comparison', ['step', 'metric', 'baseline', 'new', 'change', 'p', 'verdict'], rows, 2)]);
  }

  function steps(v) {
    const http = v.steps.filter((s) => s.kind !== 'ws'), ws = v.steps.filter((s) => s.kind === 'ws');
    const out = h('div');
    if (http.length) {
      const rows = http.map((s) => ({
        cls: s.failures ? 'bad' : '',
        cells: [s.scenario + '/' + s.step, s.method || '', num(s.requests, 0), num(s.failures, 0), ms(s.median), ms(s.p90), ms(s.p95),
          ms(s.p99), ms(s.avg), ms(s.min), ms(s.max), s.avgSize == null ? '-' : bytes(s.avgSize), num(s.rps, 1),
          num(s.failuresPerSec, 1), num(s.currentRps, 1), num(s.currentFailuresPerSec, 1)],
      }));
      if (http.length > 1) {
        const sum = (k) => http.reduce((a, s) => a + (s[k] || 0), 0);
        rows.push({ cls: 'lp-sum', cells: ['total', '', num(sum('requests'), 0), num(sum('failures'), 0), '', '', '', '', '', '', '', '',
          num(sum('rps'), 1), num(sum('failuresPerSec'), 1), num(sum('currentRps'), 1), num(sum('currentFailuresPerSec'), 1)] });
      }
      out.appendChild(table('lp-steps', ['step', 'method', 'requests', 'failures', 'median', 'p90', 'p95', 'p99', 'avg', 'min', 'max',
        'avg size', 'req/s', 'fail/s', 'cur req/s', 'cur fail/s'], rows, 2));
    }
    if (ws.length) {
      out.appendChild(table('lp-ws', ['websocket step', 'sessions', 'frames sent', 'frames recv', 'expects', 'failed', 'median', 'p95', 'p99', 'max', 'expects/s'],
        ws.map((s) => ({ cls: s.failures ? 'bad' : '', cells: [s.scenario + '/' + s.step, num(s.sessions, 0), num(s.framesSent, 0),
          num(s.framesReceived, 0), num(s.requests, 0), num(s.failures, 0), ms(s.median), ms(s.p95), ms(s.p99), ms(s.max), num(s.rps, 1)] }))));
    }
    if (!http.length && !ws.length) out.appendChild(h('p', { cls: 'lp-none', text: 'no requests yet' }));
    return out;
  }

  function checks(v) {
    if (!v.checks.length) return h('p', { cls: 'lp-none', text: 'no checks' });
    return table('lp-checks', ['check', 'where', 'pass rate', 'passed', 'total'], v.checks.map((c) => ({
      cls: c.passes < c.total ? 'bad' : 'ok',
      cells: [c.name, c.scenario + '/' + c.step, (100 * c.rate).toFixed(2) + '%', num(c.passes, 0), num(c.total, 0)],
    })), 2);
  }

  function errors(v) {
    if (!v.errors.length) return h('p', { cls: 'lp-none', text: 'no errors' });
    return table('lp-errors', ['where', 'kind', 'count'], v.errors.map((e) => ({ cells: [e.where, e.kind, num(e.count, 0)] })), 2);
  }

  function vars(v) {
    const vs = v.meta.variables || [];
    if (!vs.length) return h('p', { cls: 'lp-none', text: 'no variables' });
    return table('lp-vars', ['variable', 'value'], vs.map((x) => ({ cells: [x.name, x.value] })), 2);
  }

  function notes(v) {
    if (!v.notes || !v.notes.length) return null;
    return h('ul', { cls: 'lp-notes' }, v.notes.map((n) => h('li', { text: n })));
  }

  // ---- charts ----

  const chartDefs = [
    { key: 'rps', title: 'Requests/s and failures/s', unit: '/s',
      cols: (s) => [['requests/s', s.rps, '#2f7ed8'], ['failures/s', s.failuresPerSec, '#d9534f']] },
    { key: 'lat', title: 'Latency (ms)', unit: 'ms',
      cols: (s) => [['p50', s.p50, '#5cb85c'], ['p95', s.p95, '#f0ad4e'], ['p99', s.p99, '#d9534f']] },
    { key: 'vus', title: 'Active VUs and iterations', unit: '',
      // VUs on their own axis (right): a few VUs beside thousands of iterations/s stay readable
      cols: (s, tl) => [['VUs', tl.vus, '#7b5ea7', 'vus'], ['iterations/s', tl.iterationsPerSec, '#2f7ed8'], ['dropped/s', tl.droppedPerSec, '#d9534f']] },
    { key: 'ws', title: 'WebSocket sessions/s and frames/s', unit: '/s', ws: true,
      cols: (s) => [['sessions/s', s.sessionsPerSec, '#2f7ed8'], ['frames/s', s.framesPerSec, '#5cb85c']] },
  ];

  function hasWS(v) { return v.steps.some((s) => s.kind === 'ws'); }

  function stageLines(v) {
    if (!v.meta.start || !v.stages.length) return [];
    const t0 = Date.parse(v.meta.start) / 1000;
    const xs = [];
    v.stages.forEach((s) => { if (s.index > 1) xs.push(t0 + s.start); });
    return xs;
  }

  function chartData(def, s, tl) {
    return [tl.t].concat(def.cols(s, tl).map((c) => c[1]));
  }

  function makeChart(box, def, s, tl, v, width) {
    const lines = stageLines(v);
    const opts = {
      title: def.title,
      width: width,
      height: 220,
      series: [{}].concat(def.cols(s, tl).map((c) => ({ label: c[0], stroke: c[2], width: 1.5, spanGaps: false, points: { show: false }, scale: c[3] || 'y' }))),
      axes: [{}, { size: 60 }].concat(def.cols(s, tl).some((c) => c[3]) ?
        [{ scale: def.cols(s, tl).find((c) => c[3])[3], side: 1, size: 50, grid: { show: false } }] : []),
      scales: { x: { time: true } },
      // UTC, like the start and end above: a reviewer elsewhere reads the same times
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
      hooks: {
        draw: [(u) => {
          const ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = '#999';
          ctx.setLineDash([4, 4]);
          lines.forEach((x) => {
            const px = u.valToPos(x, 'x', true);
            if (px < u.bbox.left || px > u.bbox.left + u.bbox.width) return;
            ctx.beginPath();
            ctx.moveTo(px, u.bbox.top);
            ctx.lineTo(px, u.bbox.top + u.bbox.height);
            ctx.stroke();
          });
          ctx.restore();
        }],
      },
    };
    return new uPlot(opts, chartData(def, s, tl), box);
  }

  function charts(el, v) {
    const st = el._lp;
    const wrap = st.chartBox;
    const tl = v.timeline;
    if (!tl || !tl.t || !tl.t.length) {
      if (!st.noData) {
        wrap.textContent = '';
        wrap.appendChild(h('p', { cls: 'lp-none', text: 'no data over time yet' }));
        st.noData = true;
      }
      return;
    }
    // the selector: all, each scenario, each step
    const names = tl.series.map((s) => s.name);
    if (!st.select || st.selNames !== names.join('\n')) {
      const sel = h('select', { id: 'lp-series' }, names.map((n) => h('option', { value: n, text: n })));
      if (st.selected && names.indexOf(st.selected) >= 0) sel.value = st.selected;
      sel.addEventListener('change', () => { st.selected = sel.value; charts(el, st.view); });
      st.selBox.textContent = '';
      st.selBox.appendChild(h('label', { text: 'series ' }, [sel]));
      st.select = sel;
      st.selNames = names.join('\n');
    }
    const s = tl.series.find((x) => x.name === st.select.value) || tl.series[0];
    const defs = chartDefs.filter((d) => !d.ws || hasWS(v));
    if (st.noData || !st.charts || st.charts.length !== defs.length || st.chartSel !== s.name) {
      st.charts && st.charts.forEach((c) => c.u.destroy());
      wrap.textContent = '';
      st.noData = false;
      const width = Math.max(320, Math.min(640, Math.floor((wrap.clientWidth || 1200) / 2) - 16));
      st.charts = defs.map((d) => {
        const box = h('div', { cls: 'lp-chart', 'data-chart': d.key });
        wrap.appendChild(box);
        return { def: d, u: makeChart(box, d, s, tl, v, width) };
      });
      st.chartSel = s.name;
    } else {
      st.charts.forEach((c) => c.u.setData(chartData(c.def, s, tl)));
    }
  }

  function fill(el, v) {
    const st = el._lp;
    st.view = v;
    const parts = st.parts;
    const set = (k, node) => { parts[k].textContent = ''; if (node) parts[k].appendChild(node); };
    set('header', header(v));
    set('progress', progress(v));
    set('notes', notes(v));
    set('totals', totals(v));
    set('thresholds', thresholds(v));
    set('steps', steps(v));
    set('checks', checks(v));
    set('errors', errors(v));
    set('vars', vars(v));
    if (parts.comparison && v.comparison) set('comparison', comparison(v));
    charts(el, v);
    el.setAttribute('data-final', v.meta.final ? 'true' : 'false');
  }

  function render(el, v) {
    el.textContent = '';
    el.classList.add('loadplan-view');
    const parts = {};
    ['header', 'progress', 'notes', 'totals'].forEach((k) => { parts[k] = h('div', { cls: 'lp-part-' + k }); el.appendChild(parts[k]); });
    const selBox = h('div', { cls: 'lp-select' });
    const chartBox = h('div', { cls: 'lp-charts', id: 'lp-charts' });
    el.appendChild(section('Over time', h('div', null, [selBox, chartBox]), 'lp-over-time'));
    [['thresholds', 'Thresholds'], ['steps', 'Requests'], ['checks', 'Checks'], ['errors', 'Errors'], ['vars', 'Variables']].forEach((p) => {
      parts[p[0]] = h('div');
      el.appendChild(section(p[1], parts[p[0]], 'lp-' + p[0]));
    });
    if (v.comparison) {
      parts.comparison = h('div');
      el.insertBefore(section('Comparison', parts.comparison, 'lp-comparison'), el.querySelector('#lp-thresholds'));
    }
    el._lp = { parts: parts, selBox: selBox, chartBox: chartBox };
    fill(el, v);
  }

  function update(el, v) {
    if (!el._lp) return render(el, v);
    fill(el, v);
  }

  function chartsOf(el) {
    const st = el._lp;
    if (!st || !st.charts) return [];
    return st.charts.map((c) => ({ key: c.def.key, title: c.def.title, data: c.u.data }));
  }

  window.loadplanView = { render: render, update: update, charts: chartsOf };
})();
