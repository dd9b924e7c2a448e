// enketo-core's settings for campo's agent app (replaces 'enketo/config' at build time):
// no map tiles (the phone may be offline and campo calls no tile server), one page per form.
export default {
    experimentalOptimizations: { computeAsync: false },
    excludeNonRelevant: true,
    maps: [],
    googleApiKey: '',
    repeatOrdinals: false,
    validateContinuously: false,
    validatePage: true,
    swipePage: false,
    textMaxChars: 2000,
};
