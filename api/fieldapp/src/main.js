// campo's agent app: sign in, the day's route, a stop, the visit form; everything read from
// the phone's storage, so the day works offline, and everything waiting shown until it is sent.
import * as api from './api.js';
import { clock, day as longDay, escape, money } from './format.js';
import * as store from './store.js';
import { pending, sync } from './sync.js';
import * as tracker from './tracker.js';
import { showMap } from './stopmap.js';

const app = document.getElementById('app');
const bar = document.getElementById('status');
let current = null; // the open enketo form
let stopMap = null; // the open stop's map, which follows the phone
let reachable = navigator.onLine; // campo answered the last time the app asked
let engine = null; // the form engine's module, once asked for

const build = JSON.parse(document.getElementById('campo-build')?.textContent || '{"files": []}');

function formEngine() {
    // The form engine (enketo, some 2 MB) and its styles load the first time forms are
    // needed, after sign-in, so a phone on a slow network gets the sign-in form first.
    if (!engine) {
        const href = build.form_styles && `/static/fieldapp/${build.form_styles}`;
        if (href && !document.querySelector(`link[href="${href}"]`)) {
            document.head.append(Object.assign(document.createElement('link'), { rel: 'stylesheet', href }));
        }
        engine = import('./visit.js').catch((error) => { engine = null; throw error; });
    }
    return engine;
}

async function offlineReady() {
    // The visit forms on the phone and every file of this build kept by the service worker:
    // the app can open and record a visit with no network.
    if (preparing || !(await store.get('forms')) || !('caches' in window) || !build.files.length) return false;
    const kept = await Promise.all(build.files.map((name) => caches.match(`/static/fieldapp/${name}`)));
    return kept.every(Boolean);
}

function keepForOffline() {
    // Once signed in, the service worker keeps the form engine too, so visits work offline.
    navigator.serviceWorker?.ready.then((registration) => registration.active?.postMessage('keep-all'));
}

let preparing = null; // the visit forms being made ready, after the day

async function refresh(session) {
    // Today's bundle first, so the day shows as soon as it is here; then, without holding
    // the day back, the visit forms (with the form engine) and the day's file, kept on the
    // phone for offline use.
    const day = await api.json('/v1/me/day', session.token);
    await Promise.all([store.put('day', day), store.put('downloaded', new Date().toISOString())]);
    preparing = prepareForms(session)
        .catch((error) => { reachable = !(error instanceof api.Offline); })
        .finally(() => { preparing = null; status(); });
    return day;
}

async function prepareForms(session) {
    keepForOffline();
    const visit = await formEngine();
    const listed = visit.listedForms(await api.text(`/openrosa/key/${session.key}/formList`));
    const known = (await store.get('forms')) || {};
    const forms = {};
    for (const f of listed) {
        forms[f.id] = known[f.id]?.hash === f.hash ? known[f.id]
            : { ...f, ...(await visit.prepare(await api.text(f.url))) };
    }
    const first = listed[0];
    const cases = first ? visit.casesXml(await api.text(`${first.url.replace(/\.xml$/, '')}/cases.csv`)) : null;
    await Promise.all([store.put('forms', forms), store.put('cases', cases)]);
}

async function status(result) {
    const waiting = await pending();
    const last = await store.get('lastSync');
    const session = await store.get('session');
    const zone = (await store.get('day'))?.tracking.timezone;
    const parts = [
        navigator.onLine && reachable ? 'En línea' : 'Sin conexión',
        waiting.visits || waiting.fixes
            ? `En espera: ${waiting.visits} visita(s), ${waiting.fixes} punto(s) GPS`
            : 'Nada en espera',
        last ? `Última sincronización ${clock(last, zone)}` : 'Sin sincronizar aún',
    ];
    const day = await store.get('day');
    if (session && navigator.serviceWorker && !(await offlineReady())) parts.push('Preparando el uso sin conexión…');
    const gps = day && tracker.problem(day.tracking);
    bar.dataset.gps = gps ? 'problem' : 'ok';
    if (gps) parts.push(gps);
    explainGps(day);
    const again = result?.state === 'sign-in' || (session && Date.now() >= session.expires);
    if (again) parts.push('Inicie sesión de nuevo para enviar el GPS');
    if (result?.state === 'key-off') parts.push('Este navegador fue desactivado: hable con su supervisor');
    bar.innerHTML = `${parts.map(escape).join(' · ')} ${session ? '<button id="sync" type="button">Sincronizar</button>' : ''}${again ? ' <button id="relogin" type="button">Entrar</button>' : ''}`;
    bar.dataset.visits = waiting.visits;
    bar.dataset.fixes = waiting.fixes;
    bar.dataset.state = result?.state || '';
    bar.querySelector('#sync')?.addEventListener('click', () => syncNow());
    // What waits stays on the phone while the agent signs in again.
    bar.querySelector('#relogin')?.addEventListener('click', () => signInView('Su sesión venció: entre de nuevo', session));
}

