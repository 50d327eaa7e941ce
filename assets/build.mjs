// build.mjs copies the third-party front-end files PSIMS needs from
// assets/node_modules into the places the Go build and the tests read them.
//
// Run it through `make assets` (which runs `npm ci` first). Plain Node, no
// bundler, no dependencies beyond the two npm packages in package.json.
//
// Output (all git-ignored). Files are rewritten only when their content
// changes and stale ones are removed, so a rebuild never leaves a moment
// where `go build` in another terminal finds the directory missing:
//
//   internal/web/static/vendor/nhsuk-frontend.min.css  NHS.UK styles, adjusted (below)
//   internal/web/static/vendor/nhsuk-frontend.min.js   NHS.UK components, an ES module
//   internal/web/static/vendor/images/*                icons and favicons the CSS and layout use
//   assets/dist/axe.min.js                             axe-core, for the browser accessibility tests
//
// axe-core is kept out of internal/web/static so it is not embedded in the
// binary or served to users. Browser tests should inject it with the DevTools
// protocol (Runtime.evaluate), which the page's Content-Security-Policy does
// not restrict, and run it after the load event so app.js has run.
//
// Adjustments to the NHS.UK stylesheet, so it works under our CSP
// (font-src 'self', no third-party hosts):
//
//   - The @font-face rules that load Frutiger from assets.nhs.uk are removed.
//     Frutiger is a licensed font that we may not redistribute, and NHS.UK
//     expects services outside nhs.uk to use Arial; the stylesheet's font
//     stack already falls back to Arial. Without this the browser would log
//     a CSP violation on every page. (Removing the rules at build time is
//     the reliable way: a later @font-face in our own stylesheet would not
//     stop the browser fetching the original.)
//   - Image URLs written as /assets/images/... are made relative, so they
//     resolve next to the stylesheet under /static/vendor/images/.
//   - The sourceMappingURL comments are removed, because the maps are not
//     copied (they would double the size of the binary).
//
// The script fails if anything the stylesheet refers to is missing afterwards,
// or if any reference to another host is left.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const assetsDir = dirname(fileURLToPath(import.meta.url))
const repoDir = dirname(assetsDir)
const nhsuk = join(assetsDir, 'node_modules', 'nhsuk-frontend', 'dist', 'nhsuk')
const axe = join(assetsDir, 'node_modules', 'axe-core', 'axe.min.js')
const vendorDir = join(repoDir, 'internal', 'web', 'static', 'vendor')
const distDir = join(assetsDir, 'dist')

function fail (message) {
  console.error(`build.mjs: ${message}`)
  process.exit(1)
}

for (const path of [nhsuk, axe]) {
  if (!existsSync(path)) fail(`${path} is missing; run "npm ci --prefix assets" first`)
}

// Every file written in this run, so that stale ones can be removed at the end.
const written = new Set()

function write (path, data) {
  written.add(path)
  if (existsSync(path) && readFileSync(path).equals(Buffer.from(data))) return
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, data)
}

function copyDir (from, to) {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (entry.isDirectory()) copyDir(join(from, entry.name), join(to, entry.name))
    else write(join(to, entry.name), readFileSync(join(from, entry.name)))
  }
}

function removeStale (dir) {
  if (!existsSync(dir)) return
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name)
    if (entry.isFile() && !written.has(path)) {
      rmSync(path)
      console.log(`build.mjs: removed stale ${relative(repoDir, path)}`)
    }
  }
}

const withoutSourceMap = (text) => text.replace(/\/[*/]# sourceMappingURL=\S+(\s*\*\/)?\s*$/, '')

// The stylesheet.
let css = readFileSync(join(nhsuk, 'nhsuk-frontend.min.css'), 'utf8')
const fontFaces = css.match(/@font-face\{[^}]*\}/g) ?? []
for (const rule of fontFaces) {
  if (/url\(\s*["']?https?:/.test(rule)) css = css.replace(rule, '')
}
css = css.replaceAll('url(/assets/images/', 'url(images/')
css = withoutSourceMap(css)
if (/https?:\/\//.test(css.replace(/http:\/\/www\.w3\.org\/2000\/svg/g, ''))) {
  fail('the NHS.UK stylesheet still refers to another host; check the @font-face handling')
}
write(join(vendorDir, 'nhsuk-frontend.min.css'), css)

// The JavaScript, an ES module exporting initAll; internal/web/static/app.js imports it.
const js = withoutSourceMap(readFileSync(join(nhsuk, 'nhsuk-frontend.min.js'), 'utf8'))
if (!js.includes('initAll')) fail('nhsuk-frontend.min.js no longer exports initAll')
write(join(vendorDir, 'nhsuk-frontend.min.js'), js)

// Icons and favicons.
copyDir(join(nhsuk, 'assets', 'images'), join(vendorDir, 'images'))

for (const [, ref] of css.matchAll(/url\(\s*["']?([^)"']+)["']?\s*\)/g)) {
  if (ref.startsWith('data:')) continue
  if (!existsSync(join(vendorDir, ref))) fail(`the stylesheet refers to ${ref}, which was not copied`)
}

// axe-core, for the accessibility tests only.
write(join(distDir, 'axe.min.js'), readFileSync(axe))

removeStale(vendorDir)
removeStale(distDir)

const nhsukVersion = JSON.parse(readFileSync(join(nhsuk, '..', '..', 'package.json'), 'utf8')).version
const axeVersion = JSON.parse(readFileSync(join(axe, '..', 'package.json'), 'utf8')).version
console.log(`build.mjs: nhsuk-frontend ${nhsukVersion} -> ${vendorDir}; axe-core ${axeVersion} -> ${join(distDir, 'axe.min.js')}`)
