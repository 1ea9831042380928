// Build the page into ../server/assets (committed; the server embeds it):
//   npm --prefix ui ci && npm --prefix ui run build
// tests/test_web_page.py rebuilds it from a clean copy and compares the bytes.
// Output is reproducible: the same sources and lock give the same bytes (esbuild is
// deterministic; gzip is written without a timestamp).
import { build } from "esbuild";
import { gzipSync } from "node:zlib";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
// `node build.mjs [out-dir]`: by default the server's embedded assets.
const out = process.argv[2] ? resolve(process.argv[2]) : join(here, "..", "server", "assets");
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: [join(here, "src", "main.js")],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  write: false,
  outdir: out,
  legalComments: "eof",
  logLevel: "warning",
  loader: { ".css": "css" },
});

// FNV-1a 64 of the bytes: the server's ETag; its first 8 hex digits version the asset URLs.
function fnv(bytes) {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}

function emit(name, bytes) {
  writeFileSync(join(out, name), bytes);
  writeFileSync(join(out, name + ".gz"), gzipSync(bytes, { level: 9 }));
  return fnv(bytes).slice(0, 8);
}

const files = {};
for (const f of result.outputFiles) {
  const name = f.path.endsWith(".css") ? "app.css" : "app.js";
  files[name] = emit(name, Buffer.from(f.contents));
}
emit(
  "LICENSE-lightweight-charts.txt",
  Buffer.concat([
    Buffer.from(
      "TradingView Lightweight Charts(TM)\nCopyright (c) 2025 TradingView, Inc. https://www.tradingview.com/\n\n",
    ),
    readFileSync(join(here, "node_modules", "lightweight-charts", "LICENSE")),
  ]),
);
const html = readFileSync(join(here, "index.html"), "utf8")
  .replace("/ui/app.js", `/ui/app.js?v=${files["app.js"]}`)
  .replace("/ui/app.css", `/ui/app.css?v=${files["app.css"]}`);
emit("index.html", Buffer.from(html));
for (const [name, v] of Object.entries(files)) {
  const size = readFileSync(join(out, name)).length;
  const gz = readFileSync(join(out, name + ".gz")).length;
  console.log(`${name}: ${size} bytes, ${gz} gzipped (v=${v})`);
}
