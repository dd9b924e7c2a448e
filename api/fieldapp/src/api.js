// campo's server as the app sees it: the signed-in token for the JSON API, the browser's key
// for the form server (OpenRosa), and one error type that says whether to try again later.
import * as store from './store.js';

export class Refused extends Error {
    // The server answered and said no: sending the same thing again will not help.
    constructor(status, message) {
        super(message);
        this.status = status;
    }
}

export class Offline extends Error {}

async function send(url, init = {}) {
    let answer;
    try {
        answer = await fetch(url, { cache: 'no-store', ...init });
    } catch (error) {
        throw new Offline(`sin conexión (${error.message})`);
    }
    if (answer.status >= 500) throw new Offline(`el servidor respondió ${answer.status}`);
    return answer;
}

async function detail(answer) {
    const body = await answer.text();
    try {
        const parsed = JSON.parse(body);
        return parsed.error?.message || JSON.stringify(parsed);
    } catch {
        const message = new DOMParser().parseFromString(body, 'text/xml').querySelector('message');
        return message?.textContent || body || `error ${answer.status}`;
    }
}

export async function signIn({ tenant, email, password }) {
    const form = new URLSearchParams({ username: email, password, client_id: tenant, grant_type: 'password' });
    const answer = await send('/v1/auth/token', { method: 'POST', body: form });
    if (answer.status === 401 || answer.status === 404) {
        throw new Refused(answer.status, 'Correo, contraseña o código de la empresa incorrectos');
    }
    if (!answer.ok) throw new Refused(answer.status, await detail(answer));
    const { access_token: token, expires_in: ttl } = await answer.json();
    const me = await json('/v1/me', token);
    if (me.role !== 'agent') throw new Refused(403, 'Esta app es para gestores de campo');
    const known = await store.get('session');
    // The browser's key is kept across sign-ins: visits queued with it still go out.
    let key = known?.tenant === tenant && known?.userId === me.user_id ? known.key : null;
    if (key && (await send(`/openrosa/key/${key}/submission`, { method: 'HEAD' })).status === 404) {
        key = null; // switched off by an admin (or by signing in on a fourth browser)
    }
    key ??= (await json('/v1/me/web-app', token, { method: 'POST' })).key;
    const session = { token, expires: Date.now() + ttl * 1000, tenant, email, userId: me.user_id, key };
    await store.put('session', session);
    return session;
}

export async function json(url, token, init = {}) {
    const headers = { Authorization: `Bearer ${token}`, ...(init.headers || {}) };
    const answer = await send(url, { ...init, headers });
    if (!answer.ok) throw new Refused(answer.status, await detail(answer));
    return answer.json();
}

export async function text(url) {
    const answer = await send(url);
    if (!answer.ok) throw new Refused(answer.status, await detail(answer));
    return answer.text();
}

export async function submit(key, visit) {
    // As ODK Collect sends a finished form: the instance and its attachments, multipart.
    const body = new FormData();
    body.append('xml_submission_file', new Blob([visit.xml], { type: 'text/xml' }), 'submission.xml');
    for (const file of visit.files) body.append(file.name, file.blob, file.name);
    const answer = await send(`/openrosa/key/${key}/submission`, {
        method: 'POST',
        body,
        headers: { 'X-OpenRosa-Version': '1.0' },
    });
    const answered = await answer.clone().text();
    const message = await detail(answer);
    if (answer.status === 201 || answer.status === 202) {
        // campo says what the visit came to beside Collect's message: accepted, review,
        // too_far (rejected, but coming closer helps), rejected, incomplete, refused or stored.
        const doc = new DOMParser().parseFromString(answered, 'text/xml');
        const receipt = doc.getElementsByTagNameNS('https://campo.dev/openrosa', 'receipt')[0];
        return { message, state: receipt?.getAttribute('state') || 'stored' };
    }
    throw new Refused(answer.status, message);
}
