// GPS while the app is open: the browser's Geolocation API, one fix per interval the tenant
// sets (slower on low battery), each queued with its own id until it reaches campo.
import * as store from './store.js';

let watching = null;
let last = 0;
let newest = null; // every position the browser reports, recorded or not
let battery = null;
let failure = null; // the browser's last refusal: 1 permission, 2 unavailable, 3 timeout

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
    if (watching !== null || !navigator.geolocation || !window.isSecureContext) return;
    watching = navigator.geolocation.watchPosition(
        async (position) => {
            newest = { coords: position.coords, at: Date.now() };
            failure = null;
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
        (error) => {
            failure = error.code;
            onFix(null);
        },
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

export function problem(tracking) {
    // Why there is no position good enough for a check-in, in words for the agent with what to
    // do; null when there is one. The limits are the tenant's, the ones campo judges by.
    if (!window.isSecureContext) {
        return 'Esta dirección no es segura (http): el teléfono no entrega la ubicación. Abra campo con https:// (pida la dirección a su supervisor).';
    }
    if (!navigator.geolocation) return 'Este navegador no entrega la ubicación: abra campo en Chrome.';
    if (failure === 1) {
        return 'campo no tiene permiso para la ubicación: toque el candado junto a la dirección › Permisos › Ubicación › Permitir, y recargue.';
    }
    if (failure === 2) return 'El teléfono no encuentra su ubicación: active la ubicación (GPS) en Ajustes y salga a cielo abierto.';
    if (!newest) return 'Buscando la ubicación… espere unos segundos, mejor al aire libre.';
    const age = (Date.now() - newest.at) / 1000;
    if (age > tracking.checkin_max_fix_age_s) {
        return `La última ubicación es de hace ${Math.round(age / 60)} min: espere una nueva, mejor al aire libre.`;
    }
    const accuracy = newest.coords.accuracy;
    if (accuracy > tracking.checkin_max_accuracy_m) {
        return `La ubicación es imprecisa (± ${Math.round(accuracy)} m; se necesita ± ${Math.round(tracking.checkin_max_accuracy_m)} m o menos): espere unos segundos al aire libre.`;
    }
    return null;
}

export function usable(tracking) {
    // The newest position, if it would pass campo's own accuracy and age limits.
    return problem(tracking) ? null : newest.coords;
}
