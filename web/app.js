// SPDX-License-Identifier: Apache-2.0
// The explorer: reads the JSON API of the server that serves it and draws the
// answers. Plain DOM, no library; every text from the API goes through
// textContent, never markup. State lives after the # (#model=ns/name&policy=usage)
// so a view can be shared and the back button works.
'use strict';

const SVG_NS = 'http://www.w3.org/2000/svg';
const FAMILY_PAGE = 25;
const SEARCH_PAGE = 50;

// view counts the views opened: an answer that arrives after the person moved on
// (another model, another policy) is dropped instead of overwriting the newer one.
const state = { model: null, policy: 'usage', familyCursor: null, searchCursor: null, query: '', view: 0 };

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-') || k.startsWith('aria-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) node.append(c instanceof Node ? c : String(c));
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  return node;
}

// Four significant figures, as the page shows every figure; the browser test
// formats the API's numbers the same way.
function fmt(x) {
  if (x === null || x === undefined) return '—';
  return Number(Number(x).toPrecision(4)).toLocaleString('en-US', { maximumFractionDigits: 20 });
}

function fmtRange(r, unit) {
  if (!r) return '—';
  return `${fmt(r.value)} ${unit} (${fmt(r.low)}–${fmt(r.high)})`;
}

// A figure cell: the text a person reads, with the exact central value beside
// it in data-value for whoever checks the page against the API.
function setFigure(node, range, unit) {
  node.textContent = range ? fmtRange(range, unit) : '—';
  node.dataset.value = range ? String(range.value) : '';
}

function modelPath(id) {
  return '/v1/models/' + id.split('/').map(encodeURIComponent).join('/');
}

async function api(path, options) {
  const answer = await fetch(path, Object.assign({ headers: { Accept: 'application/json' } }, options));
  const body = await answer.json().catch(() => null);
  if (!answer.ok) {
    const detail = body && (body.detail || body.title);
    throw new Error(detail || `${answer.status} ${answer.statusText}`);
  }
  return body;
}

/* ---- search ---- */

// The server finds models by the start of their id (?q=, over its index of ids,
// so a search stays one page of reads on any ledger); an exact id opens directly.
async function search(query, more) {
  const status = $('search-status');
  const list = $('search-results');
  if (!more) {
    list.replaceChildren();
    state.searchCursor = null;
    state.query = query;
  }
  status.textContent = 'Searching…';
  try {
    if (query.includes('/') && !more) {
      const model = await api(modelPath(query)).catch(() => null);
      if (model) {
        addResult(model.id);
        status.textContent = '1 model found.';
        return 1;
      }
    }
    if (query && !/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]*)?$/.test(query)) {
      status.textContent = 'A model id holds only letters, digits, . _ - and one /.';
      $('search-more').hidden = true;
      return 0;
    }
    const params = new URLSearchParams({ limit: String(SEARCH_PAGE) });
    if (query) params.set('q', query);
    if (state.searchCursor) params.set('cursor', state.searchCursor);
    const page = await api('/v1/models?' + params);
    for (const m of page.items) addResult(m.id);
    state.searchCursor = page.next_cursor;
    $('search-more').hidden = !page.next_cursor;
    const total = list.children.length;
    status.textContent = total ? `${total} model${total === 1 ? '' : 's'} found${page.next_cursor ? ' so far' : ''}.` : 'No model matches.';
    return page.items.length;
  } catch (e) {
    status.textContent = 'Search failed: ' + e.message;
  }
}

function addResult(id) {
  const button = el('button', { type: 'button', class: 'link' }, id);
  button.addEventListener('click', () => openModel(id, state.policy));
  $('search-results').append(el('li', {}, button));
}

/* ---- one model ---- */

function openModel(id, policy) {
  const hash = '#' + new URLSearchParams({ model: id, policy }).toString();
  if (location.hash !== hash) location.hash = hash;
  else render();
}

