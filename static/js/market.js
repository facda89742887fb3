// Progressive enhancement only: every page works without it.
document.addEventListener("DOMContentLoaded", () => {
  // Registration form: offer only the types of the chosen kind, and the provider-only fields for providers.
  const kind = document.getElementById("f-kind");
  const subtype = document.getElementById("f-subtype");
  if (kind && subtype) {
    const sync = () => {
      for (const group of subtype.querySelectorAll("optgroup")) {
        const match = group.dataset.kind === kind.value;
        group.hidden = !match;
        group.disabled = !match;
      }
      const selected = subtype.selectedOptions[0];
      if (!selected || selected.parentElement.dataset.kind !== kind.value) {
        const first = subtype.querySelector(`optgroup[data-kind="${kind.value}"] option`);
        if (first) first.selected = true;
      }
      for (const block of document.querySelectorAll("[data-for-kind]")) {
        block.hidden = block.dataset.forKind !== kind.value;
      }
    };
    kind.addEventListener("change", sync);
    sync();
  }
  // Print buttons (receipts) need a script, so they stay hidden without one.
  for (const button of document.querySelectorAll("[data-print]")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
  const errors = document.getElementById("errors");
  if (errors) errors.focus();
  // A table wider than a phone scrolls sideways (market.css): one that does is reachable by keyboard,
  // so it can be scrolled without a pointer (WCAG 2.1.1).
  const scrollers = () => {
    for (const table of document.querySelectorAll("table.list:not(.stacked)")) {
      if (table.scrollWidth > table.clientWidth) table.tabIndex = 0;
      else table.removeAttribute("tabindex");
    }
  };
  scrollers();
  window.addEventListener("resize", scrollers);
});

// The fair's live board: server-sent events carry the whole board whenever it changes.
document.addEventListener("DOMContentLoaded", () => {
  const board = document.querySelector("[data-board]");
  if (!board || !window.EventSource) return;
  const money = new Intl.NumberFormat(board.dataset.locale || "zh-CN", { style: "currency", currency: "CNY", currencyDisplay: "narrowSymbol" });
  const english = document.documentElement.lang.startsWith("en");
  const events = new EventSource(board.dataset.board);
  events.addEventListener("board", (event) => {
    const data = JSON.parse(event.data);
    for (const [key, value] of Object.entries(data)) {
      const cell = board.querySelector(`[data-total="${key}"]`);
      if (cell) cell.textContent = key.endsWith("_fen") ? money.format(value / 100) : value;
    }
    // The fair's status too: a board left open on the projector says when the fair is closed.
    const status = board.querySelector("[data-status]");
    if (status && data.status) {
      status.textContent = JSON.parse(status.dataset.names)[data.status] || data.status;
      status.classList.toggle("verified", data.status === "live");
      status.classList.toggle("pending", data.status !== "live");
      board.querySelector("[data-while-live]").hidden = data.status === "closed";
      board.querySelector("[data-when-closed]").hidden = data.status !== "closed";
    }
    for (const item of data.items) {
      const row = board.querySelector(`tr[data-project="${item.project_id}"]`);
      if (!row) continue;
      row.classList.toggle("on-stage", item.position === data.on_stage);
      row.querySelector('[data-field="raised_fen"]').textContent = money.format(item.raised_fen / 100);
      row.querySelector('[data-field="matched_fen"]').textContent = money.format(item.matched_fen / 100);
      row.querySelector('[data-field="funders"]').textContent = english ? item.funders_en.join(", ") : item.funders.join("、");
    }
  });
});

// A form sent is not sent again by a second click while its answer comes. The server acts once on a
// repeat anyway, but it cannot replay an answer that logs someone in (a session is never kept for a
// replay): a double-clicked sign-up ended on "an account with this address exists", logged out.
// Back (the page shown again from the cache), or ten seconds without an answer, lets it be sent again.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.method !== "post") return;
  if (form.dataset.sending) {
    event.preventDefault();
    return;
  }
  form.dataset.sending = "1";
  setTimeout(() => delete form.dataset.sending, 10000);
});
window.addEventListener("pageshow", () => {
  for (const form of document.querySelectorAll("form[data-sending]")) delete form.dataset.sending;
});
