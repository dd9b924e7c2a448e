// Sending what waits on the phone, each item exactly once: GPS fixes first through
// /v1/me/sync (so the trail is in campo before the check-in it proves), then each finished
// visit through the form server as ODK Collect sends it. An item leaves the queue only when
// campo has answered for it; a refusal is kept to be shown, never sent again.
import * as api from './api.js';
import * as store from './store.js';

const BATCH = 500;
let running = null;

export async function pending() {
    const [fixes, visits] = await Promise.all([store.waiting('fixes'), store.waiting('visits')]);
    return { fixes: fixes.length, visits: visits.length };
}

async function sendFixes(session) {
    const fixes = (await store.waiting('fixes')).sort((a, b) => a.recorded_at.localeCompare(b.recorded_at));
    let refused = 0;
    for (let i = 0; i < fixes.length; i += BATCH) {
        const batch = fixes.slice(i, i + BATCH);
        const answer = await api.json('/v1/me/sync', session.token, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ fixes: batch }),
        });
        refused += answer.fixes.filter((f) => f.status === 'rejected').length;
        await store.remove('fixes', batch.map((f) => f.id));
    }
    return { sent: fixes.length, refused };
}

async function sendVisits(session) {
    const results = (await store.get('results')) || [];
    let sent = 0;
    for (const visit of await store.waiting('visits')) {
        let message;
        let state;
        try {
            ({ message, state } = await api.submit(session.key, visit));
        } catch (error) {
            if (!(error instanceof api.Refused) || error.status === 404) throw error;
            message = error.message;
            state = 'refused';
        }
        const ok = state === 'accepted';
        results.unshift({ instanceId: visit.instanceId, label: visit.label, caseId: visit.caseId, ok, state,
            message, at: new Date().toISOString() });
        await store.put('results', results.slice(0, 50));
        await store.remove('visits', [visit.instanceId]);
        sent += 1;
    }
    return sent;
}

async function run() {
    const session = await store.get('session');
    if (!session) return { state: 'signed-out' };
    const waiting = await pending();
    if (!waiting.fixes && !waiting.visits) {
        return { state: 'nothing', at: await store.get('lastSync') };
    }
    try {
        // Fixes need the sign-in's token; visits only the browser's key, so they go out
        // even when the token has expired.
        let fixes = { sent: 0, refused: 0 };
        let signIn = Date.now() >= session.expires;
        if (waiting.fixes && !signIn) {
            try {
                fixes = await sendFixes(session);
            } catch (error) {
                if (!(error instanceof api.Refused && error.status === 401)) throw error;
                signIn = true;
            }
        }
        const visits = await sendVisits(session);
        const at = new Date().toISOString();
        await store.put('lastSync', at);
        return { state: signIn ? 'sign-in' : 'done', fixes, visits, at };
    } catch (error) {
        if (error instanceof api.Refused && error.status === 404) return { state: 'key-off' };
        return { state: 'offline', message: error.message };
    }
}

export function sync() {
    // One run at a time: a second call while one runs waits for it instead of sending twice.
    if (!running) running = run().finally(() => { running = null; });
    return running;
}
