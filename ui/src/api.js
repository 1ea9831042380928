// The JSON API client: one credential (a built-in provider session, or an API key) kept in
// memory and sessionStorage (never in a URL), sent as `Authorization: Bearer`. An expired
// access token is refreshed once, shared by concurrent callers; a refresh that fails signs out.
const STORE = "stocksblitz.session";

// When to renew an access token valid for `ttl` seconds: with a fifth of its life (at most 30 s)
// left.
function expiry(ttl) {
  if (!ttl) return null;
  return Date.now() + ttl * 1000 - Math.min(30000, ttl * 200);
}

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

export class Api {
  constructor() {
    this.session = null;
    this.refreshing = null;
    this.listeners = new Set();
    try {
      this.session = JSON.parse(sessionStorage.getItem(STORE) || "null");
    } catch {
      this.session = null;
    }
  }

  get signedIn() {
    return this.session !== null;
  }

  get who() {
    return this.session?.who || "";
  }

  // The token a WebSocket authenticates with (its first message).
  get token() {
    return this.session?.access || this.session?.key || "";
  }

  // The token, renewed first when it is about to expire (a 401 is the fallback, not the rule).
  async freshToken() {
    if (this.session?.refresh && this.session.expires && Date.now() >= this.session.expires) {
      await this.refresh();
    }
    return this.token;
  }

  onSignOut(fn) {
    this.listeners.add(fn);
  }

  save(session) {
    this.session = session;
    if (session) sessionStorage.setItem(STORE, JSON.stringify(session));
    else sessionStorage.removeItem(STORE);
  }

  async login(email, password) {
    const r = await fetch("/v1/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email, password }),
      credentials: "same-origin",
    });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new ApiError(r.status, body.code, body.detail || "sign-in failed");
    this.save({
      access: body.access_token,
      refresh: body.refresh_token,
      expires: expiry(body.expires_in),
      who: body.user?.email || email,
    });
  }

  async register(email, password, name) {
    const r = await fetch("/v1/auth/register", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email, password, name: name || email.split("@")[0] }),
    });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new ApiError(r.status, body.code, body.detail || "registration failed");
    await this.login(email, password);
  }

  // An API key: checked against the server before it is kept.
  async useKey(key) {
    const r = await fetch("/v1/users/me", { headers: { Authorization: `Bearer ${key}` } });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new ApiError(r.status, body.code, body.detail || "the key was refused");
    this.save({ key, who: body.email || "API key" });
  }

  async signOut() {
    const s = this.session;
    this.save(null);
    if (s?.refresh) {
      fetch("/v1/auth/logout", {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${s.access}` },
        body: JSON.stringify({ refresh_token: s.refresh }),
      }).catch(() => {});
    }
    for (const fn of this.listeners) fn();
  }

  // A new access token from the refresh token (one request for all concurrent callers).
  refresh() {
    if (!this.session?.refresh) return Promise.resolve(false);
    if (!this.refreshing) {
      const refresh_token = this.session.refresh;
      this.refreshing = fetch("/v1/auth/refresh", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token }),
      })
        .then(async (r) => {
          if (!r.ok) return false;
          const b = await r.json();
          this.save({ ...this.session, access: b.access_token, refresh: b.refresh_token, expires: expiry(b.expires_in) });
          return true;
        })
        .catch(() => false)
        .finally(() => {
          this.refreshing = null;
        });
    }
    return this.refreshing;
  }

  async request(method, path, { query, body, headers } = {}) {
    let url = path;
    if (query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) q.set(k, v);
      url += `?${q}`;
    }
    await this.freshToken();
    for (let attempt = 0; ; attempt++) {
      const h = { ...(headers || {}) };
      if (this.token) h.Authorization = `Bearer ${this.token}`;
      if (body !== undefined) h["Content-Type"] = "application/json";
      const r = await fetch(url, {
        method,
        headers: h,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (r.status === 401 && attempt === 0 && (await this.refresh())) continue;
      const data = await r.json().catch(() => null);
      if (r.status === 401) {
        await this.signOut();
      }
      if (!r.ok) {
        const detail = data?.detail || data?.message || `HTTP ${r.status}`;
        throw new ApiError(r.status, data?.code || data?.error_type, detail);
      }
      return data;
    }
  }

  get(path, query) {
    return this.request("GET", path, { query });
  }
  post(path, body, headers) {
    return this.request("POST", path, { body, headers });
  }
  put(path, body) {
    return this.request("PUT", path, { body });
  }
  del(path) {
    return this.request("DELETE", path);
  }
}
