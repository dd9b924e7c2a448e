// enketo-core's interface strings in Spanish (replaces 'enketo/translator' at build time):
// enketo ships only its English placeholders, and agents read Spanish.
const STRINGS = {
    constraint: { invalid: 'Valor no permitido', required: 'Esta pregunta es obligatoria' },
    filepicker: {
        placeholder: 'Toque para tomar o elegir una foto (< __maxSize__)',
        notFound: 'No se encontró el archivo __existing__',
        waitingForPermissions: 'Esperando permisos…',
        resetWarning: '¿Quitar el __item__?',
        toolargeerror: 'Archivo demasiado grande (> __maxSize__)',
        file: 'archivo',
    },
    drawwidget: { drawing: 'dibujo', signature: 'firma', annotation: 'archivo y dibujo' },
    form: { required: 'obligatoria' },
    geopicker: {
        accuracy: 'precisión (m)',
        altitude: 'altitud (m)',
        closepolygon: 'cerrar polígono',
        kmlcoords: 'coordenadas KML',
        kmlpaste: 'pegue aquí coordenadas KML',
        latitude: 'latitud (x.y °)',
        longitude: 'longitud (x.y °)',
        points: 'puntos',
        searchPlaceholder: 'buscar un lugar o dirección',
        removePoint: '¿Quitar este punto?',
    },
    selectpicker: { noneselected: 'nada elegido', numberselected: '__number__ elegidos' },
    imagemap: { svgNotFound: 'No se encontró la imagen SVG' },
    rankwidget: { tapstart: 'Toque para empezar', clickstart: 'Haga clic para empezar' },
    widget: { comment: { update: 'Actualizar' } },
    alert: {
        gotonotfound: { msg: "No se encontró la pregunta '__path__' en el formulario" },
        valuehasspaces: { multiple: 'Una respuesta múltiple tiene un valor con espacios: "__value__"' },
    },
    confirm: {
        repeatremove: { heading: '¿Borrar este grupo de respuestas?', msg: 'No se puede deshacer.' },
    },
    hint: { guidance: { details: 'Más detalles' } },
};

export function t(key, options = {}) {
    let found = STRINGS;
    for (const part of key.split('.')) found = found && typeof found === 'object' ? found[part] : undefined;
    const text = typeof found === 'string' ? found : key;
    return text.replace(/__([^_]+)__/g, (_, name) => options[name] ?? '');
}

export default { t };
