// The review page: the map, the selected workload's tables, the policies
// panel and the save button. The server computes every policy; the page
// only holds the edits (unticked edges, added rules, chosen selectors) and
// sends them with each request.
//
// Every change of the edits (or of the selected workload) is a revision.
// The panel and the map's colours show one answer of the server at a time,
// and only the latest revision's: an earlier request still in flight is
// aborted, and an answer for another revision than the latest is dropped.
// The body's data-revision is the latest revision, data-shown the one the
// panel and the map show; they are equal when the page has settled.
import './style.css';
import { createMap } from './map.js';

const token = new URLSearchParams(location.search).get('token') || '';
const $ = (id) => document.getElementById(id);

const state = {
  model: null,
  byNode: new Map(), // node id -> {ingress: [edge], egress: [edge]}
  unticked: new Set(),
  excluded: new Set(), // as the server says, for the edits
  allow: [],
  selectors: {},
  selected: '',
  view: 'selected',
  preview: null,
  map: null,
  revision: 0,
};

async function api(path, body, signal) {
  const init = { headers: { 'X-Flowpol-Token': token }, signal };
  if (body !== undefined) {
    init.method = 'POST';
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return answer(await fetch(path, init));
}

// answer reads a response's JSON, or throws the error it gives.
async function answer(r) {
  const data = await r.json().catch(() => ({ error: `${r.status} ${r.statusText}` }));
  if (!r.ok) throw new Error(data.error || `${r.status} ${r.statusText}`);
  return data;
}

// firstModel is the model the page starts from, which index.html asks for
// before the script has loaded (the cookie the page's address set carries
// the token): a request of the same kind, without headers, takes that
// answer.
async function firstModel() {
  return answer(await fetch('api/model'));
}

function status(text, error = false) {
  $('status').textContent = text;
  $('status').className = error ? 'error' : '';
}

function edits() {
  return {
    unticked: [...state.unticked].sort((a, b) => a - b),
    allow: state.allow,
    selectors: state.selectors,
    workload: state.selected && state.byNode.get(state.selected)?.workload ? state.selected : '',
    // Every policy's YAML is megabytes at thousands of workloads: asked
    // for only while the All tab is open.
    all: state.view === 'all',
  };
}

function index(model) {
  state.byNode = new Map();
  for (const n of model.nodes) state.byNode.set(n.id, { node: n, workload: n.kind === 'workload', ingress: [], egress: [] });
  for (const e of model.edges) {
    state.byNode.get(e.src).egress.push(e);
    state.byNode.get(e.dst).ingress.push(e);
  }
  state.unticked = new Set(model.edges.filter((e) => e.excludedBy).map((e) => e.id));
  state.excluded = new Set(state.unticked);
  state.allow = [];
  state.selectors = {};
}

async function load() {
  status('loading…');
  const model = await firstModel();
  performance.mark('model');
  state.model = model;
  index(model);
  $('window').textContent = `window ${model.from} to ${model.to}`;
  fillFilters(model);
  performance.mark('filters');
  $('save').disabled = !model.overrides;
  $('save').title = model.overrides ? `write the edits to ${model.overrides}` : 'start flowpol ui with --overrides FILE to save';
  $('tab-diff').hidden = !model.havePolicies;
  document.body.dataset.revision = String(state.revision);
  state.map = createMap($('map'), model, {
    onSelect: (id) => select(id),
    isRed: (e) => state.excluded.has(e.id) || !!e.denied,
  });
  performance.mark('map');
  await state.map.ready;
  // For the first-paint benchmark: from the start of navigation until the
  // map is drawn and Save overrides can be used; then until the Policies
  // panel has the server's answer too.
  performance.mark('usable');
  document.body.dataset.usableMs = String(Math.round(performance.now()));
  fillSearch(model);
  // The policies are asked for once the map is drawn: the server's
  // generating them meanwhile would take the CPU the page needs to draw.
  await refresh();
  status(`${model.nodes.length} ends, ${model.edges.length} edges`);
  performance.mark('policies');
  document.body.dataset.readyMs = String(Math.round(performance.now()));
  document.body.dataset.ready = 'true';
}

function fillFilters(model) {
  const groups = [...new Set(model.nodes.map((n) => n.group))].sort();
  for (const g of groups) $('namespace').append(new Option(g, g));
}

// fillSearch gives the search its suggestions, one per end: thousands of
// options, made once the map is drawn.
function fillSearch(model) {
  $('workloads').replaceChildren(...model.nodes.map((n) => new Option(n.id)));
}

function select(id) {
  if (show(id)) edited();
}

// show fills the tables for an end, without asking for policies.
function show(id) {
  const entry = state.byNode.get(id);
  if (!entry) return false;
  state.selected = id;
  state.map.highlight(id);
  $('selected').textContent = id;
  renderSelector(entry);
  renderTable($('ingress'), entry.ingress, 'src');
  renderTable($('egress'), entry.egress, 'dst');
  renderAllows();
  $('allowform').hidden = !entry.workload;
  return true;
}

const columns = ['allow', 'peer', 'port', 'connections', 'first seen', 'last seen', 'pods', 'nodes', 'processes', 'policies there'];

function renderTable(table, edges, peerSide) {
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const c of columns) head.append(Object.assign(document.createElement('th'), { textContent: c }));
  const body = table.createTBody();
  if (edges.length === 0) {
    const td = body.insertRow().insertCell();
    td.colSpan = columns.length;
    td.textContent = 'none observed';
    td.className = 'muted';
  }
  for (const e of edges) body.append(edgeRow(e, peerSide));
}

