// The operator console's page: one WebSocket to /ws on the page's own origin. The server
// pushes {"type": "state", ...} whenever something changed; the page re-renders its tables
// from it. Operator actions are sent as {"type": "action", "token": ..., ...} and answered
// by {"type": "result", "ok": ..., "text": ...}, which is listed under "Operator actions".
// No framework, no build step; every text goes in through textContent.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const RECONNECT_MS = 1000;
  const RESULTS_KEPT = 50;
  const watch = { instrument_id: 0, account: 0 };
  let socket = null;
  let nextId = 1;
  let actionsEnabled = false;
  const pending = new Map(); // action id -> its <li>

  function connect() {
    socket = new WebSocket(`ws://${location.host}/ws`);
    socket.addEventListener("open", () => {
      setText($("connection"), "live", "ok");
      send({ type: "watch", ...watch });
    });
    socket.addEventListener("message", (message) => onMessage(JSON.parse(message.data)));
    socket.addEventListener("close", () => {
      setText($("connection"), "disconnected, reconnecting…", "bad");
      setTimeout(connect, RECONNECT_MS);
    });
  }

  function send(object) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(object));
  }

  function onMessage(message) {
    if (message.type === "hello") {
      actionsEnabled = message.actions_enabled;
      setText($("mode"), actionsEnabled ? "actions need the operator token"
        : "read-only: this console has no operator token", "");
      document.body.classList.toggle("read-only", !actionsEnabled);
    } else if (message.type === "state") {
      render(message);
    } else if (message.type === "result") {
      showResult(message);
    } else if (message.type === "error") {
      addResult(0, "error", message.text, false);
    }
  }

  // -- rendering ---------------------------------------------------------------------------

  function setText(element, text, className) {
    element.textContent = text;
    if (className !== undefined) element.className = className;
  }

  function row(cells, attributes) {
    const tr = document.createElement("tr");
    for (const [name, value] of Object.entries(attributes || {})) tr.dataset[name] = value;
    for (const item of cells) {
      const td = document.createElement("td");
      if (item instanceof Node) td.appendChild(item);
      else if (Array.isArray(item)) { td.append(...item); }
      else if (item && typeof item === "object") {
        td.textContent = item.text;
        td.className = item.className || "";
      } else td.textContent = item === undefined || item === null ? "" : String(item);
      tr.appendChild(td);
    }
    return tr;
  }

  function actionButton(label, action, fields) {
    const button = document.createElement("button");
    button.textContent = label;
    button.dataset.action = action;
    for (const [name, value] of Object.entries(fields)) button.dataset[name] = value;
    button.disabled = !actionsEnabled;
    button.addEventListener("click", () => act(action, fields));
    return button;
  }

  function render(state) {
    setText($("position"), String(state.position));
    setText($("session"), state.session_ready ? "" : "cluster session: connecting…");
    setText($("feed-error"), state.feed_error ? `event stream stopped: ${state.feed_error}` : "");
    renderNodes(state.nodes);
    renderInstruments(state.instruments);
    renderBook(state.book);
    renderTrades(state.trades);
    renderOrders(state.orders);
  }

  function renderNodes(nodes) {
    $("nodes").tBodies[0].replaceChildren(...nodes.map((node) => {
      const problems = [node.halted && `HALTED: ${node.halted}`,
        ...node.divergences.map((d) => `DIVERGENCE: ${d}`)].filter(Boolean);
      const health = node.reachable ? (problems.join("; ") || "ok") : "-";
      const actions = [];
      if (node.reachable) {
        actions.push(actionButton("snapshot", "snapshot", { node_id: node.node_id }));
        if (node.role !== "leader") {
          actions.push(actionButton("make leader", "transfer_leader", { node_id: node.node_id }));
        }
      }
      return row([node.node_id || "?", node.address,
        { text: node.role, className: `role ${node.reachable ? node.role : "bad"}` },
        node.term, node.leader_id, node.commit_index, node.applied_index, node.last_index,
        node.lag || "-", { text: health, className: problems.length ? "health bad" : "health" },
        actions], { node: node.node_id, role: node.role });
    }));
  }

  function renderInstruments(instruments) {
    $("instruments").tBodies[0].replaceChildren(...instruments.map((instrument) => {
      const id = instrument.instrument_id;
      const choose = document.createElement("a");
      choose.href = "#book-section";
      choose.textContent = instrument.symbol;
      choose.addEventListener("click", () => chooseInstrument(id));
      return row([id, choose,
        { text: instrument.status, className: `status ${instrument.status.toLowerCase()}` },
        { text: instrument.last_price || "-", className: "last-price" },
        [actionButton("halt", "halt", { instrument_id: id }),
          actionButton("resume", "resume", { instrument_id: id })]],
      { instrument: id, symbol: instrument.symbol });
    }));
    const select = $("instrument");
    const wanted = String(watch.instrument_id || (instruments[0] || {}).instrument_id || "");
    select.replaceChildren(...instruments.map((instrument) => {
      const option = document.createElement("option");
      option.value = String(instrument.instrument_id);
      option.textContent = instrument.symbol;
      return option;
    }));
    select.value = wanted;
  }

  function renderBook(book) {
    const bids = $("bids").tBodies[0];
    const offers = $("offers").tBodies[0];
    if (!book) {
      bids.replaceChildren();
      offers.replaceChildren();
      setText($("book-status"), "no instrument");
      return;
    }
    setText($("book-status"), book.status, `status ${book.status.toLowerCase()}`);
    $("book-section").dataset.instrument = book.instrument_id;
    bids.replaceChildren(...book.bids.map(([price, quantity, orders]) =>
      row([orders, quantity, { text: price, className: "bid" }], { price })));
    offers.replaceChildren(...book.offers.map(([price, quantity, orders]) =>
      row([{ text: price, className: "offer" }, quantity, orders], { price })));
  }

  function renderTrades(trades) {
    $("trades").tBodies[0].replaceChildren(...trades.map((trade) => row([
      trade.trade_id, trade.position, trade.symbol, trade.price, trade.quantity,
      trade.taker_side, trade.maker_account, trade.taker_account], { trade: trade.trade_id })));
  }

  function renderOrders(orders) {
    const body = $("orders").tBodies[0];
    if (!orders) {
      body.replaceChildren();
      setText($("kill-switch"), "");
      setText($("orders-summary"), "choose an account to see its open orders");
      return;
    }
    setText($("kill-switch"), orders.kill_switch ? "KILL SWITCH ENGAGED" : "kill switch off",
      orders.kill_switch ? "bad" : "subtle");
    const shown = orders.orders.length;
    setText($("orders-summary"), `account ${orders.account}: ${orders.open_orders} open orders` +
      (shown < orders.open_orders ? ` (first ${shown} shown)` : "") +
      (orders.truncated ? " — the console's order table is full; some are not tracked" : ""));
    body.replaceChildren(...orders.orders.map((order) => row([
      order.order_id, order.symbol, order.client_order_id, order.side, order.price,
      order.quantity, order.leaves_quantity], { order: order.order_id })));
  }

  // -- choices and actions -----------------------------------------------------------------

  function chooseInstrument(id) {
    watch.instrument_id = Number(id);
    $("instrument").value = String(id);
    send({ type: "watch", ...watch });
  }

  function chooseAccount() {
    const account = Number($("account").value);
    watch.account = Number.isInteger(account) && account > 0 ? account : 0;
    send({ type: "watch", ...watch });
  }

  function act(action, fields) {
    const id = nextId++;
    const described = Object.entries(fields).map(([k, v]) => `${k}=${v}`).join(" ");
    pending.set(id, addResult(id, `${action} ${described}`, "sent…", null));
    send({ type: "action", id, action, token: $("token").value, ...fields });
  }

  function addResult(id, what, text, ok) {
    const item = document.createElement("li");
    item.dataset.id = id;
    item.className = ok === null ? "pending" : (ok ? "ok" : "fail");
    const label = document.createElement("b");
    label.textContent = what;
    const said = document.createElement("span");
    said.className = "text";
    said.textContent = ` — ${text}`;
    item.append(label, said);
    const list = $("results");
    list.prepend(item);
    while (list.children.length > RESULTS_KEPT) list.lastElementChild.remove();
    return item;
  }

  function showResult(result) {
    const item = pending.get(result.id);
    pending.delete(result.id);
    if (!item) { addResult(result.id, result.action, result.text, result.ok); return; }
    item.className = result.ok ? "ok" : "fail";
    item.querySelector(".text").textContent = ` — ${result.ok ? "ok" : "failed"}: ${result.text}`;
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("instrument").addEventListener("change", (e) => chooseInstrument(e.target.value));
    $("account").addEventListener("change", chooseAccount);
    $("snapshot-all").addEventListener("click", () => act("snapshot", { node_id: 0 }));
    const account = () => ({ account: Number($("account").value) });
    $("kill-engage").addEventListener("click", () => act("kill_switch", { ...account(), engaged: true }));
    $("kill-reset").addEventListener("click", () => act("kill_switch", { ...account(), engaged: false }));
    connect();
  });
})();
