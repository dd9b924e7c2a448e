// The agent app's service worker: the app itself (page, script, styles) is kept in a cache
// named for its build, so the app opens offline; the day and the forms live in IndexedDB.
// Requests to campo's API always go to the network: the app queues what cannot be sent.
const VERSION = 'campo-app-c2b2b84d1702';
const SHELL = ["/app/","/static/fieldapp/app.js","/static/fieldapp/app.css","/static/fieldapp/manifest.webmanifest"];

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
    } else if (SHELL.includes(url.pathname)) {
        event.respondWith(caches.match(url.pathname).then((hit) => hit || fetch(event.request)));
    }
});
