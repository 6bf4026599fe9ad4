// The review station's page: plain script, no framework and nothing from the internet (line PCs are often offline).
// Everything shown comes from /hmi/api/ (docs/hmi.md); live changes arrive as server-sent events. Words come from
// i18n.js (t, code), loaded first.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { user: null, queue: [], selected: null, events: null, cameras: new Map(), reloadQueue: null };
const dispositions = { c: 'confirmed', f: 'false-reject', r: 'rework' };
const label = (disposition) => t(`label.${disposition}`);

// Builds elements from text only: nothing received is ever parsed as HTML.
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, options = {}) {
  const init = { credentials: 'same-origin', headers: {}, ...options };
  if (options.json !== undefined) {
    init.method = init.method || 'POST';
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.json);
  }
  const response = await fetch('/hmi/api' + path, init);
  if (response.status === 401 && path !== '/login' && path !== '/me') { showLogin(); throw new Error(t('login.required')); }
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(problem(path, response, body));
  return body;
}

// What went wrong, in the operator's words where the page knows the case; else the daemon's own message (English).
function problem(path, response, body) {
  if (path === '/login' && response.status === 401) return t('login.wrong');
  if (path === '/login' && response.status === 429) return t('login.wait', { seconds: response.headers.get('Retry-After') || '60' });
  if (response.status === 503) return t('model.loading');
  return (body && body.error) || t('error.status', { status: response.status, text: response.statusText });
}

function toast(text, bad = false) {
  const t = $('toast');
  t.textContent = text;
  t.className = bad ? 'show bad' : 'show';
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.className = ''; }, 2500);
}

const time = (iso) => new Date(iso).toLocaleString();
const score = (value) => Number(value).toFixed(2);

function show(view) {
  for (const section of document.querySelectorAll('.view')) section.hidden = section.id !== view;
  for (const tab of document.querySelectorAll('.tab')) tab.classList.toggle('active', tab.dataset.view === view);
  if (view === 'history') searchHistory();
  if (view === 'engineering') loadEngineering();
}

function showLogin() {
  if (state.events) { state.events.close(); state.events = null; }
  $('tabs').hidden = true;
  $('logout').hidden = true;
  $('user').textContent = '';
  show('login');
  $('login-user').focus();
}

async function login(event) {
  event.preventDefault();
  $('login-error').textContent = '';
  try {
    const user = await api('/login', { json: { user: $('login-user').value, password: $('login-password').value } });
    $('login-password').value = '';
    start(user);
  } catch (e) {
    $('login-error').textContent = e.message;
  }
}

async function logout() {
  await api('/logout', { method: 'POST' });
  showLogin();
}

function start(user) {
  state.user = user;
  $('tabs').hidden = false;
  $('user').textContent = t('user', { name: user.name, role: code('role', user.role) });
  $('logout').hidden = !user.loginRequired;
  $('engineering-tab').hidden = user.role !== 'engineer';
  show('live');
  connect();
  loadQueue();
}

function connect() {
  if (state.events) state.events.close();
  const events = new EventSource('/hmi/api/events');
  state.events = events;
  events.addEventListener('hello', (e) => hello(JSON.parse(e.data)));
  events.addEventListener('verdict', (e) => verdict(JSON.parse(e.data)));
  events.addEventListener('camera', (e) => cameraState(JSON.parse(e.data)));
  events.addEventListener('stats', (e) => stats(JSON.parse(e.data)));
  events.addEventListener('queue', (e) => queueChanged(JSON.parse(e.data)));
  events.onerror = async () => {
    if (events.readyState !== EventSource.CLOSED) return; // the browser reconnects by itself
    setTimeout(async () => {
      try { await api('/me'); connect(); } catch { /* showLogin ran */ }
    }, 3000);
  };
}

function hello(h) {
  $('station').textContent = h.station;
  broker(h.brokerConnected);
  $('queue-count').textContent = h.queueLength;
  const grid = $('cameras');
  grid.replaceChildren();
  state.cameras.clear();
  const names = $('camera-names');
  names.replaceChildren(...h.cameras.map((c) => el('option', { value: c.name })));
  for (const c of h.cameras) {
    cameraCard(c.name);
    cameraState({ camera: c.name, state: c.state, reason: c.reason });
    if (c.latest) verdict(c.latest);
  }
}

function cameraCard(name) {
  if (state.cameras.has(name)) return state.cameras.get(name);
  const card = {
    image: el('img', { alt: t('camera.image', { camera: name }) }),
    state: el('span', { class: 'pill' }),
    verdict: el('span', { class: 'verdict' }, '–'),
    detail: el('span'),
    fps: el('span', { class: 'fps' }, '0 fps'),
  };
  card.root = el('article', { class: 'camera', 'data-camera': name }, card.image,
    el('div', { class: 'bar' }, el('span', { class: 'name' }, name), card.state, card.verdict, card.detail, card.fps));
  $('cameras').append(card.root);
  state.cameras.set(name, card);
  return card;
}

