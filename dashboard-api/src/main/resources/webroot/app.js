// SafeGrid duty board: plain JS, no build step, nothing fetched from outside this server.
// Token: ?token=... in the URL (the demo prints such a URL), then kept in sessionStorage.
'use strict';
(function () {
  const SEV_RANK = { critical: 4, major: 3, minor: 2, warning: 1 };
  const SEV_LABEL = { critical: '危急 Critical', major: '严重 Major', minor: '一般 Minor', warning: '提示 Warning' };
  const STATE_LABEL = {
    active_unacked: '未确认 Unacknowledged', active_acked: '已确认 Acknowledged',
    cleared_unacked: '已恢复·未确认 Cleared, unacknowledged', cleared_acked: '已恢复·已确认 Cleared, acknowledged',
    closed: '已销账 Closed'
  };
  // the five grid levels escalation climbs (alerting GridLevel), lowest first
  const LEVEL_LABEL = {
    unit: '单元 Unit', building: '楼栋 Building', compound: '小区 Compound',
    community: '社区 Community', sub_district: '街道 Sub-district'
  };
  const ESC_TYPES = new Set(['notified', 'escalated']);

  // ---- token
  const params = new URLSearchParams(location.search);
  if (params.get('token')) {
    sessionStorage.setItem('safegrid.token', params.get('token'));
    params.delete('token');
    history.replaceState(null, '', location.pathname + (params.toString() ? '?' + params : ''));
  }
  const token = sessionStorage.getItem('safegrid.token');
  const $ = (id) => document.getElementById(id);

  const state = {
    alarms: new Map(),        // id -> alarm
    appliedEvent: new Map(),  // alarm id -> last event id applied
    esc: new Map(),           // alarm id -> Map(event id -> notified/escalated step)
    historyLoaded: new Set(), // alarm ids whose history (GET /api/alarms/{id}) was read
    devices: new Map(),       // id -> device
    online: new Map(),        // id -> {online, since, reason}
    grid: [],
    lastEventId: 0,
    selected: null,           // device id of the chart
    filter: null,             // {level, id, name}
    es: null,
    boardLoaded: false,       // a snapshot of the ledger's open alarms was shown
    ledgerDown: false,        // /api/health: the alarm ledger's database is unreachable (or its check timed out)
    ledgerWhy: null,          // 'down' (the check said so) or 'unknown' (the check did not answer in time)
    unconfirmed: new Map(),   // deviceId|ruleId -> event: unconfirmed data (a hazard not yet in the ledger)
    annunciations: new Map(), // deviceId|ruleId -> event: annunciation data shown (decided, ledger not yet heard)
    annunciated: new Set(),   // 'deviceId|ruleId@eventTime ms' and 'id:annunciationId' beeped for (newest 1,000)
    ledgerTime: new Map(),    // deviceId|ruleId -> newest transition time (ms) the ledger's events showed
    callOuts: new Map(),      // alarm id -> {step, state, hazard, error, at}: a step whose delivery is failing/dead (newcomer8 N7)
    brokerDown: false,        // /api/health: the emergency network's broker is not connected
    connOn: false,
    connText: '连接中 Connecting',
    alertNew: null,           // after event: reset, keys (alarmKey) of the alarms on the board before
    chart: null               // {deviceId, metric, points: [{t, v, min, max}]}
  };

  function banner(text) {
    const b = $('banner');
    b.textContent = text || '';
    b.hidden = !text;
  }

  // ---- the alarm ledger's health: while its database is unreachable, alarms reach nobody
  // through the ledger (docs/alerting.md "Database outage"): say so plainly instead of "Live" and
  // "No open alarms". Polled, no token needed (GET /api/health).
  // A check that does not answer within 8 s is not "up" (review7 R9: on a silent network cut the
  // gateway's ping hangs): the ledger is then "unknown" and the page warns as for "down". A check
  // that fails at once (connection refused: the gateway itself is gone) leaves the state as it is:
  // the live stream's badge says so.
  async function checkHealth() {
    let down = null;
    let why = 'down';
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 8000);
    try {
      const r = await fetch('/api/health', { signal: ctl.signal, cache: 'no-store' });
      const checks = (await r.json()).checks || {};
      down = [checks.database, checks.ledger].some((c) => c && c.up === false);
      onNotificationsHealth(checks.notifications);
    } catch (e) {
      if (ctl.signal.aborted) { down = true; why = 'unknown'; } // timed out: no answer is no "up"
      else { down = null; } // the server itself is unreachable: the live stream's state says so
    } finally {
      clearTimeout(timer);
    }
    if (down !== null) { setLedgerDown(down, why); }
    setTimeout(checkHealth, down ? 3000 : 5000);
  }

  function setLedgerDown(down, why) {
    why = down ? (why || 'down') : null;
    if (down === state.ledgerDown && why === state.ledgerWhy) { return; }
    const was = state.ledgerDown;
    state.ledgerDown = down;
    state.ledgerWhy = why;
    $('ledger-down').hidden = !down;
    $('ledger-down-why').hidden = why !== 'unknown';
    document.body.dataset.ledger = down ? (why === 'unknown' ? 'unknown' : 'down') : 'up';
    if (down === was) { showConn(); return; } // down <-> unknown: only the wording changes
    showConn();
    renderAlarms();
    if (down) {
      beep();
      flashTitle('报警台账不可达 ALARM LEDGER UNREACHABLE');
    } else {
      if (!hasUnackedCritical()) { stopFlash(); }
      if (state.es) { restart(); } // reload the board: what the ledger took while it was away
    }
  }

  if (!token) {
    banner('缺少令牌：请使用演示程序打印的网址（…/?token=…）打开本页。Missing token: open this page with the URL the demo prints (…/?token=…).');
    setConn(false, '未登录 No token');
    return;
  }

  async function api(path, opts) {
    const o = Object.assign({ headers: {} }, opts || {});
    o.headers['Authorization'] = 'Bearer ' + token;
    if (o.body) { o.headers['Content-Type'] = 'application/json'; }
    const r = await fetch(path, o);
    const text = await r.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (e) { body = { error: 'bad_response', detail: text }; }
    if (!r.ok) {
      const err = new Error((body && body.detail) || ('HTTP ' + r.status));
      err.status = r.status; err.body = body;
      throw err;
    }
    return body;
  }

  // ---- sound and title flash on a new critical alarm
  let audio = null;
  function ensureAudio() {
    if (!audio) {
      try { audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { audio = null; }
    }
    if (audio && audio.state === 'suspended') { audio.resume(); }
    return audio;
  }
  document.addEventListener('click', ensureAudio, { once: true });
  $('sound').addEventListener('click', () => { ensureAudio(); beep(); $('sound').textContent = '声音已开 Sound on'; });
  function beep() {
    const ctx = ensureAudio();
    if (!ctx) { return; }
    const t0 = ctx.currentTime;
    for (let i = 0; i < 3; i++) {
      const o = ctx.createOscillator();
      const g = ctx.createGain();
      o.type = 'square';
      o.frequency.value = 880;
      g.gain.setValueAtTime(0.0001, t0 + i * 0.35);
      g.gain.exponentialRampToValueAtTime(0.2, t0 + i * 0.35 + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.35 + 0.25);
      o.connect(g); g.connect(ctx.destination);
      o.start(t0 + i * 0.35); o.stop(t0 + i * 0.35 + 0.26);
    }
  }
  const baseTitle = document.title;
  let flashTimer = null;
  function flashTitle(text) {
    stopFlash();
    let on = false;
    flashTimer = setInterval(() => { on = !on; document.title = on ? '🔴 ' + text : baseTitle; }, 700);
  }
  function stopFlash() {
    if (flashTimer) { clearInterval(flashTimer); flashTimer = null; }
    document.title = baseTitle;
  }
  window.addEventListener('focus', () => { if (!hasUnackedCritical()) { stopFlash(); } });
  function hasUnackedCritical() {
    if (state.unconfirmed.size > 0) { return true; } // a hazard nobody could acknowledge yet
    for (const u of state.annunciations.values()) {
      if (u.severity === 'critical') { return true; }
    }
    for (const a of state.alarms.values()) {
      if (a.severity === 'critical' && a.state.endsWith('_unacked')) { return true; }
    }
    return false;
  }

  // ---- formatting
  function pad(n) { return String(n).padStart(2, '0'); }
  // how long an alarm has lasted: until now, or until untilIso (its clear) once it cleared
  function age(fromIso, untilIso) {
    const end = untilIso ? Date.parse(untilIso) : Date.now();
    const s = Math.max(0, Math.floor((end - Date.parse(fromIso)) / 1000));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h > 0 ? h + ':' + pad(m) : m) + ':' + pad(s % 60);
  }
  function hhmm(iso) {
    if (!iso) { return ''; }
    const d = new Date(iso);
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }
  function unitOf(metric) {
    if (metric.endsWith('_lel')) { return '%LEL'; }
    if (metric.endsWith('_pct')) { return '%'; }
    if (metric.endsWith('_mm')) { return 'mm'; }
    if (metric.endsWith('_m')) { return 'm'; }
    if (metric.endsWith('_v')) { return 'V'; }
    if (metric.endsWith('_ppm')) { return 'ppm'; }
    return '';
  }
  function fmt(v) { return Math.abs(v) >= 100 ? v.toFixed(2) : (Math.round(v * 10) / 10).toString(); }
  const gridNames = new Map(); // 'level:id' -> display name, from /api/grid
  function indexGrid(nodes, parent) {
    for (const n of nodes || []) {
      gridNames.set(n.level + ':' + n.id, n.name);
      if (parent) { gridNames.set(n.level + ':' + parent + '/' + n.id, n.name); } // building ids repeat per compound
      indexGrid(n.children, n.id);
    }
  }
  function gridName(level, id, parent) {
    if (!id) { return null; }
    return gridNames.get(level + ':' + parent + '/' + id) || gridNames.get(level + ':' + id) || id;
  }
  function placeOf(d) {
    if (!d) { return ''; }
    return [d.premises, gridName('compound', d.compound) || gridName('community', d.community),
      gridName('building', d.building, d.compound), d.unit && d.unit + '单元 unit'].filter(Boolean).join(' · ');
  }

  // ---- alarm board
  function sortAlarms(list) {
    return list.sort((a, b) => {
      const ua = a.state.endsWith('_unacked') ? 1 : 0, ub = b.state.endsWith('_unacked') ? 1 : 0;
      if (ua !== ub) { return ub - ua; }
      const sa = SEV_RANK[a.severity] || 0, sb = SEV_RANK[b.severity] || 0;
      if (sa !== sb) { return sb - sa; }
      return Date.parse(b.raisedAt) - Date.parse(a.raisedAt);
    });
  }

  function renderAlarms() {
    const ol = $('alarms');
    const list = sortAlarms([...state.alarms.values()].filter((a) => a.state !== 'closed'));
    const keep = new Set(list.map((a) => String(a.id)));
    for (const li of [...ol.children]) {
      if (!keep.has(li.dataset.alarmId)) { li.remove(); }
    }
    list.forEach((a, i) => {
      let li = ol.querySelector('li[data-alarm-id="' + a.id + '"]');
      if (!li) { li = newAlarmItem(a.id); }
      fillAlarm(li, a);
      if (ol.children[i] !== li) { ol.insertBefore(li, ol.children[i] || null); }
    });
    // "No open alarms" only from a snapshot the ledger gave, and not while it is unreachable
    $('no-alarms').hidden = list.length > 0 || !state.boardLoaded || state.ledgerDown || state.annunciations.size > 0;
    const unacked = list.filter((a) => a.state.endsWith('_unacked')).length;
    $('alarm-count').textContent = list.length + (unacked ? ' · 未确认 ' + unacked + ' unacked' : '');
    renderGrid();
  }

  function newAlarmItem(id) {
    const li = $('alarm-tpl').content.firstElementChild.cloneNode(true);
    li.dataset.alarmId = id;
    li.querySelector('.ack-btn').addEventListener('click', () => acknowledge(id, li));
    li.querySelector('.close-form').addEventListener('submit', (ev) => { ev.preventDefault(); closeAlarm(id, li); });
    li.querySelector('.device').addEventListener('click', () => selectDevice(state.alarms.get(id).deviceId));
    return li;
  }

  function fillAlarm(li, a) {
    const unacked = a.state.endsWith('_unacked');
    li.className = 'alarm ' + a.severity + ' ' + (unacked ? 'unacked' : 'acked') + ' ' + (a.state.startsWith('cleared') ? 'cleared' : 'active') + ' state-' + a.state;
    li.dataset.state = a.state;
    li.querySelector('.sev-label').textContent = SEV_LABEL[a.severity] || a.severity;
    const dev = state.devices.get(a.deviceId);
    li.querySelector('.device').textContent = a.deviceId + (dev && dev.name ? ' ' + dev.name : '');
    li.querySelector('.place').textContent = placeOf(dev);
    li.querySelector('.msg').textContent = a.message + (a.count > 1 ? '  (×' + a.count + ')' : '');
    li.querySelector('.state').textContent = STATE_LABEL[a.state] || a.state;
    const ageEl = li.querySelector('.age');
    ageEl.dataset.since = a.raisedAt;
    ageEl.dataset.until = (a.state.startsWith('cleared') && a.clearedAt) || '';
    ageEl.textContent = '持续 ' + age(a.raisedAt, ageEl.dataset.until);
    li.querySelector('.times').textContent = '发生 raised ' + hhmm(a.raisedAt) + (a.clearedAt ? ' · 恢复 cleared ' + hhmm(a.clearedAt) : '');
    li.querySelector('.ackby').textContent = a.acknowledgedBy ? '· 确认人 by ' + a.acknowledgedBy + ' ' + hhmm(a.acknowledgedAt) : '';
    const ack = li.querySelector('.ack-btn');
    ack.hidden = !unacked;
    li.querySelector('.close-form').hidden = a.state !== 'cleared_acked';
    fillEscalation(li, a);
  }

  // ---- unconfirmed hazards (docs/alerting.md "Database outage"): the rule engine raised them, the
  // ledger (database) has not taken them yet, so they have no id and cannot be acknowledged here.
  // Shown above the board until the ledger's own event replaces them.
  function unconfirmedKey(deviceId, ruleId) { return deviceId + '|' + ruleId; }

  // the cards of hazards the ledger has not recorded yet (unconfirmed, annunciations): list element
  // id, template id, the map, the data-* id key and the times label differ, nothing else
  function renderPending(listId, tplId, pending, idKey, timesLabel) {
    const ol = $(listId);
    ol.textContent = '';
    const list = [...pending.values()].sort((a, b) =>
      (SEV_RANK[b.severity] || 0) - (SEV_RANK[a.severity] || 0) || Date.parse(a.eventTime) - Date.parse(b.eventTime));
    for (const u of list) {
      const li = $(tplId).content.firstElementChild.cloneNode(true);
      li.classList.add(u.severity);
      li.dataset.deviceId = u.deviceId;
      li.dataset.ruleId = u.ruleId;
      li.dataset[idKey] = u[idKey];
      li.querySelector('.sev-label').textContent = SEV_LABEL[u.severity] || u.severity;
      const dev = state.devices.get(u.deviceId);
      li.querySelector('.device').textContent = u.deviceId + (dev && dev.name ? ' ' + dev.name : '');
      li.querySelector('.place').textContent = placeOf(dev);
      li.querySelector('.msg').textContent = u.message;
      li.querySelector('.times').textContent = timesLabel + hhmm(u.eventTime);
      ol.appendChild(li);
    }
    return list.length;
  }

  function renderUnconfirmed() {
    $('unconfirmed-box').hidden =
      renderPending('unconfirmed', 'unconfirmed-tpl', state.unconfirmed, 'unconfirmedId', '发生 at ') === 0;
  }

  function onUnconfirmed(u) {
    const k = unconfirmedKey(u.deviceId, u.ruleId);
    const cur = state.unconfirmed.get(k);
    if (u.status === 'waiting') {
      const ann = state.annunciations.get(k);
      if (ann && ann.annunciationId === u.unconfirmedId) { // the annunciation becomes the dashed card
        state.annunciations.delete(k);
        renderAnnunciations();
      }
      state.unconfirmed.set(k, u);
      renderUnconfirmed();
      if ((!cur || cur.unconfirmedId !== u.unconfirmedId) && !state.annunciated.has('id:' + u.unconfirmedId)) {
        beep();
        flashTitle('未确认入账报警 UNCONFIRMED ALARM ' + u.deviceId);
        document.body.dataset.unconfirmedBeeps = String(Number(document.body.dataset.unconfirmedBeeps || 0) + 1);
      }
    } else if (cur && cur.unconfirmedId === u.unconfirmedId) { // committed (its alarm event comes) or given up
      state.unconfirmed.delete(k);
      renderUnconfirmed();
    }
  }

  // ---- annunciations (docs/alerting.md "Annunciation before the ledger"): the rule engine's hazard
  // raise or severity change at its decision, before the ledger records it. Shown at once as an alarm
  // card "recording" above the board (no acknowledge: no alarm id yet) with the beep for a critical
  // one; the ledger's event of it replaces the card without a second beep, the unconfirmed hand-off
  // (ledger stalled 2 s) turns it into the dashed card without a second beep.
  function remember(set, v) {
    set.add(v);
    if (set.size > 1000) { set.delete(set.values().next().value); }
  }

  function renderAnnunciations() {
    renderPending('annunciations', 'annunciation-tpl', state.annunciations, 'annunciationId', '发生 raised ');
    if (state.annunciations.size > 0) { $('no-alarms').hidden = true; } else { renderAlarms(); }
  }

  // the ledger's alarm on the board for this device and rule, still active (not cleared or closed)
  function activeOnBoard(deviceId, ruleId) {
    for (const a of state.alarms.values()) {
      if (a.deviceId === deviceId && a.ruleId === ruleId && a.state.startsWith('active')) { return a; }
    }
    return null;
  }

  function onAnnunciation(u) {
    const k = unconfirmedKey(u.deviceId, u.ruleId);
    const cur = state.annunciations.get(k);
    if (u.status) { // settled: given up (the ledger refused it) or committed (its alarm event carries it)
      if (!cur || cur.annunciationId !== u.annunciationId) { return; }
      const drop = () => {
        const c = state.annunciations.get(k);
        if (c && c.annunciationId === u.annunciationId) { state.annunciations.delete(k); renderAnnunciations(); }
      };
      // committed: its alarm event replaces the card (it may come just after this); a change the
      // ledger recorded without an event ends here
      if (u.status === 'given_up') { drop(); } else { setTimeout(drop, 3000); }
      return;
    }
    const at = Date.parse(u.eventTime);
    const known = state.ledgerTime.get(k);
    if (known !== undefined && at <= known) { return; } // the ledger already showed it, or newer
    const held = state.unconfirmed.get(k);
    if (held && held.unconfirmedId === u.annunciationId) { return; } // already the dashed card
    const onBoard = activeOnBoard(u.deviceId, u.ruleId);
    if (onBoard && u.kind === 'raise' && (SEV_RANK[u.severity] || 0) <= (SEV_RANK[onBoard.severity] || 0) &&
        !(u.evidence && u.evidence.new_zone !== undefined)) {
      return; // a repeat of an alarm the board shows: its 'repeated' event updates the card
    }
    state.annunciations.set(k, u);
    renderAnnunciations();
    const seen = state.annunciated.has('id:' + u.annunciationId);
    remember(state.annunciated, 'id:' + u.annunciationId);
    remember(state.annunciated, k + '@' + at);
    if (u.severity === 'critical' && !seen && (!cur || cur.annunciationId !== u.annunciationId)) {
      beep();
      document.body.dataset.annunciationBeeps = String(Number(document.body.dataset.annunciationBeeps || 0) + 1);
      flashTitle('新危急报警 NEW CRITICAL ALARM ' + u.deviceId);
    }
  }

  // the ledger's event of a device and rule: an annunciation of that transition or an older one is
  // recorded now (its card goes: the board shows the ledger's); returns whether this very
  // transition was annunciated here (then it does not beep again)
  function recordedByLedger(a, ev) {
    const k = unconfirmedKey(a.deviceId, a.ruleId);
    const at = ev.details && ev.details.eventTime ? Date.parse(ev.details.eventTime) : NaN;
    if (!Number.isFinite(at)) { return false; } // an officer's action, an escalation step
    const known = state.ledgerTime.get(k);
    if (known === undefined || at > known) { state.ledgerTime.set(k, at); }
    const u = state.annunciations.get(k);
    if (u && Date.parse(u.eventTime) <= at) {
      state.annunciations.delete(k);
      renderAnnunciations();
    }
    return state.annunciated.has(k + '@' + at);
  }

  // the ledger's event for the same device and rule, at least as severe: the card is in the ledger now
  function confirmedByLedger(a) {
    const k = unconfirmedKey(a.deviceId, a.ruleId);
    const u = state.unconfirmed.get(k);
    if (u && (SEV_RANK[a.severity] || 0) >= (SEV_RANK[u.severity] || 0)) {
      state.unconfirmed.delete(k);
      renderUnconfirmed();
    }
  }

  // ---- escalation: the alarm's notified / escalated events (details: level, step, recipients,
  // nextEscalationAt), from its history and from the live stream
  function recordEscalation(alarmId, ev) {
    if (!ESC_TYPES.has(ev.type)) { return false; }
    let m = state.esc.get(alarmId);
    if (!m) { m = new Map(); state.esc.set(alarmId, m); }
    const d = ev.details || {};
    m.set(ev.id, {
      id: ev.id, type: ev.type, at: ev.at, note: ev.note || '',
      level: d.level || null, step: d.step, recipients: d.recipients || [],
      next: d.nextEscalationAt || null,
      delivery: (d.delivery && d.delivery.state) || null // queued / delivered / failing / dead (newcomer8 N7)
    });
    return true;
  }

  function levelText(level) { return level ? (LEVEL_LABEL[level] || level) : '—'; }

  function fillEscalation(li, a) {
    const box = li.querySelector('.esc');
    const steps = [...((state.esc.get(a.id) || new Map()).values())].sort((x, y) => x.id - y.id);
    box.hidden = steps.length === 0;
    if (!steps.length) { delete li.dataset.gridLevel; return; }
    const last = steps[steps.length - 1];
    let level = null;
    for (const st of steps) { if (st.level) { level = st.level; } }
    li.dataset.gridLevel = level || '';
    li.dataset.escalationStep = String(last.step || '');
    const escalations = steps.filter((st) => st.type === 'escalated').length;
    box.querySelector('.esc-level').textContent = '网格层级 Grid level: ' + levelText(level) +
      (escalations ? ' · 已升级 ' + escalations + ' 次 escalated ×' + escalations : '');
    box.querySelector('.esc-last').textContent = (last.type === 'escalated' ? '升级至 escalated to ' : stepWord(last)) +
      last.recipients.join(', ') + ' ' + hhmm(last.at) + deliveryText(last);
    li.dataset.delivery = last.delivery || '';
    box.querySelector('.esc-last').classList.toggle('undelivered', last.delivery === 'failing' || last.delivery === 'dead');
    const unacked = a.state.endsWith('_unacked');
    box.querySelector('.esc-next').textContent = unacked && last.next ? '· 下次升级 next escalation ' + hhmm(last.next) : '';
    const ol = box.querySelector('.esc-log ol');
    ol.textContent = '';
    for (const st of steps) {
      const item = document.createElement('li');
      item.dataset.eventId = st.id;
      item.textContent = hhmm(st.at) + ' ' + (st.type === 'escalated' ? '升级 escalated' : stepWord(st).trim()) +
        ' · ' + levelText(st.level) + ' · ' + st.recipients.join(', ') + deliveryText(st) + (st.note ? ' — ' + st.note : '');
      item.dataset.delivery = st.delivery || '';
      ol.appendChild(item);
    }
    box.querySelector('.esc-count').textContent = '(' + steps.length + ')';
  }

  // ---- notification delivery (newcomer8 N7, docs/alerting.md "Delivery state"): a notified /
  // escalated step is only queued in the outbox; the outbox's 'delivery' events (actor outbox,
  // details: step, delivery.state, hazard, channel) say delivered / failing / dead. A hazard's call-out
  // that failed shows at once: a red banner "call-out NOT delivered", a beep, and the card's step
  // marked; the broker's state comes from /api/health's notifications check.
  const DELIVERY_LABEL = {
    queued: '排队中 queued', delivered: '已送达 delivered', failing: '未送达·重试中 NOT DELIVERED, retrying',
    dead: '无法送达 UNDELIVERABLE'
  };

  function stepWord(st) {
    if (st.delivery === 'delivered') { return '已通知 notified '; }
    if (st.delivery === 'failing' || st.delivery === 'dead') { return '通知未送达 call-out NOT delivered to '; }
    if (st.delivery === 'queued') { return '待通知 queued for '; }
    return '已通知 notified '; // an event from before delivery states were recorded
  }

  function deliveryText(st) {
    return st.delivery ? ' [' + (DELIVERY_LABEL[st.delivery] || st.delivery) + ']' : '';
  }

  // a 'delivery' event (live, or from the history in order); returns true when it was one
  function recordDelivery(alarmId, ev, live) {
    if (ev.type !== 'delivery') { return false; }
    const d = ev.details || {};
    const st = (d.delivery && d.delivery.state) || null;
    const steps = state.esc.get(alarmId);
    if (steps) {
      for (const s of steps.values()) { if (s.step === d.step) { s.delivery = st; } }
    }
    const cur = state.callOuts.get(alarmId);
    if (st === 'failing' || st === 'dead') {
      state.callOuts.set(alarmId, { step: d.step, state: st, hazard: !!d.hazard, error: (d.delivery && d.delivery.lastError) || '', at: ev.at });
      if (live && d.hazard && !cur) {
        beep();
        flashTitle('通知未送达 CALL-OUT NOT DELIVERED');
        document.body.dataset.callOutBeeps = String(Number(document.body.dataset.callOutBeeps || 0) + 1);
      }
    } else if (st === 'delivered' && cur && cur.step === d.step) {
      state.callOuts.delete(alarmId);
    }
    renderCallOuts();
    return true;
  }

  function forgetCallOut(alarmId) {
    if (state.callOuts.delete(alarmId)) { renderCallOuts(); }
  }

  function renderCallOuts() {
    const failing = [...state.callOuts.entries()].filter(([id, c]) => c.hazard && state.alarms.has(id));
    const box = $('call-out-failing');
    document.body.dataset.callOutFailing = String(failing.length);
    if (!failing.length && !state.brokerDown) { box.hidden = true; return; }
    const parts = failing.map(([id, c]) => {
      const a = state.alarms.get(id);
      return a.deviceId + ' (' + (SEV_LABEL[a.severity] || a.severity) + ', ' + (DELIVERY_LABEL[c.state] || c.state) + ')';
    });
    $('call-out-failing-text').hidden = !failing.length;
    $('call-out-failing-list').textContent = parts.join('; ');
    const err = failing.length ? failing[failing.length - 1][1].error : '';
    $('call-out-failing-why').textContent = err ? ' — ' + err : '';
    $('call-out-broker-down').hidden = !state.brokerDown;
    box.hidden = false;
  }

  // /api/health's notifications check: a channel known disconnected
  function onNotificationsHealth(n) {
    const channels = (n && n.channels) || {};
    const down = Object.values(channels).some((c) => c && c.connected === false);
    document.body.dataset.broker = down ? 'down' : 'up';
    if (down !== state.brokerDown) { state.brokerDown = down; renderCallOuts(); }
  }

  // the history of open alarms whose earlier notifications the page has not seen (a few at a time)
  async function loadHistories() {
    const todo = [...state.alarms.keys()].filter((id) => !state.historyLoaded.has(id));
    const worker = async () => {
      for (let id = todo.shift(); id !== undefined; id = todo.shift()) {
        try {
          const full = await api('/api/alarms/' + id);
          state.historyLoaded.add(id);
          let any = false;
          for (const h of full.history || []) { any = recordEscalation(id, h) || any; any = recordDelivery(id, h, false) || any; }
          const li = $('alarms').querySelector('li[data-alarm-id="' + id + '"]');
          if (any && li && state.alarms.has(id)) { fillAlarm(li, state.alarms.get(id)); }
        } catch (e) {
          if (e.status === 404) { state.historyLoaded.add(id); }
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  }

  function tickAges() {
    for (const el of document.querySelectorAll('.alarm .age')) {
      if (el.dataset.since && !el.dataset.until) { el.textContent = '持续 ' + age(el.dataset.since); }
    }
    $('clock').textContent = new Date().toLocaleTimeString('zh-CN', { hour12: false });
  }

  async function acknowledge(id, li) {
    const btn = li.querySelector('.ack-btn');
    btn.disabled = true;
    li.querySelector('.err').textContent = '';
    try {
      applyAlarm(await api('/api/alarms/' + id + '/ack', { method: 'POST', body: '{}' }), 0);
    } catch (e) {
      li.querySelector('.err').textContent = errorText(e);
    } finally {
      btn.disabled = false;
    }
  }

  async function closeAlarm(id, li) {
    const note = li.querySelector('.note').value.trim();
    li.querySelector('.err').textContent = '';
    if (!note) { li.querySelector('.err').textContent = '请填写处置说明 A disposal note is required'; return; }
    try {
      applyAlarm(await api('/api/alarms/' + id + '/close', { method: 'POST', body: JSON.stringify({ note }) }), 0);
    } catch (e) {
      li.querySelector('.err').textContent = errorText(e);
    }
  }

  function errorText(e) {
    if (e.status === 403) { return '无权操作（观察员令牌）Not allowed: viewer token'; }
    if (e.status === 409) { return '状态已变化 State changed: ' + e.message; }
    return e.message;
  }

  // newer information only: an alarm object is applied unless an event with a higher id was
  function applyAlarm(a, eventId) {
    const applied = state.appliedEvent.get(a.id) || 0;
    if (eventId && eventId <= applied) { return; }
    const prev = state.alarms.get(a.id);
    if (!eventId && prev && Date.parse(prev.updatedAt) > Date.parse(a.updatedAt)) { return; }
    if (eventId) { state.appliedEvent.set(a.id, eventId); }
    state.alarms.set(a.id, a);
    if (a.state === 'closed') { state.alarms.delete(a.id); state.esc.delete(a.id); state.historyLoaded.delete(a.id); forgetCallOut(a.id); }
    renderAlarms();
  }

  // ---- live stream
  function setConn(on, text) {
    state.connOn = on;
    state.connText = text;
    showConn();
  }

  // the stream's state, unless the ledger is unreachable: then the stream may be open, but it is
  // not "Live" (nothing the ledger cannot commit comes through it)
  function showConn() {
    const c = $('conn');
    if (state.ledgerDown) {
      c.className = 'conn off ledger-down';
      c.textContent = state.ledgerWhy === 'unknown' ? '● 台账状态未知 Ledger not answering' : '● 台账不可达 Ledger unreachable';
      return;
    }
    c.className = 'conn ' + (state.connOn ? 'on' : 'off');
    c.textContent = '● ' + state.connText;
  }

  // an alarm across ledgers: ids restart when the database is recreated, raisedAt tells them apart
  function alarmKey(a) { return a.id + '@' + a.raisedAt; }

  async function loadSnapshot() {
    const s = await api('/api/live/snapshot');
    state.alarms.clear();
    state.appliedEvent.clear();
    s.alarms.forEach((a) => {
      state.alarms.set(a.id, a);
      // the newest transition time the ledger shows for the key: an annunciation not newer is old news
      const at = Math.max(Date.parse(a.raisedAt) || 0, Date.parse(a.clearedAt || '') || 0);
      const k = unconfirmedKey(a.deviceId, a.ruleId);
      if (at > (state.ledgerTime.get(k) || 0)) { state.ledgerTime.set(k, at); }
    });
    s.devices.forEach((d) => state.online.set(d.deviceId, d));
    state.lastEventId = s.lastEventId;
    state.boardLoaded = true;
    renderAlarms();
    renderDevices();
    if (state.alertNew) {
      const fresh = s.alarms.filter((a) => a.severity === 'critical' && a.state === 'active_unacked' &&
          !state.alertNew.has(alarmKey(a)));
      state.alertNew = null;
      if (fresh.length) {
        beep();
        flashTitle('新危急报警 NEW CRITICAL ALARM ' + fresh[0].deviceId);
      }
    }
    if (!hasUnackedCritical()) { stopFlash(); } // e.g. the flashing alarm was another ledger's
    loadHistories(); // not awaited: the board shows at once, escalation fills in
  }

  // resume: from the snapshot's last event id (the usual); else live only (no board loaded yet)
  function connect(resume) {
    if (resume === undefined) { resume = state.boardLoaded; }
    if (state.es) { state.es.close(); }
    state.esLiveOnly = !resume;
    let url = '/api/live?access_token=' + encodeURIComponent(token) + (resume ? '&lastEventId=' + state.lastEventId : '');
    if (state.selected) { url += '&readings=' + encodeURIComponent(state.selected); }
    const es = new EventSource(url);
    state.es = es;
    const streamed = state.selected || '';
    es.onopen = () => {
      setConn(true, '实时 Live');
      if (resume) { banner(''); }
      // the server sends the unconfirmed hazards still waiting, and the annunciations not settled, right after this
      state.unconfirmed.clear();
      renderUnconfirmed();
      state.annunciations.clear();
      renderAnnunciations();
      document.body.dataset.liveReadings = streamed; // which device's readings the open stream carries
    };
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        setConn(false, '已断开 Disconnected');
        setTimeout(() => { if (state.es === es) { restart(); } }, 5000);
      } else {
        setConn(false, '重连中 Reconnecting');
      }
    };
    es.addEventListener('alarm', (m) => {
      const ev = JSON.parse(m.data);
      state.lastEventId = Math.max(state.lastEventId, ev.id);
      const wasKnown = state.alarms.has(ev.alarmId);
      const stateBefore = wasKnown ? state.alarms.get(ev.alarmId).state : null;
      if (!wasKnown && ev.type === 'raised') { state.historyLoaded.add(ev.alarmId); } // all of it arrives live
      recordEscalation(ev.alarmId, ev);
      recordDelivery(ev.alarmId, ev, true);
      applyAlarm(ev.alarm, ev.id);
      const a = ev.alarm;
      if (a) { confirmedByLedger(a); }
      const annunciated = a ? recordedByLedger(a, ev) : false; // beeped for at its annunciation already
      // an acknowledgement that lapsed (a fire spreading to another zone, a rise above the severity
      // acknowledged: docs/alerting.md) sounds again like a new alarm (review8 R8-5)
      const lapsed = stateBefore === 'active_acked' && a.state === 'active_unacked';
      if (a.severity === 'critical' && a.state === 'active_unacked' && !annunciated &&
          (ev.type === 'raised' || ev.type === 'reopened' || ev.type === 'severity_changed' || !wasKnown || lapsed)) {
        beep();
        document.body.dataset.alarmBeeps = String(Number(document.body.dataset.alarmBeeps || 0) + 1);
        flashTitle('新危急报警 NEW CRITICAL ALARM ' + a.deviceId);
      }
      if (!hasUnackedCritical()) { stopFlash(); }
    });
    es.addEventListener('unconfirmed', (m) => onUnconfirmed(JSON.parse(m.data)));
    es.addEventListener('annunciation', (m) => onAnnunciation(JSON.parse(m.data)));
    es.addEventListener('device', (m) => {
      const d = JSON.parse(m.data);
      state.online.set(d.deviceId, d);
      renderDevices();
    });
    es.addEventListener('reading', (m) => {
      const r = JSON.parse(m.data);
      const d = state.devices.get(r.deviceId);
      if (d) {
        d.lastReadings = d.lastReadings || {};
        d.lastReadings[r.metric] = { time: r.time, value: r.value };
        renderDevices();
      }
      if (state.chart && state.chart.deviceId === r.deviceId && state.chart.metric === r.metric) {
        state.chart.points.push({ t: Date.parse(r.time), v: r.value, min: r.value, max: r.value });
        drawChart();
      }
    });
    es.addEventListener('reset', () => {
      // reload the board from the snapshot: escalation events were missed too, and after
      // reason unknown_event_id (the database was recreated or restored) the ids on the board are
      // another ledger's; a critical unacknowledged alarm that was not on the board alerts
      if (!state.alertNew) { state.alertNew = new Set([...state.alarms.values()].map(alarmKey)); }
      state.historyLoaded.clear();
      state.esc.clear();
      restart();
    });
    es.addEventListener('dropped', () => setConn(false, '重连中 Reconnecting'));
  }

  async function restart() {
    try {
      await loadSnapshot();
      connect(true);
    } catch (e) {
      if (e.status === 401) { setConn(false, '已断开 Disconnected'); banner('令牌无效 Token rejected: ' + e.message); return; }
      banner('加载失败，5秒后重试 Load failed, retrying in 5 s: ' + e.message);
      // no board from the ledger: still listen live (no resume), so a hazard the ledger has not
      // taken (event: unconfirmed) shows on a page opened during a database outage
      if (!state.es) { connect(false); } else if (!state.connOn) { setConn(false, '已断开 Disconnected'); }
      setTimeout(restart, 5000);
    }
  }

  // ---- devices and grid
  function renderDevices() {
    const tb = $('devices');
    const rows = [];
    for (const d of state.devices.values()) {
      if (state.filter && !inCell(d, state.filter.level, state.filter.id, state.filter.parent)) { continue; }
      rows.push(d);
    }
    tb.textContent = '';
    for (const d of rows) {
      const tr = document.createElement('tr');
      tr.dataset.deviceId = d.id;
      if (d.id === state.selected) { tr.className = 'sel'; }
      const o = state.online.get(d.id);
      const online = o ? o.online : d.online;
      const td1 = document.createElement('td');
      const dot = document.createElement('span');
      dot.className = 'dot ' + (online === true ? 'on' : online === false ? 'off' : '');
      dot.title = online === true ? '在线 online' : online === false ? '离线 offline' + (o && o.reason ? ' (' + o.reason + ')' : '') : '未知 unknown';
      td1.appendChild(dot);
      const td2 = document.createElement('td');
      td2.innerHTML = '';
      const idb = document.createElement('b'); idb.textContent = d.id;
      const nm = document.createElement('div'); nm.className = 'name'; nm.textContent = d.name || '';
      td2.append(idb, nm);
      const td3 = document.createElement('td');
      td3.textContent = placeOf(d);
      const td4 = document.createElement('td');
      td4.textContent = lastReadingText(d);
      tr.append(td1, td2, td3, td4);
      tr.addEventListener('click', () => selectDevice(d.id));
      tb.appendChild(tr);
    }
    $('device-filter').textContent = state.filter ? '· ' + state.filter.name + ' (' + rows.length + ')' : '(' + rows.length + ')';
  }

  function primaryMetric(d) {
    const ms = Object.keys((d && d.lastReadings) || {});
    for (const p of ['gas_lel', 'level_m', 'co_ppm']) { if (ms.includes(p)) { return p; } }
    return ms.find((m) => !m.startsWith('battery') && !m.startsWith('signal')) || ms[0];
  }

  function lastReadingText(d) {
    const m = primaryMetric(d);
    if (!m) { return '—'; }
    const r = d.lastReadings[m];
    return fmt(r.value) + ' ' + unitOf(m) + '  ' + hhmm(r.time);
  }

  // building ids repeat from compound to compound: a building cell is (compound, building)
  function inCell(d, level, id, parent) {
    return d[level] === id && (level !== 'building' || d.compound === parent);
  }

  function renderGrid() {
    const ul = $('grid');
    ul.textContent = '';
    const openBy = (level, id, parentId) => {
      let n = 0;
      for (const a of state.alarms.values()) {
        const d = state.devices.get(a.deviceId);
        if (d && inCell(d, level, id, parentId)) { n++; }
      }
      return n;
    };
    const devBy = (level, id, parentId) => [...state.devices.values()].filter((d) => inCell(d, level, id, parentId)).length;
    const add = (parent, node, parentId) => {
      const li = document.createElement('li');
      const span = document.createElement('span');
      span.textContent = node.name + ' ';
      span.dataset.level = node.level;
      const isSel = (f) => f && f.id === node.id && f.level === node.level && f.parent === parentId;
      if (isSel(state.filter)) { span.className = 'sel'; }
      const n = document.createElement('small'); n.className = 'n'; n.textContent = devBy(node.level, node.id, parentId) + ' 台 dev';
      span.appendChild(n);
      const alarms = openBy(node.level, node.id, parentId);
      if (alarms) { const a = document.createElement('small'); a.className = 'a'; a.textContent = ' ⚠ ' + alarms; span.appendChild(a); }
      span.addEventListener('click', () => {
        state.filter = isSel(state.filter) ? null : { level: node.level, id: node.id, name: node.name, parent: parentId };
        renderGrid(); renderDevices();
      });
      li.appendChild(span);
      if (node.children && node.children.length) {
        const sub = document.createElement('ul');
        node.children.forEach((c) => add(sub, c, node.id));
        li.appendChild(sub);
      }
      parent.appendChild(li);
    };
    state.grid.forEach((c) => add(ul, c));
    if (!state.grid.length) { ul.innerHTML = '<li class="empty">—</li>'; }
  }

  async function loadDevices() {
    const r = await api('/api/devices');
    state.devices.clear();
    r.devices.forEach((d) => state.devices.set(d.id, d));
    renderDevices();
    renderAlarms();
  }

  // ---- chart
  async function selectDevice(id) {
    state.selected = id;
    renderDevices();
    const d = state.devices.get(id);
    const metric = primaryMetric(d) || 'gas_lel';
    $('chart-title').textContent = '· ' + id + ' ' + metric + ' (' + unitOf(metric) + ')';
    const to = new Date();
    const from = new Date(to.getTime() - 3600 * 1000);
    try {
      const r = await api('/api/devices/' + encodeURIComponent(id) + '/readings?metric=' + metric +
        '&from=' + from.toISOString() + '&to=' + to.toISOString() + '&bucket=1m');
      const s = r.series[0];
      state.chart = {
        deviceId: id, metric, from: from.getTime(),
        points: s ? s.points.map((p) => ({ t: Date.parse(p.time), v: p.value, min: p.min, max: p.max })) : []
      };
      drawChart();
    } catch (e) {
      $('chart').textContent = errorText(e);
    }
    connect(); // the stream now carries this device's readings; resumes from the last alarm event
  }

  function drawChart() {
    const c = state.chart;
    const box = $('chart');
    const NS = 'http://www.w3.org/2000/svg';
    const W = 600, H = 200, L = 44, R = 8, T = 8, B = 22;
    const pts = c.points;
    if (!pts.length) { box.innerHTML = '<p class="empty">近1小时无读数 · No readings in the last hour</p>'; return; }
    const now = Date.now();
    const x0 = Math.min(c.from, pts[0].t), x1 = Math.max(now, pts[pts.length - 1].t);
    let y0 = Math.min(...pts.map((p) => p.min)), y1 = Math.max(...pts.map((p) => p.max));
    const thresholds = c.metric.endsWith('_lel') ? [[25, 'thr1', '25 %LEL'], [50, 'thr2', '50 %LEL']] : [];
    if (thresholds.length) { y0 = Math.min(y0, 0); y1 = Math.max(y1, 55); }
    if (y1 - y0 < 1e-9) { y1 += 1; y0 -= 1; }
    const X = (t) => L + (t - x0) / (x1 - x0) * (W - L - R);
    const Y = (v) => T + (1 - (v - y0) / (y1 - y0)) * (H - T - B);
    const svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    svg.setAttribute('preserveAspectRatio', 'none');
    const el = (name, attrs, text) => {
      const e = document.createElementNS(NS, name);
      for (const k in attrs) { e.setAttribute(k, attrs[k]); }
      if (text !== undefined) { e.textContent = text; }
      svg.appendChild(e);
      return e;
    };
    el('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' });
    el('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' });
    for (const [v, cls, label] of thresholds) {
      el('line', { x1: L, y1: Y(v), x2: W - R, y2: Y(v), class: 'thr ' + cls });
      el('text', { x: L + 4, y: Y(v) - 3 }, label);
    }
    const band = pts.map((p) => X(p.t) + ',' + Y(p.max)).concat(pts.slice().reverse().map((p) => X(p.t) + ',' + Y(p.min)));
    el('polygon', { points: band.join(' '), class: 'band' });
    el('polyline', { points: pts.map((p) => X(p.t) + ',' + Y(p.v)).join(' '), class: 'line' });
    el('text', { x: L - 4, y: T + 8, 'text-anchor': 'end' }, fmt(y1));
    el('text', { x: L - 4, y: H - B, 'text-anchor': 'end' }, fmt(y0));
    el('text', { x: L, y: H - 6 }, hhmm(new Date(x0).toISOString()));
    el('text', { x: W - R, y: H - 6, 'text-anchor': 'end' }, hhmm(new Date(x1).toISOString()));
    const last = pts[pts.length - 1];
    el('text', { x: X(last.t) - 4, y: Y(last.v) - 5, 'text-anchor': 'end' }, fmt(last.v) + ' ' + unitOf(c.metric));
    box.textContent = '';
    box.appendChild(svg);
  }

  // ---- start
  async function start() {
    try {
      const me = await api('/api/me');
      state.me = me;
      document.body.classList.toggle('viewer', me.role !== 'officer');
      $('who').textContent = (me.role === 'officer' ? '值班员 Officer ' : '只读 Read-only ') + me.name;
      const grid = await api('/api/grid');
      state.grid = grid.communities || [];
      indexGrid(state.grid);
      try {
        await loadDevices();
      } catch (e) { // the database: the board (and its unconfirmed cards) must not wait for it
        if (e.status === 401) { throw e; }
      }
      await restart();
    } catch (e) {
      if (e.status === 401) {
        banner('令牌无效 Token rejected: ' + e.message);
        setConn(false, '未登录 Not signed in');
        return;
      }
      banner('加载失败，5秒后重试 Load failed, retrying in 5 s: ' + e.message);
      setTimeout(start, 5000);
      return;
    }
    setInterval(tickAges, 1000);
    setInterval(() => loadDevices().catch(() => {}), 30000);
    tickAges();
  }
  checkHealth();
  start();
})();