function explainGps(day) {
    // On the visit form, the reason the check-in cannot be taken yet, kept current.
    const line = document.getElementById('gps-problem');
    if (line && day) line.textContent = tracker.problem(day.tracking) || '';
}

async function syncNow() {
    const result = await sync();
    if (result.state === 'offline') reachable = false;
    else if (result.state !== 'nothing') reachable = true;
    await status(result);
    if (result.state === 'done' && location.hash === '#/') await showDay();
    return result;
}

function signInView(message = '', typed = {}) {
    // What the agent typed (or the session had) stays in the form: only the password is asked again.
    stopMap = null;
    app.innerHTML = `
      <h1>campo · Gestor de campo</h1>
      <form id="signin" class="card">
        <label>Código de la empresa<input name="tenant" autocomplete="organization" required value="${escape(typed.tenant || '')}"></label>
        <label>Correo<input name="email" type="email" autocomplete="username" required value="${escape(typed.email || '')}"></label>
        <label>Contraseña<input name="password" type="password" autocomplete="current-password" required></label>
        <p class="error" role="alert">${escape(message)}</p>
        <button type="submit" class="primary">Entrar</button>
      </form>`;
    app.querySelector('#signin').addEventListener('submit', async (event) => {
        event.preventDefault();
        const data = Object.fromEntries(new FormData(event.target));
        try {
            const session = await api.signIn(data);
            await refresh(session);
            start(await store.get('day'));
            location.hash = '#/';
            await route();
            await syncNow(); // what waited for a sign-in goes now
        } catch (error) {
            signInView(error instanceof api.Offline ? 'Sin conexión: para entrar se necesita red' : error.message,
                { tenant: data.tenant, email: data.email });
        }
    });
}

function stopLine(c, zone, done) {
    const window = c.visit_window ? `${c.visit_window[0].slice(0, 5)}–${c.visit_window[1].slice(0, 5)}` : '';
    return `
      <li><a class="stop" href="#/parada/${c.id}" data-case="${c.id}">
        <span class="seq">${c.stop ? c.stop.seq : '·'}</span>
        <span class="who"><strong>${escape(c.debtor.full_name)}</strong>
          <span>${escape(c.address?.text || 'Sin dirección')}</span>
          <span>${money(c.outstanding_cop)} · ${escape(c.bucket)}
            ${c.stop ? ` · llegada ${clock(c.stop.eta, zone)}` : ''}${window ? ` · horario ${window}` : ''}</span>
          ${done ? `<span class="visited ${done.state}">Visitada hoy: ${escape(RESULT_WORDS[done.state] || done.state)}</span>` : ''}
        </span></a></li>`;
}