function verdict(v) {
  const card = cameraCard(v.camera);
  card.verdict.textContent = code('verdict', v.verdict);
  card.verdict.className = `verdict ${v.verdict}`;
  card.detail.textContent = `${v.predictedClass} ${score(v.defectScore)} · ${t('camera.regions', { count: v.regions })} · ${new Date(v.decidedAt).toLocaleTimeString()}`;
  if (v.hasImage) card.image.src = `/hmi/api/live/${encodeURIComponent(v.camera)}?v=${v.id}`;
}

function cameraState(s) {
  const card = cameraCard(s.camera);
  card.state.textContent = code('state', s.state);
  card.state.className = `pill state-${s.state}`;
  card.state.title = s.reason || '';
}

function stats(s) {
  broker(s.brokerConnected);
  $('queue-count').textContent = s.queueLength;
  for (const [camera, fps] of Object.entries(s.fps)) cameraCard(camera).fps.textContent = `${fps} fps`;
}

function broker(connected) {
  $('broker').textContent = t(connected ? 'broker.on' : 'broker.off');
  $('broker').className = connected ? 'pill on' : 'pill off';
}

function queueChanged(q) {
  $('queue-count').textContent = q.queueLength;
  // Several parts can arrive in a burst: reload once.
  clearTimeout(state.reloadQueue);
  state.reloadQueue = setTimeout(loadQueue, 150);
}

async function loadQueue() {
  const parts = await api('/queue?limit=200');
  state.queue = parts;
  const list = $('queue');
  list.replaceChildren(...parts.map((p) => el('li', { class: 'part', 'data-id': p.verdict.id, onclick: () => select(p.verdict.id) },
    el('img', { alt: '', src: partImage(p), loading: 'lazy' }),
    el('div', {},
      el('span', { class: `verdict ${p.verdict.verdict}` }, code('verdict', p.verdict.verdict)), ' ', score(p.verdict.defectScore),
      el('small', {}, `${p.verdict.camera} · ${p.verdict.partId || p.verdict.frameRef}`),
      el('small', {}, time(p.verdict.decidedAt))))));
  $('queue-count').textContent = parts.length;
  const keep = parts.find((p) => p.verdict.id === state.selected);
  select(keep ? keep.verdict.id : parts.length ? parts[0].verdict.id : null);
}

const partImage = (p) => `/hmi/api/parts/${p.verdict.id}/${p.hasOverlay ? 'overlay' : 'image'}`;

function select(id) {
  state.selected = id;
  for (const li of $('queue').children) li.classList.toggle('selected', li.dataset.id === id);
  const part = state.queue.find((p) => p.verdict.id === id);
  const detail = $('detail');
  if (!part) { detail.replaceChildren(el('p', { class: 'empty' }, t('queue.empty'))); return; }
  const v = part.verdict;
  const probabilities = Object.entries(v.probabilities).sort((a, b) => b[1] - a[1]).map(([k, p]) => `${k} ${score(p)}`).join(', ');
  const regions = v.regions.length
    ? v.regions.map((r, i) => t('part.region', { n: i + 1, width: r.box.width, height: r.box.height, x: r.box.x, y: r.box.y, score: score(r.score) }))
    : [t('part.none')];
  const comment = el('input', { id: 'comment', placeholder: t('part.comment'), maxlength: '500' });
  detail.replaceChildren(el('div', { class: 'layout', 'data-id': v.id },
    el('div', {},
      el('img', { id: 'overlay', alt: t('part.heatmap', { id: v.id }), src: partImage(part) }),
      el('div', { class: 'actions' }, ...Object.entries(dispositions).map(([key, d]) =>
        el('button', { type: 'button', id: d, onclick: () => decide(d) }, label(d), el('kbd', {}, key.toUpperCase())))),
      comment),
    el('dl', { class: 'facts' },
      el('dt', {}, t('fact.verdict')), el('dd', {}, el('span', { class: `verdict ${v.verdict}` }, code('verdict', v.verdict)),
        t('part.score', { score: score(v.defectScore), threshold: score(v.threshold) })),
      el('dt', {}, t('fact.class')), el('dd', {}, v.predictedClass),
      el('dt', {}, t('fact.probabilities')), el('dd', {}, probabilities),
      el('dt', {}, t('fact.regions')), el('dd', {}, ...regions.map((r) => el('div', {}, r))),
      el('dt', {}, t('fact.camera')), el('dd', {}, v.camera),
      el('dt', {}, t('fact.part')), el('dd', {}, v.partId || '–'),
      el('dt', {}, t('fact.frame')), el('dd', {}, v.frameRef),
      el('dt', {}, t('fact.decided')), el('dd', {}, time(v.decidedAt)),
      el('dt', {}, t('fact.model')), el('dd', {}, `${v.model.name} ${v.model.version}`),
      el('dt', {}, t('fact.explainer')), el('dd', {}, `${v.method} / ${v.layer}`),
      el('dt', {}, t('fact.id')), el('dd', {}, v.id))));
}

