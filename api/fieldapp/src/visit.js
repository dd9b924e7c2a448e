// The visit form in the browser: the same XForm campo serves ODK Collect, turned into
// Enketo's HTML and model by enketo-transformer and run by enketo-core (skip logic,
// constraints, the in-form distance check at the door, the camera). A finished form is
// queued as Collect would send it: the instance XML and its photos.
import { transform } from 'enketo-transformer/web';
import { Form } from 'enketo-core';
import events from 'enketo-core/src/js/event';
import fileManager from 'enketo-core/src/js/file-manager';
import L from 'leaflet';
import Papa from 'papaparse';
import * as store from './store.js';
import { t } from './translator.js';

const DAY_FILE = 'cases.csv';

export function listedForms(xml) {
    // The OpenRosa form list: id, version, hash and where to download each form.
    const doc = new DOMParser().parseFromString(xml, 'text/xml');
    return [...doc.getElementsByTagName('xform')].map((f) => ({
        id: f.getElementsByTagName('formID')[0].textContent,
        name: f.getElementsByTagName('name')[0].textContent,
        hash: f.getElementsByTagName('hash')[0].textContent,
        url: new URL(f.getElementsByTagName('downloadUrl')[0].textContent).pathname,
    }));
}

export async function prepare(xform) {
    // Done once per form version, when the day is downloaded, not at each visit.
    const { form, model } = await transform({ xform });
    return { html: form, model };
}

export function casesXml(csv) {
    // An XForm reads a CSV media file as <root><item>column...</item></root>.
    const rows = Papa.parse(csv.trim(), { header: true, skipEmptyLines: true }).data;
    const doc = document.implementation.createDocument(null, 'root');
    for (const row of rows) {
        const item = doc.createElement('item');
        for (const [column, value] of Object.entries(row)) {
            const cell = doc.createElement(column);
            cell.textContent = value;
            item.appendChild(cell);
        }
        doc.documentElement.appendChild(item);
    }
    return new XMLSerializer().serializeToString(doc);
}

function sessionInstance(deviceId) {
    return `<session><context><deviceid>${deviceId}</deviceid></context></session>`;
}

function withSession(model) {
    // enketo-core answers the deviceid preload from a '__session' instance the model declares.
    const doc = new DOMParser().parseFromString(model, 'text/xml');
    const holder = doc.querySelector('model') || doc.documentElement;
    const instance = doc.createElementNS(holder.namespaceURI, 'instance');
    instance.setAttribute('id', '__session');
    holder.appendChild(instance);
    return new XMLSerializer().serializeToString(doc);
}

function localize(root) {
    // The transformer writes enketo's own messages in English with their keys.
    for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
}

function sayDoorDistance(picker, coords, door) {
    // How far the door is, said under the check-in as the form's own rule judges it (the
    // fence plus the fix's accuracy), so "too far" always comes with the metres.
    if (!door) return;
    let line = picker.parentElement.querySelector('.door-distance');
    if (!line) {
        line = document.createElement('p');
        line.className = 'door-distance';
        line.setAttribute('role', 'status');
        picker.after(line);
    }
    const metres = Math.round(L.latLng(coords.latitude, coords.longitude).distanceTo([door.lat, door.lon]));
    const allowed = Math.round((door.radius || 0) + coords.accuracy);
    const far = metres > allowed;
    line.classList.toggle('far', far);
    line.dataset.metres = String(metres);
    line.textContent = far
        ? `Está a ${metres} m de la dirección del caso; se admiten ${Math.round(door.radius || 0)} m más la precisión del GPS (${Math.round(coords.accuracy)} m): acérquese a la puerta y vuelva a tomar la ubicación`
        : `Está a ${metres} m de la dirección del caso`;
}

function gpsOnly(root, here, explain, door) {
    // The check-in is where the phone's GPS says it is: coordinates cannot be typed or
    // searched for, and the locate button takes the position the app is already following
    // (a second GPS request next to the app's own watch can wait for minutes). Without a
    // good enough one, the agent is told why and what to do, never left with an empty field.
    for (const picker of root.querySelectorAll('.geopicker')) {
        for (const input of picker.querySelectorAll('input[name=lat], input[name=long], input[name=alt], input[name=acc]')) {
            input.readOnly = true;
        }
        picker.querySelector('.search-bar .input-group')?.remove();
        const locate = picker.querySelector('button[name=geodetect]');
        locate?.setAttribute('title', 'Tomar mi ubicación actual');
        locate?.setAttribute('aria-label', 'Tomar mi ubicación actual');
        locate?.addEventListener('click', (event) => {
            event.stopImmediatePropagation();
            event.preventDefault();
            const coords = here();
            explain();
            if (!coords) return;
            const values = { lat: coords.latitude.toFixed(6), long: coords.longitude.toFixed(6),
                alt: (coords.altitude ?? 0).toFixed(1), acc: coords.accuracy.toFixed(1) };
            for (const [name, value] of Object.entries(values)) picker.querySelector(`input[name=${name}]`).value = value;
            picker.querySelector('input[name=lat]').dispatchEvent(new Event('change', { bubbles: true }));
            sayDoorDistance(picker, coords, door);
        }, { capture: true });
        picker.addEventListener('click', () => setTimeout(() => { // the bin clears the fix
            if (!picker.querySelector('input[name=lat]').value) picker.parentElement.querySelector('.door-distance')?.remove();
        }));
    }
}

export function open(container, prepared, { cases, caseId, deviceId, here, explain, door }) {
    container.innerHTML = prepared.html;
    localize(container);
    const formEl = container.querySelector('form.or');
    const parse = (xml) => new DOMParser().parseFromString(xml, 'text/xml');
    const form = new Form(formEl, {
        modelStr: withSession(prepared.model),
        external: [
            { id: 'cases', src: `jr://file-csv/${DAY_FILE}`, xml: parse(cases) },
            { id: '__session', xml: parse(sessionInstance(deviceId)) },
        ],
    }, { language: 'es' });
    const errors = form.init();
    gpsOnly(formEl, here, explain, door);
    if (caseId) choose(form, String(caseId));
    return { form, errors };
}

function choose(form, caseId) {
    // The stop the agent opened is the form's case: typed into the case list's search box as
    // the agent would (enketo's autocomplete widget maps the label back to the case id).
    const original = form.view.html.querySelector('input[name$="/case"]');
    const search = original?.parentElement.querySelector('input.autocomplete');
    const list = original && form.view.html.querySelector(`datalist#${CSS.escape(original.getAttribute('list'))}`);
    const option = list && [...list.options].find((o) => o.dataset.value === caseId);
    if (!search || !option) return;
    search.value = option.value;
    search.dispatchEvent(new Event('input', { bubbles: true }));
    search.dispatchEvent(new Event('change', { bubbles: true }));
}

export async function finish(form, label, caseId) {
    // Valid forms only; the instance and its files wait in the outbox until sent.
    form.view.html.dispatchEvent(events.BeforeSave());
    if (!(await form.validate())) return null;
    const xml = form.getDataStr({ irrelevant: false });
    const files = fileManager.getCurrentFiles().map((blob) => ({ name: blob.name, blob }));
    const visit = { instanceId: form.instanceID, xml, files, label, caseId, queuedAt: new Date().toISOString() };
    await store.queue('visits', visit);
    return visit;
}
