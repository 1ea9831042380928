// The stocksblitz page: sign-in, then three views over the JSON API and the WebSockets —
// Chart, Option chain, Account. Nothing is computed here that the server computes (indicator
// values, IV, greeks, PCR, max pain, margins, charges all come from its routes).
import "./style.css";
import { Api } from "./api.js";
import { h, replace } from "./dom.js";
import { ChartView } from "./chart.js";
import { ChainView } from "./chain.js";
import { AccountView } from "./account.js";

const api = new Api();
const root = document.getElementById("app");
const VIEWS = [
  ["chart", "Chart", ChartView],
  ["chain", "Option chain", ChainView],
  ["account", "Account", AccountView],
];

let current = null; // {name, view}
const shared = {
  // What one view asks of another: the chain's "trade" button opens the ticket, the ticket's
  // symbol opens the chart.
  go(name, arg) {
    location.hash = `#${name}`;
    show(name, arg);
  },
};

function signInPage(message) {
  const error = h("p", { class: "error", role: "alert", id: "signin-error" }, message || "");
  const email = h("input", { type: "email", name: "email", id: "email", autocomplete: "username", required: true, placeholder: "you@example.com" });
  const password = h("input", { type: "password", name: "password", id: "password", autocomplete: "current-password", required: true });
  const key = h("input", { type: "password", name: "api_key", id: "api-key", autocomplete: "off", placeholder: "sb_…" });
  const busy = (form, on) => form.querySelectorAll("button").forEach((b) => (b.disabled = on));
  const loginForm = h(
    "form",
    {
      id: "signin-form",
      onsubmit: async (ev) => {
        ev.preventDefault();
        const register = ev.submitter?.value === "register";
        error.textContent = "";
        busy(loginForm, true);
        try {
          if (register) await api.register(email.value.trim(), password.value);
          else await api.login(email.value.trim(), password.value);
          start();
        } catch (e) {
          error.textContent = e.message;
        } finally {
          busy(loginForm, false);
        }
      },
    },
    h("label", { for: "email" }, "Email"),
    email,
    h("label", { for: "password" }, "Password"),
    password,
    h("div", { class: "row" },
      h("button", { type: "submit", value: "login", id: "signin" }, "Sign in"),
      h("button", { type: "submit", value: "register", class: "secondary", id: "register" }, "Create account"),
    ),
  );
  const keyForm = h(
    "form",
    {
      id: "key-form",
      onsubmit: async (ev) => {
        ev.preventDefault();
        error.textContent = "";
        busy(keyForm, true);
        try {
          await api.useKey(key.value.trim());
          start();
        } catch (e) {
          error.textContent = e.message;
        } finally {
          busy(keyForm, false);
        }
      },
    },
    h("label", { for: "api-key" }, "Or an API key"),
    key,
    h("button", { type: "submit", class: "secondary", id: "use-key" }, "Use key"),
  );
  replace(
    root,
    h("main", { class: "signin" },
      h("h1", {}, "stocksblitz"),
      h("p", { class: "muted" }, "Market data, indicators and paper trading for Indian derivatives."),
      loginForm,
      keyForm,
      error,
      footer(),
    ),
  );
  email.focus();
}

function footer() {
  return h("footer", { class: "muted small" },
    "Charts by ",
    h("a", { href: "https://www.tradingview.com/", target: "_blank", rel: "noopener noreferrer" }, "TradingView"),
    " Lightweight Charts™ (",
    h("a", { href: "/ui/LICENSE-lightweight-charts.txt" }, "licence"),
    "). API: ",
    h("a", { href: "/openapi.json" }, "/openapi.json"),
  );
}

let body = null;
let nav = null;

function start() {
  nav = h("nav", {},
    VIEWS.map(([name, label]) => h("a", { href: `#${name}`, id: `nav-${name}`, dataset: { view: name } }, label)),
  );
  body = h("div", { class: "view", id: "view" });
  replace(
    root,
    h("header", {},
      h("span", { class: "brand" }, "stocksblitz"),
      nav,
      h("span", { class: "who muted", id: "who" }, api.who),
      h("button", { class: "secondary small", id: "signout", onclick: () => api.signOut() }, "Sign out"),
    ),
    body,
    footer(),
  );
  show(viewFromHash());
}

function viewFromHash() {
  const name = location.hash.replace("#", "");
  return VIEWS.some(([n]) => n === name) ? name : "chart";
}

function show(name, arg) {
  if (!body) return;
  if (current?.name === name) {
    if (arg !== undefined) current.view.open?.(arg);
    return;
  }
  current?.view.destroy();
  const [, , View] = VIEWS.find(([n]) => n === name);
  for (const a of nav.querySelectorAll("a")) a.classList.toggle("active", a.dataset.view === name);
  replace(body);
  current = { name, view: new View(api, body, shared, arg) };
}

window.addEventListener("hashchange", () => show(viewFromHash()));
api.onSignOut(() => {
  current?.view.destroy();
  current = null;
  body = null;
  signInPage("Signed out.");
});

if (api.signedIn) start();
else signInPage();
