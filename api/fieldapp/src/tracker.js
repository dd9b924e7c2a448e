// GPS while the app is open: the browser's Geolocation API, one fix per interval the tenant
// sets (slower on low battery), each queued with its own id until it reaches campo.
import * as store from './store.js';

let watching = null;
let last = 0;
let newest = null; // every position the browser reports, recorded or not
let battery = null;

async function batteryNow() {
    // The Battery Status API exists in Chromium-based browsers only.
    if (battery === null && navigator.getBattery) {
        try {
            battery = await navigator.getBattery();
        } catch {
            battery = undefined;
        }
    }
    return battery ? { battery_pct: Math.round(battery.level * 100), charging: battery.charging } : {};
}

export function interval(tracking, level) {
    const low = level !== undefined && level < tracking.low_battery_pct;
    return (low ? tracking.low_battery_interval_s : tracking.interval_s) * 1000;
}

export function start(tracking, onFix) {
    if (watching !== null || !navigator.geolocation) return;
    watching = navigator.geolocation.watchPosition(
        async (position) => {
            newest = { coords: position.coords, at: Date.now() };
            const power = await batteryNow();
            const now = Date.now();
            if (now - last < interval(tracking, power.battery_pct)) return;
            last = now;
            const c = position.coords;
            const fix = {
                id: crypto.randomUUID(),
                recorded_at: new Date(now).toISOString(),
                lat: c.latitude,
                lon: c.longitude,
                accuracy_m: c.accuracy > 0 ? c.accuracy : null,
                speed_mps: c.speed ?? null,
                heading_deg: c.heading === null || Number.isNaN(c.heading) ? null : c.heading % 360,
                altitude_m: c.altitude ?? null,
                ...power,
                mock: null, // a browser never says whether a position is simulated
            };
            await store.queue('fixes', fix);
            onFix(fix);
        },
        () => {},
        { enableHighAccuracy: true, maximumAge: 5000, timeout: 60000 },
    );
}

export function latest(maxAgeMs) {
    // The newest position if it is recent enough to stand for "here, now".
    return newest && Date.now() - newest.at <= maxAgeMs ? newest.coords : null;
}

export function stop() {
    if (watching !== null) navigator.geolocation.clearWatch(watching);
    watching = null;
}
