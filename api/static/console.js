// campo's console: a shape drawn on a map (an iframe of the same origin) fills the page's
// form fields marked data-drawn-shape; data-drawn-status says what was drawn.
window.addEventListener("message", function (event) {
  if (event.origin !== window.location.origin || !event.data || event.data.campo !== "shape") {
    return;
  }
  var geometry = event.data.geometry;
  if (geometry && geometry.coordinates) {
    // Six decimals (about 10 cm) keep a drawn shape short enough for a link.
    geometry = {
      type: geometry.type,
      coordinates: geometry.coordinates.map(function (ring) {
        return ring.map(function (p) { return [+p[0].toFixed(6), +p[1].toFixed(6)]; });
      })
    };
  }
  var text = geometry ? JSON.stringify(geometry) : "";
  document.querySelectorAll("[data-drawn-shape]").forEach(function (field) { field.value = text; });
  document.querySelectorAll("[data-drawn-status]").forEach(function (status) {
    status.textContent = geometry
      ? "Área dibujada (" + (geometry.coordinates[0].length - 1) + " vértices): pulse "
        + (status.dataset.drawnAction || "Filtrar") + "."
      : "Área borrada.";
  });
});

// The board's feed says whether it is live: "en vivo" once the open stream has sent the day's
// feed again (from then on no visit is missed), "reconectando" while the browser retries.
function feedState(text) {
  var state = document.getElementById("feed-estado");
  if (state) { state.textContent = text; }
}
document.addEventListener("htmx:sseMessage", function (event) {
  if (event.detail && event.detail.type === "feed") { feedState("en vivo"); }
});
document.addEventListener("htmx:sseError", function () { feedState("reconectando…"); });
