// The host of one MCP Apps view in a notebook output (an anywidget module: `render({model, el, signal})`).
//
// The view runs in an opaque-origin iframe (sandbox="allow-scripts", no allow-same-origin): no access to
// the page, its cookies or same-origin fetch. Its HTML arrives from the kernel with a Content-Security-Policy
// built there (mcp_kernel/apps/csp.py), put here as the first element of the document and as the iframe's
// `csp` attribute. The official AppBridge speaks the protocol with the view; every request it gets
// (tools/call, resources/read, open-link, message, context) goes to the kernel as a custom message
// {id, method, params} and is answered by the kernel's {id, result | error}: no MCP client runs here.
// Rebuild with `npm run build:apphost` (the bundle is committed as mcp_kernel/apps/static/apphost.js).
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

const MAX_HEIGHT = 2000; // px: a view cannot grow the notebook without bound
const MIN_HEIGHT = 40;
const DETACHED_MS = 1000; // an output out of the page this long is gone (cleared, cell re-run)
const TEARDOWN_MS = 2000; // how long a view gets to answer ui/resource-teardown
const HOST_INFO = { name: "mcp-kernel", version: "1" };
const CAPABILITIES = {
  serverTools: {},
  serverResources: {},
  openLinks: {},
  logging: {},
  message: { text: {} },
  updateModelContext: { text: {}, structuredContent: {} },
};
// JupyterLab's CSS variables -> the MCP Apps style variables a view may use.
const STYLE_VARIABLES = {
  "--font-sans": "--jp-ui-font-family",
  "--font-mono": "--jp-code-font-family",
  "--color-background-primary": "--jp-layout-color0",
  "--color-background-secondary": "--jp-layout-color1",
  "--color-text-primary": "--jp-ui-font-color0",
  "--color-text-secondary": "--jp-ui-font-color1",
  "--color-border-primary": "--jp-border-color1",
};

function theme() {
  return document.body.dataset.jpThemeLight === "false" ? "dark" : "light";
}

function hostContext(el) {
  const css = getComputedStyle(document.body);
  const variables = {};
  for (const [ours, lab] of Object.entries(STYLE_VARIABLES)) {
    const value = css.getPropertyValue(lab).trim();
    if (value) variables[ours] = value;
  }
  return {
    theme: theme(),
    styles: { variables },
    platform: "web",
    displayMode: "inline",
    availableDisplayModes: ["inline"],
    locale: navigator.language,
    timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    containerDimensions: { maxHeight: MAX_HEIGHT, width: el.clientWidth || 600 },
  };
}

