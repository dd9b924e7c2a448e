// Builds the agent app into api/static/fieldapp: one script (enketo-core, enketo-transformer,
// the app), one stylesheet, and the service worker named for this build. Run by
// scripts/build-fieldapp; the output is committed, so a clone needs no Node to serve it.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import * as sass from 'sass';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, '../static/fieldapp');
const core = join(here, 'node_modules/enketo-core');
mkdirSync(out, { recursive: true });

await esbuild.build({
    entryPoints: [join(here, 'src/main.js')],
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['chrome100', 'firefox100', 'safari15'],
    outfile: join(out, 'app.js'),
    legalComments: 'linked',
    alias: {
        // enketo-core's documented extension points, answered by campo's own modules
        'enketo/config': join(here, 'src/config.js'),
        'enketo/translator': join(here, 'src/translator.js'),
        'enketo/widgets': join(core, 'src/js/widgets.js'),
        'enketo/dialog': join(core, 'src/js/fake-dialog.js'),
        'enketo/file-manager': join(core, 'src/js/file-manager.js'),
        'enketo/xpath-evaluator-binding': join(core, 'src/js/xpath-evaluator-binding.js'),
    },
    external: ['libxslt'], // enketo-transformer's Node path; the browser uses its own XSLT
    loader: { '.png': 'dataurl', '.svg': 'dataurl' },
    logLevel: 'warning',
});

const css = sass.compile(join(here, 'src/app.scss'), {
    loadPaths: [join(here, 'node_modules')],
    // enketo-core imports its dependencies' styles by its own monorepo's paths
    importers: [{
        findFileUrl(url) {
            const prefix = '/packages/enketo-core/node_modules/';
            return url.startsWith(prefix) ? pathToFileURL(join(here, 'node_modules', url.slice(prefix.length))) : null;
        },
    }],
    style: 'compressed',
    quietDeps: true,
    silenceDeprecations: ['import', 'global-builtin', 'color-functions', 'mixed-decls', 'slash-div'],
});
writeFileSync(join(out, 'app.css'), css.css);

const shell = ['/app/', '/static/fieldapp/app.js', '/static/fieldapp/app.css', '/static/fieldapp/manifest.webmanifest'];
const digest = createHash('sha256');
for (const name of ['app.js', 'app.css']) digest.update(readFileSync(join(out, name)));
const version = `campo-app-${digest.digest('hex').slice(0, 12)}`;
const worker = readFileSync(join(here, 'src/sw.js'), 'utf8')
    .replace('__VERSION__', version)
    .replace('__SHELL__', JSON.stringify(shell));
writeFileSync(join(out, 'sw.js'), worker);
writeFileSync(join(out, 'manifest.webmanifest'), readFileSync(join(here, 'src/manifest.webmanifest')));

// What the bundle was built from, so a test can tell a stale bundle from a fresh one.
const sources = createHash('sha256');
for (const name of readdirSync(join(here, 'src')).sort()) sources.update(name).update(readFileSync(join(here, 'src', name)));
sources.update(readFileSync(join(here, 'package-lock.json')));
writeFileSync(join(out, 'SOURCES'), `${sources.digest('hex')}\n`);
console.log(`built ${version} into ${out}`);
