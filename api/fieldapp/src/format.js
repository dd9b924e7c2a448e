// Money and times as people in Colombia read them: $ 4.643.110, 24-hour clock in the
// tenant's zone (the phone may be set to another).
const pesos = new Intl.NumberFormat('es-CO', { maximumFractionDigits: 0 });

export function money(amount) {
    return `$ ${pesos.format(Math.round(Number(amount)))}`;
}

export function clock(iso, zone) {
    if (!iso) return '';
    return new Intl.DateTimeFormat('es-CO', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: zone })
        .format(new Date(iso));
}

export function day(isoDate) {
    const [y, m, d] = isoDate.split('-').map(Number);
    return new Intl.DateTimeFormat('es-CO', { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' })
        .format(new Date(Date.UTC(y, m - 1, d)));
}

export function escape(value) {
    return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
