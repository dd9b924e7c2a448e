// The agent app's service worker: the app itself (page, script, styles) is kept in a cache
// named for its build, so the app opens offline; the day and the forms live in IndexedDB.
// What the sign-in form needs is kept at install; the form engine when the app, signed in,
// asks ('keep-all'), or the first time it loads. Its files are named for their content, so
// a kept copy is always the right one. Requests to campo's API always go to the network:
// the app queues what cannot be sent.
const VERSION = 'campo-app-95f63724d01b';
const SHELL = ["/app/","/static/fieldapp/app-BJJAN47M.js","/static/fieldapp/chunk-3OW4O2V4.js","/static/fieldapp/app-c0b4ae7751.css","/static/fieldapp/manifest-2df3353680.webmanifest"];
const FILES = ["/static/fieldapp/app-BJJAN47M.js","/static/fieldapp/app-c0b4ae7751.css","/static/fieldapp/chunk-3OW4O2V4.js","/static/fieldapp/chunk-TRFI7LYU.js","/static/fieldapp/form-19a876e1b3.css","/static/fieldapp/manifest-2df3353680.webmanifest"];

async function keepAll() {
    const cache = await caches.open(VERSION);
    const missing = [];
    for (const path of FILES) if (!(await cache.match(path))) missing.push(path);
    await cache.addAll(missing);
}

self.addEventListener('message', (event) => {
    if (event.data === 'keep-all') event.waitUntil(keepAll());
});

self.addEventListener('install', (event) => {
    event.waitUntil(caches.open(VERSION).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
    event.waitUntil(
        caches.keys()
            .then((names) => Promise.all(names.filter((n) => n !== VERSION).map((n) => caches.delete(n))))
            .then(() => self.clients.claim()),
    );
});

self.addEventListener('fetch', (event) => {
    const url = new URL(event.request.url);
    if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
    if (event.request.mode === 'navigate' && url.pathname.startsWith('/app/')) {
        // The page: the network's when campo answers (a new build), the cached one otherwise,
        // also when a proxy answers for a campo that is down (502, 503, 504).
        const cached = () => caches.match('/app/');
        event.respondWith(fetch(event.request)
            .then((answer) => (answer.status >= 500 ? cached().then((hit) => hit || answer) : answer))
            .catch(cached));
    } else if (FILES.includes(url.pathname)) {
        event.respondWith(caches.open(VERSION).then(async (cache) => {
            const hit = await cache.match(url.pathname);
            if (hit) return hit;
            const answer = await fetch(event.request);
            if (answer.ok) await cache.put(url.pathname, answer.clone());
            return answer;
        }));
    }
});
