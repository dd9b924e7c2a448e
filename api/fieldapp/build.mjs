// Builds the agent app into api/static/fieldapp: the app's script, with the form engine
// (enketo-core, enketo-transformer) in chunks loaded only when forms are needed; the app's
// stylesheet and the forms' one; every file named for its content (cached for a year); the
// list of them (build.json) for the page; and the service worker named for this build. Run
// by scripts/build-fieldapp; the output is committed, so a clone needs no Node to serve it.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import * as sass from 'sass';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, '../static/fieldapp');
const core = join(here, 'node_modules/enketo-core');
rmSync(out, { recursive: true, force: true }); // no file of an earlier build lingers
mkdirSync(out, { recursive: true });

const built = await esbuild.build({
    entryPoints: { app: join(here, 'src/main.js') },
    bundle: true,
    minify: true,
    format: 'esm',
    splitting: true,
    target: ['chrome100', 'firefox100', 'safari15'],
    outdir: out,
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    metafile: true,
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

const named = (base, ext, data) => {
    const name = `${base}-${createHash('sha256').update(data).digest('hex').slice(0, 10)}.${ext}`;
    writeFileSync(join(out, name), data);
    return name;
};
const styles = {};
for (const sheet of ['app', 'form']) {
    const css = sass.compile(join(here, `src/${sheet}.scss`), {
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
    styles[sheet] = named(sheet, 'css', css.css);
}
const manifest = named('manifest', 'webmanifest', readFileSync(join(here, 'src/manifest.webmanifest')));

const outputs = Object.keys(built.metafile.outputs).map((path) => path.split('/').pop());
const [entry, main] = Object.entries(built.metafile.outputs).find(([, o]) => o.entryPoint);
const script = entry.split('/').pop();
const before = main.imports.filter((i) => i.kind === 'import-statement').map((i) => i.path.split('/').pop());
const files = [...outputs.filter((name) => name.endsWith('.js')), styles.app, styles.form, manifest].sort();
const legal = readdirSync(out).filter((name) => name.endsWith('.LEGAL.txt')).sort(); // licences, not kept offline
writeFileSync(join(out, 'build.json'), `${JSON.stringify({ script, styles: styles.app, form_styles: styles.form, manifest, files, legal }, null, 1)}\n`);

// The page and what it needs before sign-in are kept at install; the form engine and its
// styles are kept the first time they load (after sign-in, when the day's forms are made).
const shell = ['/app/', ...[script, ...before, styles.app, manifest].map((name) => `/static/fieldapp/${name}`)];
const version = `campo-app-${createHash('sha256').update(files.join()).digest('hex').slice(0, 12)}`;
const worker = readFileSync(join(here, 'src/sw.js'), 'utf8')
    .replace('__VERSION__', version)
    .replace('__SHELL__', JSON.stringify(shell))
    .replace('__FILES__', JSON.stringify(files.map((name) => `/static/fieldapp/${name}`)));
writeFileSync(join(out, 'sw.js'), worker);

// What the bundle was built from, so a test can tell a stale bundle from a fresh one.
const sources = createHash('sha256');
for (const name of readdirSync(join(here, 'src')).sort()) sources.update(name).update(readFileSync(join(here, 'src', name)));
sources.update(readFileSync(join(here, 'package-lock.json'))).update(readFileSync(join(here, 'build.mjs')));
writeFileSync(join(out, 'SOURCES'), `${sources.digest('hex')}\n`);
console.log(`built ${version} into ${out}`);