async function render() {
  const params = new URLSearchParams(location.hash.slice(1));
  const id = params.get('model');
  const policy = ['none', 'equal', 'usage'].includes(params.get('policy')) ? params.get('policy') : 'usage';
  if (!id) {
    $('model').hidden = true;
    return;
  }
  const changedModel = id !== state.model;
  state.view++;
  state.model = id;
  state.policy = policy;
  $('model').hidden = false;
  $('model-id').textContent = id;
  for (const radio of document.querySelectorAll('input[name="policy"]')) radio.checked = radio.value === policy;
  document.title = `${id} — carbontree explorer`;
  const tasks = [showFootprint(id, policy), showFamily(id, policy, false)];
  if (changedModel) tasks.push(showChart(id));
  await Promise.all(tasks);
  if (changedModel) $('model-heading').focus();
}

async function showFootprint(id, policy) {
  const figures = $('figures');
  figures.setAttribute('aria-busy', 'true');
  try {
    const view = state.view;
    const fp = await api(`${modelPath(id)}/footprint?policy=${policy}`);
    if (view !== state.view) return;
    setFigure($('fig-own'), fp.own_co2e_kg, 'kg');
    setFigure($('fig-inherited'), fp.inherited_co2e_kg, 'kg');
    setFigure($('fig-inference'), fp.inference_co2e_kg, 'kg');
    setFigure($('fig-total'), fp.total_co2e_kg, 'kg');
    setFigure($('fig-per-inference'), fp.co2e_g_per_inference, 'g');
    $('fig-inferences').textContent = fp.inferences.toLocaleString('en-US');
    $('fig-inferences').dataset.value = String(fp.inferences);
    const body = $('allocations').tBodies[0];
    body.replaceChildren();
    for (const a of fp.allocations) {
      body.append(el('tr', {},
        el('td', { class: 'text' }, a.source),
        el('td', {}, fmt(a.source_co2e_kg.value) + ' kg'),
        el('td', { 'data-value': String(a.share) }, fmt(a.share * 100) + ' %' + (a.usage_fallback ? ' (equal: no inferences yet)' : '')),
        el('td', { 'data-value': String(a.co2e_kg.value) }, fmt(a.co2e_kg.value) + ' kg'),
        el('td', {}, a.family_size.toLocaleString('en-US'))));
    }
    showProvenance(fp);
  } catch (e) {
    $('fig-total').textContent = 'Unavailable: ' + e.message;
  } finally {
    figures.removeAttribute('aria-busy');
  }
}

function showProvenance(fp) {
  const dl = el('dl');
  const row = (term, text) => dl.append(el('dt', {}, term), el('dd', {}, text));
  row('Methodology', `version ${fp.methodology_version} (formulas, constants and sources in /v1/methodology)`);
  row('Policy', fp.policy + (fp.usage_fallback ? '; some family had no inferences, so usage fell back to equal shares' : ''));
  row('Own emissions', 'the activities recorded for this model (measured, reported on its card, or estimated)');
  row('Lineage energy', fmtRange(fp.lineage_energy_kwh, 'kWh'));
  const p = fp.inference_profile;
  if (p) {
    const ci = p.carbon_intensity || {};
    const kg = ci.kg_per_kwh ? `${fmt(ci.kg_per_kwh.value)} kg/kWh` : 'unknown';
    const where = ci.location ? ` in ${ci.location}` : '';
    const table = ci.table ? `, ${ci.table}${ci.year ? ' (' + ci.year + ')' : ''}` : '';
    const intensity = `${kg}${where}${ci.source ? ' from the ' + ci.source : ''}${table}`;
    row('Inference profile', `${p.source} per ${p.unit}, from ${p.from_model}`);
    row('Energy per inference', fmtRange(p.energy_kwh_per_inference_used, 'kWh'));
    row('Grid carbon intensity', intensity);
  } else {
    row('Inference profile', 'none: inference emissions are not counted');
  }
  $('provenance').replaceChildren(dl);
}

