// Copy buttons: <button data-copy="ID"> copies the value of the field with that id.
"use strict";

function copyByHand(field) {
  // Without the Clipboard API (an insecure origin, an older browser): select and copy.
  field.focus();
  field.select();
  return document.execCommand("copy");
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  let copied = false;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(field.value);
      copied = true;
    }
  } catch (error) {
    copied = false;
  }
  if (!copied) copied = copyByHand(field);
  const label = button.textContent;
  button.textContent = copied ? "Copied" : "Press Ctrl+C";
  button.classList.toggle("copied", copied);
  setTimeout(() => {
    button.textContent = label;
    button.classList.remove("copied");
  }, 2000);
});
