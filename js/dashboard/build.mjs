// Builds the demo dashboard into one self-contained HTML file plus the licences of what it bundles.
//
//   node js/dashboard/build.mjs OUT_DIR   (npm run build:dashboard writes mcp_kernel/demo/)
//
// Writes OUT_DIR/dashboard.html (index.html with the bundled main.js inlined) and
// OUT_DIR/LICENSE-dashboard.txt. Same inputs, same bytes: the esbuild version is pinned exactly in
// package.json, paths are relative to the repository, and packages are listed in sorted order.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..", "..");
const MARKER = "<script>/* BUNDLE */</script>";

const out = process.argv[2];
if (!out) {
  console.error("usage: node js/dashboard/build.mjs OUT_DIR");
  process.exit(2);
}

const result = await build({
  absWorkingDir: ROOT,
  entryPoints: ["js/dashboard/main.js"],
  bundle: true,
  format: "iife",
  platform: "browser",
  target: ["es2022"],
  minify: true,
  legalComments: "none", // the licences are shipped whole in LICENSE-dashboard.txt instead
  metafile: true,
  write: false,
  logLevel: "warning",
});
const script = result.outputFiles[0].text.trimEnd();
if (/<\/script|<!--/i.test(script)) {
  throw new Error("the bundle contains '</script' or '<!--', which would end or break the inline <script>");
}

const template = readFileSync(join(HERE, "index.html"), "utf8");
const parts = template.split(MARKER);
if (parts.length !== 2) throw new Error(`index.html must contain ${MARKER} exactly once`);
// split/join, not String.replace: a '$' in the bundle must stay as it is.
const html = parts.join(`<script>${script}</script>`);
writeFileSync(join(out, "dashboard.html"), html);

/** The bundle's inputs that put code into it (tree-shaken ones put none), as repository paths. */
const used = Object.entries(Object.values(result.metafile.outputs)[0].inputs)
  .filter(([, input]) => input.bytesInOutput > 0)
  .map(([path]) => path);

/** The npm packages the bundle took code from, as their directories under node_modules, sorted. */
function bundledPackages(paths) {
  const dirs = new Set();
  for (const path of paths) {
    const match = path.match(/^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//);
    if (match) dirs.add(match[1]);
  }
  return [...dirs].sort();
}

/** Packages another package's dist vendors (its bundler marks them `//#region .../.pnpm/NAME@VERSION`). */
function vendoredPackages(paths) {
  const ids = new Set();
  for (const path of paths.filter((p) => p.includes("node_modules/"))) {
    for (const match of readFileSync(join(ROOT, path), "utf8").matchAll(/^\/\/#region .*?\/\.pnpm\/([^/_]+)/gm)) {
      ids.add(match[1]);
    }
  }
  return [...ids].sort();
}

function licenceText(dir) {
  const name = readdirSync(join(ROOT, dir)).find((f) => /^licen[cs]e(\.(md|txt))?$/i.test(f));
  if (!name) throw new Error(`${dir} has no LICENSE file: its licence cannot be shipped whole`);
  return readFileSync(join(ROOT, dir, name), "utf8").trimEnd();
}

const packages = bundledPackages(used).map((dir) => {
  const meta = JSON.parse(readFileSync(join(ROOT, dir, "package.json"), "utf8"));
  return { name: `${meta.name} ${meta.version}`, licence: meta.license, text: licenceText(dir) };
});
// A vendored package's licence is kept in js/dashboard/licences/ (NAME@VERSION.txt, '/' written '+'): a
// new one after an upgrade stops the build until its licence is added there.
for (const id of vendoredPackages(used)) {
  const file = join(HERE, "licences", `${id}.txt`);
  let text;
  try {
    text = readFileSync(file, "utf8").trimEnd();
  } catch {
    throw new Error(`the bundle vendors ${id}: add its licence as ${file}`);
  }
  const at = id.lastIndexOf("@");
  packages.push({ name: `${id.slice(0, at).replace("+", "/")} ${id.slice(at + 1)}`, licence: "vendored", text });
}
const notes = [
  "dashboard.html (the demo server's ui://demo/dashboard.html view) is built by `npm run build:dashboard`",
  "from js/dashboard/ in the mcp-kernel repository, under mcp-kernel's licence. Its inline script bundles",
  "code from these npm packages (\"vendored\": copied into another one's dist); each licence follows whole.",
  "",
  ...packages.map((p) => `  ${p.name} (${p.licence})`),
  ...packages.flatMap((p) => ["", "", `==== ${p.name} ====`, "", p.text]),
  "",
].join("\n");
writeFileSync(join(out, "LICENSE-dashboard.txt"), notes);
console.log(`${join(out, "dashboard.html")}: ${Buffer.byteLength(html)} bytes; bundles ${packages.length} packages`);