/* ---- the family, one page at a time ---- */

async function showFamily(id, policy, more) {
  const body = $('family').tBodies[0];
  if (!more) {
    body.replaceChildren();
    state.familyCursor = null;
  }
  const params = new URLSearchParams({ policy, limit: String(FAMILY_PAGE) });
  if (more && state.familyCursor) params.set('cursor', state.familyCursor);
  $('family-summary').textContent = 'Loading the family…';
  try {
    const view = state.view;
    const page = await api(`${modelPath(id)}/family?${params}`);
    if (view !== state.view) return;
    for (const m of page.items) body.append(familyRow(page.model, m));
    state.familyCursor = page.next_cursor;
    $('family-more').hidden = !page.next_cursor;
    const d = page.sharing_dividend;
    const saved = d && d.avoided_co2e_kg ? `; sharing avoided ${fmt(d.avoided_co2e_kg.value)} kg` : '';
    $('family-summary').textContent = `${page.family_size.toLocaleString('en-US')} members; ${body.rows.length} shown${saved}.`;
  } catch (e) {
    $('family-summary').textContent = 'Family unavailable: ' + e.message;
  }
}

function familyRow(root, m) {
  const fp = m.footprint;
  const own = fp.allocations.find((a) => a.source === root);
  const open = el('button', { type: 'button', class: 'link' }, m.id);
  open.addEventListener('click', () => openModel(m.id, state.policy));
  const member = el('td', { class: 'member' }, open);
  member.style.paddingLeft = `${0.5 + Math.min(m.depth, 16) * 1.25}rem`;
  const cell = (r, unit) => el('td', { 'data-value': r ? String(r.value) : '' }, r ? `${fmt(r.value)} ${unit}` : '—');
  return el('tr', { 'data-model': m.id },
    member,
    el('td', { class: 'text' }, m.parents.map((p) => p.id).join(', ') || '—'),
    cell(fp.own_co2e_kg, 'kg'),
    cell(fp.inherited_co2e_kg, 'kg'),
    cell(fp.inference_co2e_kg, 'kg'),
    el('td', { 'data-value': own ? String(own.share) : '' }, own ? fmt(own.share * 100) + ' %' : '—'),
    cell(fp.co2e_g_per_inference, 'g'));
}

/* ---- the daily series ---- */

// The one place the chart gets its data: [{date, inferences, co2e_kg}]. The
// inference counts come from …/inferences (the last 90 days); CO2e is each day's
// count times the footprint's CO2e of one inference.
async function loadSeries(id) {
  const to = new Date();
  const from = new Date(to.getTime() - 89 * 86400000);
  const day = (d) => d.toISOString().slice(0, 10);
  const [series, fp] = await Promise.all([
    api(`${modelPath(id)}/inferences?from=${day(from)}&to=${day(to)}`),
    api(`${modelPath(id)}/footprint?policy=none`),
  ]);
  const inferenceKg = fp.inference_co2e_kg ? fp.inference_co2e_kg.value : 0;
  const gEach = fp.inferences > 0 ? (inferenceKg * 1000) / fp.inferences : 0;
  return series.days.map((d) => ({ date: d.date, inferences: d.count, co2e_kg: (d.count * gEach) / 1000 }));
}

async function showChart(id) {
  const box = $('chart');
  try {
    const days = await loadSeries(id);
    if (id === state.model) drawChart(box, days); // the series does not depend on the policy
  } catch (e) {
    box.replaceChildren();
    $('chart-summary').textContent = 'No series: ' + e.message;
  }
}

