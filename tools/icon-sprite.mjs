// Builds one SVG sprite from the Lucide icons the templates use (templates/_icons.html):
//   node tools/icon-sprite.mjs OUT.svg name1 name2 ...
// Each icon becomes a <symbol id="name">; a page draws it with <svg><use href="OUT.svg#name"></use></svg>,
// so the icons are served from our own origin (no CDN, no inline SVG needed under the strict CSP).
import { readFileSync, writeFileSync } from "node:fs";

const [out, ...names] = process.argv.slice(2);
if (!out || names.length === 0) {
  console.error("usage: node tools/icon-sprite.mjs OUT.svg NAME...");
  process.exit(2);
}
const base = new URL("../node_modules/lucide-static/", import.meta.url);
const version = JSON.parse(readFileSync(new URL("package.json", base), "utf8")).version;
const symbols = names.map((name) => {
  const svg = readFileSync(new URL(`icons/${name}.svg`, base), "utf8");
  const body = svg.replace(/^[\s\S]*?<svg[^>]*>/, "").replace(/<\/svg>\s*$/, "").trim();
  const viewBox = (svg.match(/viewBox="([^"]+)"/) || [null, "0 0 24 24"])[1];
  return `  <symbol id="${name}" viewBox="${viewBox}">\n    ${body.replace(/\n\s*/g, "\n    ")}\n  </symbol>`;
});
writeFileSync(out, `<svg xmlns="http://www.w3.org/2000/svg">
  <!-- Lucide icons (lucide-static ${version}), ISC licence: https://lucide.dev/license -->
${symbols.join("\n")}
</svg>
`);
