// A WebSocket that authenticates with its first message (a browser cannot set headers on a
// WebSocket, and a token in the URL would end up in logs), and reconnects with backoff.
export class Stream {
  constructor(api, path, { onReady, onMessage, onState }) {
    this.api = api;
    this.path = path;
    this.onReady = onReady;
    this.onMessage = onMessage;
    this.onState = onState || (() => {});
    this.ws = null;
    this.closed = false;
    this.delay = 500;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}${this.path}`);
    this.ws = ws;
    this.ready = false;
    this.onState("connecting");
    ws.onopen = async () => {
      const token = await this.api.freshToken();
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ action: "auth", token }));
    };
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (!this.ready && msg.type === "success" && msg.action === "auth") {
        this.ready = true;
        this.delay = 500;
        this.onState("live");
        this.onReady?.(this);
        return;
      }
      this.onMessage(msg);
    };
    ws.onclose = async (ev) => {
      if (this.ws !== ws || this.closed) return;
      this.onState("reconnecting");
      // 1008: the token was refused (expired): refresh it before trying again.
      if (ev.code === 1008 && !(await this.api.refresh())) {
        this.onState("signed out");
        return;
      }
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 10000);
    };
  }

  send(obj) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.ready) {
      this.ws.send(JSON.stringify(obj));
      return true;
    }
    return false;
  }

  close() {
    this.closed = true;
    this.ws?.close();
  }
}