function drawChart(box, days) {
  const W = 720, H = 220, L = 56, R = 56, T = 12, B = 28;
  const maxN = Math.max(1, ...days.map((d) => d.inferences));
  const maxKg = Math.max(1e-12, ...days.map((d) => d.co2e_kg));
  const x = (i) => L + ((W - L - R) * i) / Math.max(1, days.length);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, 'aria-hidden': 'true', focusable: 'false' });
  root.append(svg('line', { class: 'axis', x1: L, y1: H - B, x2: W - R, y2: H - B }));
  const bars = svg('g', { class: 'bars' });
  const bw = Math.max(1, (W - L - R) / Math.max(1, days.length) - 1);
  let path = '';
  days.forEach((d, i) => {
    const h = ((H - T - B) * d.inferences) / maxN;
    bars.append(svg('rect', { x: x(i), y: H - B - h, width: bw, height: h }));
    const y = H - B - ((H - T - B) * d.co2e_kg) / maxKg;
    path += `${i ? 'L' : 'M'}${x(i) + bw / 2},${y}`;
  });
  root.append(bars);
  if (path) root.append(svg('path', { class: 'line', d: path }));
  const label = (tx, ty, text, anchor) => {
    const t = svg('text', { x: tx, y: ty, 'text-anchor': anchor });
    t.textContent = text;
    root.append(t);
  };
  label(L - 4, T + 8, fmt(maxN), 'end');
  label(W - R + 4, T + 8, fmt(maxKg) + ' kg', 'start');
  if (days.length) {
    label(L, H - 8, days[0].date, 'start');
    label(W - R, H - 8, days[days.length - 1].date, 'end');
  }
  box.replaceChildren(root);
  const n = days.reduce((s, d) => s + d.inferences, 0);
  const kg = days.reduce((s, d) => s + d.co2e_kg, 0);
  $('chart-summary').textContent = days.length
    ? `${days[0].date} to ${days[days.length - 1].date}: ${n.toLocaleString('en-US')} inferences (bars), ${fmt(kg)} kg CO2e (line).`
    : 'No inferences in the last 90 days.';
}

/* ---- compare ---- */

async function compare(other) {
  const out = $('compare-result');
  out.textContent = 'Comparing…';
  try {
    const c = await api('/v1/compare', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ a: { model: state.model }, b: { model: other }, policy: state.policy }),
    });
    const k = c.crossover.kind;
    const text = {
      equal: 'Both emit the same at every volume.',
      a_always_cleaner: `${state.model} is cleaner at every volume.`,
      b_always_cleaner: `${other} is cleaner at every volume.`,
      b_cleaner_beyond: `${state.model} is cleaner below ${fmt(c.crossover.volume)} inferences, ${other} beyond.`,
      a_cleaner_beyond: `${other} is cleaner below ${fmt(c.crossover.volume)} inferences, ${state.model} beyond.`,
    }[k];
    out.textContent = text || k;
    out.dataset.value = c.crossover.volume === null ? '' : String(c.crossover.volume);
  } catch (e) {
    out.textContent = 'Cannot compare: ' + e.message;
  }
}

/* ---- theme ---- */

function applyTheme(theme) {
  const dark = theme ? theme === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  const toggle = $('theme-toggle');
  toggle.setAttribute('aria-pressed', String(dark));
}

function init() {
  let saved = null;
  try { saved = localStorage.getItem('carbontree-theme'); } catch (e) { /* storage may be off */ }
  applyTheme(saved);
  $('theme-toggle').addEventListener('click', () => {
    const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
    try { localStorage.setItem('carbontree-theme', next); } catch (e) { /* storage may be off */ }
    applyTheme(next);
  });
  $('model-heading').tabIndex = -1;
  $('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    search($('search-input').value.trim(), false);
  });
  $('search-more').addEventListener('click', () => search(state.query, true));
  for (const radio of document.querySelectorAll('input[name="policy"]')) {
    radio.addEventListener('change', () => {
      if (radio.checked && state.model) openModel(state.model, radio.value);
    });
  }
  $('family-more').addEventListener('click', () => showFamily(state.model, state.policy, true));
  $('compare-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const other = $('compare-input').value.trim();
    if (other) compare(other);
  });
  addEventListener('hashchange', render);
  render();
  search('', false);
}

document.addEventListener('DOMContentLoaded', init);
