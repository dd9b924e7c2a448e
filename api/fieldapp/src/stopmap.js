// The stop's map: the door, its fence and where the phone last was (the app follows the GPS). Tiles load when online; offline
// the fence and the positions still show on a blank background.
import L from 'leaflet';

export function showMap(element, { lon, lat, radius, here }) {
    const map = L.map(element, { zoomControl: true }).setView([lat, lon], 17);
    L.tileLayer('https://tile.openstreetmap.org/{z}/{x}/{y}.png', {
        maxZoom: 19,
        attribution: '© OpenStreetMap',
    }).addTo(map);
    const fence = L.circle([lat, lon], { radius: radius || 75, color: '#1f77b4' }).addTo(map);
    L.circleMarker([lat, lon], { radius: 7, color: '#d62728', fillOpacity: 1 }).addTo(map).bindTooltip('Puerta');
    if (here) {
        // Both in view, and how far the door is, measured on the map's sphere.
        const you = L.latLng(here.latitude, here.longitude);
        L.circleMarker(you, { radius: 6, color: '#2ca02c', fillOpacity: 1 }).addTo(map)
            .bindTooltip(`Usted · a ${Math.round(you.distanceTo([lat, lon]))} m de la puerta`, { permanent: true, direction: 'top', offset: [0, -6] });
        map.fitBounds(fence.getBounds().extend(you), { padding: [48, 48], maxZoom: 17 });
    }
    return map;
}