async function decide(disposition) {
  const id = state.selected;
  if (!id) return;
  const comment = ($('comment') && $('comment').value.trim()) || null;
  try {
    await api(`/parts/${id}/review`, { json: { disposition, comment } });
    toast(t('toast.recorded', { label: label(disposition) }));
    const index = state.queue.findIndex((p) => p.verdict.id === id);
    state.queue.splice(index, 1);
    const next = state.queue[Math.min(index, state.queue.length - 1)];
    state.selected = next ? next.verdict.id : null;
    await loadQueue();
  } catch (e) {
    toast(e.message, true);
    await loadQueue();
  }
}

function onKey(event) {
  if ($('review').hidden || event.target.tagName === 'INPUT' || event.ctrlKey || event.altKey || event.metaKey) return;
  const key = event.key.toLowerCase();
  if (dispositions[key]) { event.preventDefault(); decide(dispositions[key]); return; }
  const index = state.queue.findIndex((p) => p.verdict.id === state.selected);
  if (key === 'j' || key === 'arrowdown') select((state.queue[index + 1] || state.queue[index] || {}).verdict?.id ?? null);
  if (key === 'k' || key === 'arrowup') select((state.queue[index - 1] || state.queue[index] || {}).verdict?.id ?? null);
}

async function searchHistory(event) {
  if (event) event.preventDefault();
  const form = new FormData($('history-form'));
  const query = new URLSearchParams();
  for (const [key, value] of form) {
    if (!value) continue;
    query.set(key, key === 'from' || key === 'to' ? new Date(value).toISOString() : value);
  }
  try {
    const parts = await api('/history?' + query);
    $('history-rows').replaceChildren(...parts.map((p) => el('tr', { 'data-id': p.verdict.id },
      el('td', {}, el('img', { alt: '', src: partImage(p), loading: 'lazy' })),
      el('td', {}, time(p.verdict.decidedAt)), el('td', {}, p.verdict.camera), el('td', {}, p.verdict.partId || p.verdict.frameRef),
      el('td', {}, el('span', { class: `verdict ${p.verdict.verdict}` }, code('verdict', p.verdict.verdict))), el('td', {}, score(p.verdict.defectScore)),
      el('td', { class: 'disposition', 'data-code': p.review.disposition }, code('disposition', p.review.disposition)), el('td', {}, p.review.label),
      el('td', {}, p.review.user), el('td', {}, p.review.comment || ''), el('td', {}, t(p.review.delivered ? 'mes.stored' : 'mes.waiting')))));
  } catch (e) {
    toast(e.message, true);
  }
}

async function loadEngineering() {
  try {
    const model = await api('/model');
    const b = model.bundle;
    const facts = [
      ['eng.name', `${model.reference.name} ${model.reference.version}`], ['eng.sha', model.reference.sha256],
      ['eng.architecture', b.architecture], ['eng.classes', b.classes.join(', ')], ['eng.good', model.goodClass || '–'],
      ['eng.decision', JSON.stringify(b.decision)], ['eng.regions', JSON.stringify(b.regions)],
      ['eng.explainer', `${model.method} / ${model.layer}`], ['eng.provenance', JSON.stringify(b.provenance)],
    ];
    $('model-info').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', {}, t(k)), el('dd', {}, v)]));
    const audit = await api('/audit');
    $('audit-rows').replaceChildren(...audit.map((a) => el('tr', {},
      el('td', {}, time(a.at)), el('td', {}, a.user), el('td', {}, a.action), el('td', {}, a.part || ''), el('td', {}, a.detail || ''), el('td', {}, a.model || ''))));
  } catch (e) {
    toast(e.message, true);
  }
}

document.addEventListener('DOMContentLoaded', async () => {
  translatePage();
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  $('history-form').addEventListener('submit', searchHistory);
  for (const tab of document.querySelectorAll('.tab')) tab.addEventListener('click', () => show(tab.dataset.view));
  document.addEventListener('keydown', onKey);
  try {
    start(await api('/me'));
  } catch {
    showLogin();
  }
});
