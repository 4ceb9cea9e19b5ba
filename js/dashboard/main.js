// The demo server's sales dashboard: the View side of an MCP App (ui://demo/dashboard.html).
//
// The host sends the aggregate_sales call's input and result; this draws the result as an SVG bar chart.
// The region control calls aggregate_sales again through the host (tools/call) and redraws. Colours follow
// the host's theme and style variables; size changes reach the host through the App's autoResize.
import {
  App,
  applyDocumentTheme,
  applyHostStyleVariables,
} from "@modelcontextprotocol/ext-apps";

const TOOL = "aggregate_sales";
const MAX_BARS = 40; // group_by=customer gives 240 groups: the largest 40 keep the chart readable
const BAR = 22; // px per bar, gap included
const LABEL = 120; // px for the key column
const WIDTH = 560;
const MEASURES = { sum: "Revenue", count: "Orders", avg: "Average order" };

const status = document.getElementById("status");
const chart = document.getElementById("chart");
const title = document.getElementById("title");
const region = document.getElementById("region");

/** What the last call asked for: the control keeps its group_by and metric and changes only region. */
let input = { group_by: "month", metric: "sum" };
let locale;

function show(message, kind) {
  status.textContent = message;
  status.className = kind;
  status.hidden = !message;
}

/** The result's data: structuredContent, or the JSON of its first text block (older hosts send only that). */
function aggregateOf(result) {
  if (result.structuredContent && Array.isArray(result.structuredContent.groups)) {
    return result.structuredContent;
  }
  const text = (result.content || []).find((c) => c.type === "text");
  try {
    const data = JSON.parse(text ? text.text : "");
    if (data && Array.isArray(data.groups)) return data;
  } catch {
    // not JSON: reported below as a result this view cannot draw
  }
  return undefined;
}

function errorText(result) {
  const texts = (result.content || []).filter((c) => c.type === "text").map((c) => c.text);
  return texts.join("\n") || "the tool reported an error without a message";
}

function formatter(metric) {
  return metric === "count"
    ? new Intl.NumberFormat(locale, { maximumFractionDigits: 0 })
    : new Intl.NumberFormat(locale, { style: "currency", currency: "EUR", maximumFractionDigits: 0 });
}

const SVG = "http://www.w3.org/2000/svg"; // the SVG namespace name: an identifier, never fetched

function element(name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Horizontal bars, one per group, in the server's order (months stay chronological). */
function draw(data) {
  let groups = data.groups;
  let note = "";
  if (groups.length > MAX_BARS) {
    const kept = new Set([...groups].sort((a, b) => b.value - a.value).slice(0, MAX_BARS));
    note = ` (the ${MAX_BARS} largest of ${groups.length})`;
    groups = groups.filter((g) => kept.has(g));
  }
  const where = input.region ? ` in ${input.region}` : "";
  const measure = MEASURES[data.metric] || data.metric;
  title.textContent = `${measure} by ${data.group_by}${where}${note}`;
  chart.replaceChildren();
  if (groups.length === 0) {
    show("No orders match.", "info");
    return;
  }
  show("", "");
  const fmt = formatter(data.metric);
  const top = Math.max(...groups.map((g) => g.value), 0) || 1;
  const span = WIDTH - LABEL - 90;
  const svg = element("svg", {
    viewBox: `0 0 ${WIDTH} ${groups.length * BAR}`,
    width: "100%",
    role: "img",
    "aria-label": title.textContent,
  });
  groups.forEach((g, i) => {
    const y = i * BAR;
    const w = Math.max(1, (Math.max(g.value, 0) / top) * span);
    const row = element("g", { class: "bar", "data-key": g.key });
    row.append(
      element("text", { x: LABEL - 6, y: y + BAR / 2, class: "key" }, g.key),
      element("rect", { x: LABEL, y: y + 3, width: w.toFixed(1), height: BAR - 6, rx: 3 }),
      element("text", { x: LABEL + w + 6, y: y + BAR / 2, class: "value" }, fmt.format(g.value)),
    );
    row.append(element("title", {}, `${g.key}: ${fmt.format(g.value)}`));
    svg.append(row);
  });
  chart.append(svg);
}

function render(result) {
  if (result.isError) {
    chart.replaceChildren();
    show(`The tool failed: ${errorText(result)}`, "error");
    return;
  }
  const data = aggregateOf(result);
  if (!data) {
    chart.replaceChildren();
    show(`The result is not an aggregate_sales result: ${errorText(result)}`, "error");
    return;
  }
  draw(data);
}

function applyContext(context) {
  if (!context) return;
  if (context.theme) applyDocumentTheme(context.theme);
  if (context.styles && context.styles.variables) applyHostStyleVariables(context.styles.variables);
  if (context.locale) locale = context.locale;
}

function takeInput(args) {
  input = { ...input, ...(args || {}) };
  region.value = input.region || "all";
}

const app = new App({ name: "demo-sales-dashboard", version: "1.0.0" }, {}, { autoResize: true });

app.ontoolinput = (params) => takeInput(params.arguments);
app.ontoolresult = (params) => render(params);
app.ontoolcancelled = (params) => {
  chart.replaceChildren();
  show(`The tool call was cancelled${params.reason ? `: ${params.reason}` : "."}`, "error");
};
app.onhostcontextchanged = (params) => applyContext(params);
app.onteardown = async () => ({});

region.addEventListener("change", async () => {
  const args = { group_by: input.group_by, metric: input.metric };
  if (region.value !== "all") args.region = region.value;
  input = args;
  region.disabled = true;
  show(`Loading ${region.value === "all" ? "all regions" : region.value}…`, "info");
  try {
    render(await app.callServerTool({ name: TOOL, arguments: args }));
  } catch (error) {
    chart.replaceChildren();
    show(`The host refused or could not make the call: ${error.message || error}`, "error");
  } finally {
    region.disabled = false;
  }
});

show("Waiting for the tool's result…", "info");
region.disabled = true;
app
  .connect()
  .then(() => {
    applyContext(app.getHostContext());
    region.disabled = false;
  })
  .catch((error) => show(`Could not connect to the host: ${error.message || error}`, "error"));
