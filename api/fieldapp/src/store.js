// What the app keeps on the phone (IndexedDB): the session, the day and its forms as last
// downloaded, and the outbox of GPS fixes and finished visits that wait for the network.
import { openDB } from 'idb';

const db = openDB('campo', 1, {
    upgrade(d) {
        d.createObjectStore('kv');
        d.createObjectStore('fixes', { keyPath: 'id' });
        d.createObjectStore('visits', { keyPath: 'instanceId' });
    },
});

export async function get(key) {
    return (await db).get('kv', key);
}

export async function put(key, value) {
    return (await db).put('kv', value, key);
}

export async function clearAll() {
    const d = await db;
    await Promise.all(['kv', 'fixes', 'visits'].map((s) => d.clear(s)));
}

export async function queue(store, item) {
    return (await db).put(store, item);
}

export async function waiting(store) {
    return (await db).getAll(store);
}

export async function remove(store, keys) {
    const tx = (await db).transaction(store, 'readwrite');
    await Promise.all([...keys.map((k) => tx.store.delete(k)), tx.done]);
}
