// Builds the MCP Apps host for the notebook: js/apphost/index.js bundled (ESM, minified, no paths or dates
// in it) into apphost.js, and LICENSE-ext-apps.txt beside it: the licence of every npm package with code
// in the bundle, whole, @modelcontextprotocol/ext-apps first.
//   node js/apphost/build.mjs [--out DIR]      (default DIR: mcp_kernel/apps/static; `npm run build:apphost`)
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const flag = process.argv.indexOf("--out");
const out = resolve(flag >= 0 ? process.argv[flag + 1] : join(root, "mcp_kernel", "apps", "static"));

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: ["js/apphost/index.js"],
  outfile: join(out, "apphost.js"),
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2022",
  charset: "utf8",
  legalComments: "none", // the licences ship whole in LICENSE-ext-apps.txt
  metafile: true,
  logLevel: "warning",
});

const bundled = new Set();
for (const output of Object.values(result.metafile.outputs)) {
  for (const [path, input] of Object.entries(output.inputs)) {
    const inPackage = path.split("node_modules/");
    if (input.bytesInOutput > 0 && inPackage.length > 1) {
      const parts = inPackage.at(-1).split("/");
      bundled.add(parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]);
    }
  }
}
const first = "@modelcontextprotocol/ext-apps";
const names = [first, ...[...bundled].filter((name) => name !== first).sort()];
const sections = names.map((name) => {
  const where = join(root, "node_modules", name);
  const { version } = JSON.parse(readFileSync(join(where, "package.json"), "utf8"));
  const file = readdirSync(where).find((entry) => /^licen[cs]e/i.test(entry));
  if (!file) throw new Error(`${name} ships no LICENSE file: its licence cannot be shipped with the bundle`);
  return `${"=".repeat(78)}\n${name} ${version} (${file})\n${"=".repeat(78)}\n\n${readFileSync(join(where, file), "utf8").trim()}\n`;
});
writeFileSync(
  join(out, "LICENSE-ext-apps.txt"),
  `apphost.js bundles code of these npm packages: ${names.join(", ")}.\nEach one's licence follows, whole.\n\n${sections.join("\n")}`,
);
