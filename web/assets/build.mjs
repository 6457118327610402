// Bundles the bpmn-js viewer and modeler (with the properties panel and the Camunda moddle)
// into web/static/vendor/, the only place the Flask app serves them from. Run by `make assets`
// after `npm ci`; the output is not committed (web/static/vendor/ is gitignored).
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

// Markup parsed with innerHTML may not carry style attributes under the app's CSP
// (style-src 'self'): each patch removes one such attribute from a package file and its rule
// lives in src/modeler.css instead. A patch that no longer matches fails the build, so an
// upgrade cannot silently bring the CSP error back.
const CSP_PATCHES = [
  {
    file: /bpmn-js-properties-panel[\\/]dist[\\/]index\.esm\.js$/,
    from: '<div style="height: 100%" tabindex="-1" class="bio-properties-panel-container">',
    to: '<div tabindex="-1" class="bio-properties-panel-container">',
  },
];

const cspPatches = {
  name: 'csp-patches',
  setup(b) {
    for (const patch of CSP_PATCHES) {
      b.onLoad({ filter: patch.file }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        if (!text.includes(patch.from)) {
          throw new Error(`CSP patch no longer applies to ${args.path}: ${patch.from}`);
        }
        return { contents: text.split(patch.from).join(patch.to), loader: 'js' };
      });
    }
  },
};

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, '../static/vendor');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  absWorkingDir: here,
  entryPoints: {
    viewer: 'src/viewer.js',
    modeler: 'src/modeler.js',
    'diagram': 'src/diagram.css',
    'modeler-panel': 'src/modeler.css',
  },
  outdir: out,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  legalComments: 'linked',
  loader: {
    '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file',
  },
  assetNames: 'fonts/[name]-[hash]',
  // CodeMirror's <style> injection would need style-src 'unsafe-inline' (see the file)
  alias: { 'style-mod': './src/style-mod-csp.js' },
  plugins: [cspPatches],
  logLevel: 'info',
});
