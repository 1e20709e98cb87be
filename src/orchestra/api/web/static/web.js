// Helpers every page of the web UI shares: calls to the JSON API (the session cookie goes with
// them; a change is sent from this origin, so the server's same-origin check lets it through),
// confirmation of dangerous forms, and times shown in the browser's own zone.
"use strict";

window.Orchestra = (function () {
  async function api(path, options) {
    const init = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
    init.headers = Object.assign({ Accept: "application/json" }, init.headers);
    const response = await fetch(path, init);
    if (response.status === 401) {
      window.location.assign("/ui/sign-in?next=" + encodeURIComponent(location.pathname + location.search));
      throw new Error("signed out");
    }
    if (!response.ok) {
      let message = response.status + " " + response.statusText;
      try { message = (await response.json()).message || message; } catch (_) { /* not JSON */ }
      throw new Error(message);
    }
    return response.status === 204 ? null : response.json();
  }

  function localTimes(root) {
    for (const node of (root || document).querySelectorAll("time[datetime]")) {
      const moment = new Date(node.getAttribute("datetime"));
      if (!isNaN(moment)) {
        node.title = node.getAttribute("datetime");
        node.textContent = moment.toLocaleString();
      }
    }
  }

  function confirmForms(root) {
    for (const form of (root || document).querySelectorAll("form[data-confirm]")) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    }
  }

  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    confirmForms(document);
  });

  return { api: api, localTimes: localTimes, confirmForms: confirmForms, element: element };
})();
