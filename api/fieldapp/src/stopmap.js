// The stop's map: the door, its fence and where the phone is, moved as the GPS reports. Tiles load when online; offline
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
    let you = null;
    const follow = (coords) => {
        // Where the phone is now, and how far the door is, measured on the map's sphere.
        if (!coords) return;
        const at = L.latLng(coords.latitude, coords.longitude);
        const said = `Usted · a ${Math.round(at.distanceTo([lat, lon]))} m de la puerta`;
        if (!you) {
            you = L.circleMarker(at, { radius: 6, color: '#2ca02c', fillOpacity: 1 }).addTo(map)
                .bindTooltip(said, { permanent: true, direction: 'top', offset: [0, -6] });
        }
        you.setLatLng(at).setTooltipContent(said);
        element.dataset.distance = String(Math.round(at.distanceTo([lat, lon])));
    };
    if (here) {
        follow(here);
        map.fitBounds(fence.getBounds().extend(you.getLatLng()), { padding: [48, 48], maxZoom: 17 });
    }
    return { map, follow };
}