function edgeRow(e, peerSide) {
  const tr = document.createElement('tr');
  tr.dataset.edge = e.id;
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.checked = !state.unticked.has(e.id);
  box.setAttribute('aria-label', e.label);
  box.disabled = !!e.fixed;
  if (e.fixed) box.title = e.fixed;
  box.addEventListener('change', () => {
    if (box.checked) state.unticked.delete(e.id);
    else state.unticked.add(e.id);
    edited();
  });
  const cells = [
    box,
    e[peerSide],
    `${e.port}/${e.proto}`,
    String(e.count),
    when(e.first),
    when(e.last),
    `${e.srcPods}→${e.dstPods}`,
    (e.nodes || []).join(', ') || '-',
    `${(e.srcComms || []).join(',') || '-'} → ${(e.dstComms || []).join(',') || '-'}`,
    e.denied || '-',
  ];
  cells.forEach((c, i) => {
    const td = tr.insertCell();
    if (i === 1) td.className = 'peer';
    if (typeof c === 'string') td.textContent = c;
    else td.append(c);
  });
  markRow(tr, e);
  return tr;
}

// when is a time as the tables show it: to the second, in UTC.
function when(t) {
  return t.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function markRow(tr, e) {
  tr.classList.toggle('excluded', state.excluded.has(e.id));
  tr.classList.toggle('denied', !!e.denied);
}

function renderSelector(entry) {
  const box = $('selector');
  box.replaceChildren();
  if (!entry.workload) return;
  const n = entry.node;
  const chosen = state.selectors[n.id];
  const labels = chosen || n.selector || {};
  const text = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
  const p = document.createElement('p');
  p.textContent = `selector: ${text || 'none (no stable labels)'}`;
  if (n.overlaps?.length) p.textContent += ` — also selects ${n.overlaps.join(', ')}`;
  box.append(p);
  if (!n.ambiguous && !chosen) return;
  const input = Object.assign(document.createElement('input'), { value: text, placeholder: 'app=name,tier=web' });
  input.setAttribute('aria-label', 'Selector labels');
  const button = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Use selector' });
  button.addEventListener('click', () => {
    const labels = {};
    for (const part of input.value.split(',').map((s) => s.trim()).filter(Boolean)) {
      const [k, ...v] = part.split('=');
      labels[k.trim()] = v.join('=').trim();
    }
    if (Object.keys(labels).length) state.selectors[n.id] = labels;
    else delete state.selectors[n.id];
    renderSelector(entry);
    edited();
  });
  box.append(input, button);
}

function renderAllows() {
  const ul = $('allows');
  ul.replaceChildren();
  const mine = (a) => a.workload.namespace + '/' + a.workload.kind + '/' + a.workload.name === state.selected;
  const text = (a) => `${a.ingress ? 'ingress from' : 'egress to'} ${a.peer} on ${(a.ports || []).join(', ') || 'every port'}`;
  for (const a of (state.model.allow || []).filter(mine)) {
    ul.append(Object.assign(document.createElement('li'), { textContent: `${text(a)} (${state.model.overrides}:${a.line})` }));
  }
  state.allow.forEach((a, i) => {
    if (!mine(a)) return;
    const li = Object.assign(document.createElement('li'), { textContent: text(a) + ' (new) ' });
    const rm = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Remove' });
    rm.setAttribute('aria-label', `Remove ${text(a)}`);
    rm.addEventListener('click', () => {
      state.allow.splice(i, 1);
      renderAllows();
      edited();
    });
    li.append(rm);
    ul.append(li);
  });
}

$('allowform').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const [namespace, kind, name] = state.selected.split('/');
  const ports = $('allowports').value.split(',').map((s) => s.trim()).filter(Boolean);
  state.allow.push({ workload: { namespace, kind, name }, ingress: $('allowdir').value === 'ingress', peer: $('allowpeer').value.trim(), ports });
  $('allowpeer').value = '';
  $('allowports').value = '';
  renderAllows();
  edited();
});