async function showDay() {
    const day = await store.get('day');
    if (!day) return signInView();
    const zone = day.tracking.timezone;
    const routed = day.cases.filter((c) => c.stop);
    const others = day.cases.filter((c) => !c.stop);
    const downloaded = await store.get('downloaded');
    const results = (await store.get('results')) || [];
    const today = new Date().toDateString();
    const visited = new Map(); // case id → its newest result of today
    for (const r of results) {
        if (r.caseId && new Date(r.at).toDateString() === today && !visited.has(String(r.caseId))) visited.set(String(r.caseId), r);
    }
    const line = (c) => stopLine(c, zone, visited.get(String(c.id)));
    app.innerHTML = `
      <h1>Mi día · ${escape(longDay(day.date))}</h1>
      <p class="muted">Gestor ${escape(day.agent.code)} · descargado ${clock(downloaded, zone)}
        <button id="reload" type="button">Actualizar el día</button> <button id="signout" type="button">Salir</button></p>
      <h2>Ruta publicada (${routed.length})</h2>
      ${routed.length ? `<ol class="stops">${routed.map(line).join('')}</ol>` : '<p class="muted">No hay ruta publicada para hoy.</p>'}
      <h2>Otros casos asignados (${others.length})</h2>
      <ol class="stops">${others.map(line).join('')}</ol>
      ${results.length ? `<h2>Visitas enviadas</h2><ul class="results">${results.map((r) => resultLine(r)).join('')}</ul>` : ''}`;
    app.querySelector('#reload').addEventListener('click', reload);
    app.querySelector('#signout').addEventListener('click', async () => {
        const waiting = await pending();
        if ((waiting.visits || waiting.fixes) && !confirm('Hay datos sin enviar que se perderán. ¿Salir?')) return;
        tracker.stop();
        await store.clearAll();
        signInView();
        await status();
    });
}

const RESULT_WORDS = {
    accepted: 'Registrada',
    review: 'En revisión',
    incomplete: 'Incompleta, en revisión',
    stored: 'Guardada, se procesará pronto',
    too_far: 'Marcación rechazada: lejos de la puerta',
    rejected: 'Marcación rechazada',
    refused: 'No registrada',
};

function resultLine(r) {
    // Each sent visit in its own colour and words; a rejected check-in offers to redo it
    // (what the agent entered was kept, and the supervisor sees it either way).
    const state = r.state || (r.ok ? 'accepted' : 'refused');
    const redo = state === 'too_far' && r.caseId
        ? ` <a class="button" href="#/visita/${r.caseId}">Repetir en la puerta</a>` : '';
    return `<li class="result ${state}" data-state="${state}"><strong>${escape(RESULT_WORDS[state] || state)}</strong>
        · ${escape(r.label)}: ${escape(r.message)}${redo}</li>`;
}

async function findCase(caseId) {
    const day = await store.get('day');
    return { day, found: day?.cases.find((c) => String(c.id) === String(caseId)) };
}

async function fenceRadius(c) {
    // The address's own radius, else the one the day's file gives (the tenant's default).
    if (c.address?.geofence_radius_m) return c.address.geofence_radius_m;
    const doc = new DOMParser().parseFromString((await store.get('cases')) || '<root/>', 'text/xml');
    const item = [...doc.getElementsByTagName('item')].find((i) => i.getElementsByTagName('name')[0]?.textContent === String(c.id));
    return Number(item?.getElementsByTagName('radius')[0]?.textContent) || null;
}

async function showStop(caseId) {
    const { day, found: c } = await findCase(caseId);
    if (!c) return showDay();
    const zone = day.tracking.timezone;
    const point = c.address?.location?.coordinates; // GeoJSON: [lon, lat]
    const directions = point
        ? `<a class="button" href="https://www.google.com/maps/dir/?api=1&destination=${point[1]},${point[0]}&travelmode=driving" target="_blank" rel="noopener">Cómo llegar (Maps)</a>
           <a class="button" href="https://waze.com/ul?ll=${point[1]},${point[0]}&navigate=yes" target="_blank" rel="noopener">Waze</a>`
        : '';
    app.innerHTML = `
      <p><a href="#/">← Mi día</a></p>
      <h1>${c.stop ? `Parada ${c.stop.seq} · ` : ''}${escape(c.debtor.full_name)}</h1>
      <dl class="card">
        <dt>Dirección</dt><dd>${escape(c.address?.text || 'Sin dirección')}, ${escape(c.address?.city || '')}</dd>
        <dt>Saldo</dt><dd>${money(c.outstanding_cop)} · ${c.days_past_due} días de mora (${escape(c.bucket)})</dd>
        ${c.stop ? `<dt>Llegada estimada</dt><dd>${clock(c.stop.eta, zone)}–${clock(c.stop.etd, zone)}</dd>` : ''}
        ${c.visit_window ? `<dt>Horario de visita</dt><dd>${c.visit_window[0].slice(0, 5)}–${c.visit_window[1].slice(0, 5)}</dd>` : ''}
      </dl>
      <p class="actions">${directions}<a class="button primary" href="#/visita/${c.id}">Registrar visita</a></p>
      <div id="stopmap" class="stopmap" aria-label="Mapa de la parada"></div>`;
    stopMap = point ? showMap(app.querySelector('#stopmap'), {
        lon: point[0], lat: point[1], radius: await fenceRadius(c), here: tracker.latest(600000),
    }) : null;
}

