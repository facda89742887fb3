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
});