function escapeAttribute(text) {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// The CSP as the very first element: before anything of the view's own (a script before its <head> too).
// Only a leading doctype stays in front, so the document keeps its standards mode.
export function withPolicy(html, csp) {
  const meta = `<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(csp)}">`;
  const doctype = /^\uFEFF?\s*<!doctype[^>]*>/i.exec(html);
  const at = doctype ? doctype[0].length : 0;
  return html.slice(0, at) + meta + html.slice(at);
}

function showNotes(list, notes) {
  list.replaceChildren(
    ...(notes || []).map((note) => {
      const line = document.createElement("div");
      line.className = `mcp-app-note mcp-app-note-${note.kind}`;
      line.textContent = `${note.kind}: ${note.text}`;
      return line;
    }),
  );
}

export default {
  async render({ model, el, signal }) {
    const server = model.get("server");
    const tool = model.get("tool");
    // The kernel closes the widget when its last view is gone, not when one of several is (a moved cell's
    // output is drawn anew before the old one leaves): each view says when it comes and goes.
    const viewId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    model.send({ id: 0, method: "mcp-kernel/opened", params: { view: viewId } });
    const iframe = document.createElement("iframe");
    iframe.setAttribute("sandbox", "allow-scripts");
    iframe.setAttribute("csp", model.get("csp"));
    iframe.setAttribute("referrerpolicy", "no-referrer");
    iframe.title = `${server}.${tool}`;
    iframe.className = "mcp-app-view";
    const border = model.get("prefers_border") !== false;
    iframe.style.cssText = `display:block;box-sizing:border-box;width:100%;height:200px;border:${border ? "1px solid var(--jp-border-color2, #ccc)" : "0"};background:transparent`;
    const notes = document.createElement("div");
    notes.className = "mcp-app-notes";
    notes.style.cssText = "font-size:var(--jp-ui-font-size0, 11px);color:var(--jp-ui-font-color2, #666);white-space:pre-wrap";
    el.replaceChildren(iframe, notes);
    showNotes(notes, model.get("notes"));
    const onNotes = () => showNotes(notes, model.get("notes"));
    model.on("change:notes", onNotes);

    // Requests to the kernel and their answers.
    const pending = new Map();
    let next = 0;
    const ask = (method, params) =>
      new Promise((resolve, reject) => {
        const id = ++next;
        pending.set(id, { resolve, reject });
        model.send({ id, method, params });
      });
    const onReply = (msg) => {
      const waiting = msg && pending.get(msg.id);
      if (!waiting) return;
      pending.delete(msg.id);
      if (msg.error) waiting.reject(new Error(msg.error.message || String(msg.error)));
      else waiting.resolve(msg.result);
    };
    model.on("msg:custom", onReply);

    // The view's window exists only while the iframe is in the document (anywidget may render before the
    // output is attached), and it is a new one each time the iframe is put back (an output moved). A bridge
    // is made for the window there is, never for none: a transport without a window would take messages
    // from any frame of the page and answer none.
    let bridge = null;
    let bridgeWindow = null;
    const newBridge = () => {
      const made = new AppBridge(null, HOST_INFO, CAPABILITIES, { hostContext: hostContext(el) });
      made.oncalltool = (params) => ask("tools/call", params);
      made.onreadresource = (params) => ask("resources/read", params);
      made.onmessage = (params) => ask("ui/message", params);
      made.onupdatemodelcontext = (params) => ask("ui/update-model-context", params);
      made.onopenlink = async (params) => {
        await ask("ui/open-link", params); // the kernel keeps it, and refuses anything but http(s)
        const url = new URL(params.url);
        if (url.protocol !== "http:" && url.protocol !== "https:") return { isError: true };
        if (!window.confirm(`The view of ${server}.${tool} asks to open\n\n${url.href}\n\nOpen it in a new tab?`)) {
          return { isError: true };
        }
        window.open(url.href, "_blank", "noopener,noreferrer");
        return {};
      };
      made.onsizechange = ({ height }) => {
        if (typeof height === "number" && Number.isFinite(height)) {
          iframe.style.height = `${Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, Math.ceil(height)))}px`;
        }
      };
      made.oninitialized = () => {
        made.sendToolInput({ arguments: model.get("tool_input") || {} });
        const result = model.get("tool_result");
        if (result && Object.keys(result).length) made.sendToolResult(result);
        el.dataset.state = "initialized";
      };
      made.onrequestteardown = () => teardown("the view asked");
      return made;
    };
    const attach = async () => {
      const view = iframe.contentWindow;
      if (closed || !iframe.isConnected || !view || view === bridgeWindow) return;
      const previous = bridge;
      bridgeWindow = view;
      bridge = newBridge();
      previous?.close().catch(() => {}); // its window is gone
      await bridge.connect(new PostMessageTransport(view, view));
      if (bridgeWindow !== view || closed) return; // attached again meanwhile, or closed
      iframe.srcdoc = withPolicy(model.get("html"), model.get("csp")); // (re)loaded once the bridge listens
      el.dataset.state = "connected";
    };

    // The notebook's theme (light/dark, fonts) follows JupyterLab's body attributes.
    let shownTheme = theme();
    const themes = new MutationObserver(() => {
      if (theme() === shownTheme) return;
      shownTheme = theme();
      bridge?.sendHostContextChange(hostContext(el));
    });
    themes.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light", "data-jp-theme-name"] });

    // Torn down when the output leaves the page (cleared, the cell re-run), the widget is closed from the
    // kernel (the signal aborts), or the render's cleanup runs: the view hears ui/resource-teardown first.
    let closed = false;
    let away = null;
    const teardown = async (why) => {
      if (closed) return;
      closed = true;
      el.dataset.state = "closed";
      themes.disconnect();
      presence.disconnect();
      model.off("msg:custom", onReply);
      model.off("change:notes", onNotes);
      try {
        if (bridge) await Promise.race([bridge.teardownResource({}), new Promise((done) => setTimeout(done, TEARDOWN_MS))]);
      } catch (error) {
        // a view that fails its teardown is removed all the same
      }
      try {
        await bridge?.close();
      } catch (error) {
        // already closed
      }
      iframe.remove();
      for (const waiting of pending.values()) waiting.reject(new Error(`the view was closed (${why})`));
      pending.clear();
      try {
        model.send({ id: 0, method: "mcp-kernel/closed", params: { view: viewId, why } });
      } catch (error) {
        // the kernel is gone: nothing to tell
      }
    };
    const presence = new MutationObserver(() => {
      if (el.isConnected) {
        clearTimeout(away);
        away = null;
        attach();
      } else if (away === null) {
        away = setTimeout(() => !el.isConnected && teardown("the output left the page"), DETACHED_MS);
      }
    });
    presence.observe(document.body, { childList: true, subtree: true });
    signal?.addEventListener("abort", () => teardown("the widget was closed"));

    attach(); // now if the output is in the page already, else once it is (the presence observer)
    return () => teardown("the view was disposed");
  },
};