async function showVisit(caseId, formId) {
    const { found: c } = await findCase(caseId);
    const forms = Object.values((await store.get('forms')) || {});
    const cases = await store.get('cases');
    const session = await store.get('session');
    const day = await store.get('day');
    if (c && (!forms.length || !cases) && preparing) {
        app.innerHTML = '<p class="muted" role="status">Preparando el formulario de visita…</p>';
        await preparing;
        return showVisit(caseId, formId);
    }
    if (!c || !forms.length || !cases) return showDay();
    const visit = await formEngine();
    const chosen = forms.find((f) => f.id === formId) || forms[0];
    const others = forms.length > 1
        ? `<p class="muted">Cuestionario: ${forms.map((f) => f === chosen ? `<strong>${escape(f.name)}</strong>`
            : `<a href="#/visita/${c.id}/${encodeURIComponent(f.id)}">${escape(f.name)}</a>`).join(' · ')}</p>`
        : '';
    app.innerHTML = `
      <p><a href="#/parada/${c.id}">← ${escape(c.debtor.full_name)}</a></p>
      <h1>Visita · ${escape(c.debtor.full_name)}</h1>${others}
      <p class="warning" role="alert" id="gps-problem"></p>
      <div id="enketo" class="enketo"></div>
      <p class="error" role="alert" id="form-error"></p>
      <button id="finish" type="button" class="primary">Terminar y guardar la visita</button>`;
    const point = c.address?.location?.coordinates; // GeoJSON: [lon, lat]
    const opened = visit.open(app.querySelector('#enketo'), chosen, {
        cases, caseId: c.id, deviceId: `campo-web:${session.key.slice(0, 8)}`,
        here: () => tracker.usable(day.tracking),
        explain: () => explainGps(day),
        door: point ? { lon: point[0], lat: point[1], radius: await fenceRadius(c) } : null,
    });
    explainGps(day);
    current = opened.form;
    if (opened.errors.length) app.querySelector('#form-error').textContent = opened.errors.join('; ');
    app.querySelector('#finish').addEventListener('click', async () => {
        const queued = await visit.finish(current, c.debtor.full_name, c.id);
        if (!queued) {
            app.querySelector('#form-error').textContent = 'Revise las respuestas marcadas en rojo';
            return;
        }
        current = null;
        location.hash = '#/';
        await status();
        await syncNow();
    });
}

async function route() {
    const session = await store.get('session');
    if (!session) return signInView();
    const [, view, id, form] = location.hash.split('/');
    stopMap = null;
    if (view === 'parada') return showStop(id);
    if (view === 'visita') return showVisit(id, form && decodeURIComponent(form));
    return showDay();
}

function start(day) {
    if (day) {
        tracker.start(day.tracking, () => {
            stopMap?.follow(tracker.latest(600000));
            status();
        });
    }
}

async function boot() {
    if ('serviceWorker' in navigator) {
        navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch(() => {});
    }
    window.addEventListener('hashchange', route);
    window.addEventListener('online', () => syncNow());
    window.addEventListener('offline', () => status());
    setInterval(() => syncNow(), 60000);
    start(await store.get('day'));
    await route();
    await status();
    await syncNow();
    await reload();
}

async function reload() {
    // A fresh day when campo can be reached; the one on the phone when it cannot.
    const session = await store.get('session');
    if (!session || Date.now() >= session.expires) return;
    try {
        await refresh(session);
        reachable = true;
        if (!location.hash || location.hash === '#/') await showDay();
        await preparing;
    } catch (error) {
        reachable = !(error instanceof api.Offline);
    }
    await status();
}

window.campo = { sync: syncNow, pending, offlineReady, form: () => current };
boot();