// edited starts a new revision and asks for its policies, once the
// person has stopped clicking for a moment.
function edited() {
  state.revision++;
  document.body.dataset.revision = String(state.revision);
  clearTimeout(timer);
  timer = setTimeout(refresh, 120);
}

let timer = 0;
let inflight = null;

// refresh asks the server for the policies of the latest revision, and
// shows them and what they exclude, unless the edits changed meanwhile.
async function refresh() {
  clearTimeout(timer);
  const revision = state.revision;
  inflight?.abort();
  const ctl = new AbortController();
  inflight = ctl;
  try {
    const body = edits();
    const p = await api('api/preview', body, ctl.signal);
    p.withAll = body.all;
    if (revision === state.revision) showPreview(p, revision);
  } catch (err) {
    if (!ctl.signal.aborted && revision === state.revision) status(err.message, true);
  } finally {
    if (inflight === ctl) inflight = null;
  }
}

function showPreview(p, revision) {
  state.preview = p;
  state.excluded = new Set(p.excluded || []);
  state.map.recolor();
  for (const tr of document.querySelectorAll('tr[data-edge]')) markRow(tr, state.model.edges[tr.dataset.edge]);
  $('warnings').textContent = `${p.policies} policies` + (p.warnings?.length ? ` — ${p.warnings.join('; ')}` : '');
  showView();
  if ($('status').className === 'error') status('');
  document.body.dataset.shown = String(revision);
}

function showView() {
  const p = state.preview;
  if (!p) return;
  const all = p.withAll ? p.all : '# loading every policy…\n';
  const text = { selected: p.selected || (state.selected ? '# no policy for this workload\n' : '# select a workload\n'), all, diff: p.diff };
  $('yaml').textContent = text[state.view] || '';
  for (const t of document.querySelectorAll('[role=tab]')) t.setAttribute('aria-selected', String(t.dataset.view === state.view));
}

for (const t of document.querySelectorAll('[role=tab]')) {
  t.addEventListener('click', () => {
    state.view = t.dataset.view;
    showView();
    // The answer shown lacks every policy's YAML: ask again, for the same
    // revision, with it.
    if (state.view === 'all' && state.preview && !state.preview.withAll) refresh();
  });
}

// Saving writes the edits, reads the model back (the file now has them),
// and shows the policies of the file as written: one revision, asked for
// at once, so that "saved" is said when the panel shows what was saved.
$('save').addEventListener('click', async () => {
  $('save').disabled = true;
  try {
    clearTimeout(timer);
    const r = await api('api/save', edits());
    const selected = state.selected;
    state.model = await api('api/model');
    index(state.model);
    if (selected) show(selected);
    state.revision++;
    document.body.dataset.revision = String(state.revision);
    await refresh();
    status(`saved ${r.file} (${r.bytes} bytes)`);
  } catch (err) {
    status(`not saved: ${err.message}`, true);
  } finally {
    $('save').disabled = !state.model.overrides;
  }
});

$('namespace').addEventListener('change', () => state.map.filter($('namespace').value));
$('search').addEventListener('change', () => {
  const id = $('search').value.trim();
  if (state.byNode.has(id)) {
    select(id);
    state.map.focus(id);
    return;
  }
  const hit = state.model.nodes.find((n) => n.id.includes(id));
  if (hit) {
    select(hit.id);
    state.map.focus(hit.id);
  }
});

load().catch((err) => status(`cannot load: ${err.message}`, true));
