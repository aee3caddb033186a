// The copy-forward check as the review (or renewal) is written. Without this script nothing
// changes: the form's "Check what the record will say" button asks the server, which answers
// with the same page and its verdict. With it, a change to any input of the form asks the same
// question in the background (600 ms after the last change), posting the form as the button
// would (action=check: nothing is stored), and puts the verdict the server rendered into the
// page's live region, which a screen reader announces politely.
//
// Served from /web/static under the authoring pages' CSP (script-src 'self'; connect-src
// 'self'). No inline script, no eval: the verdict is taken from the server's own page with
// DOMParser and moved in as nodes (scripts in parsed documents never run).
(function () {
  "use strict";

  var DELAY_MS = 600;

  function enhance(form) {
    var live = document.getElementById("verdict-live");
    if (!live) {
      return;
    }
    var timer = null;
    var asked = 0;

    function check() {
      var body = new URLSearchParams(new FormData(form));
      body.set("action", "check");
      var mine = ++asked;
      // getAttribute: the form's buttons are named "action", which shadows form.action.
      fetch(form.getAttribute("action"), {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/x-www-form-urlencoded"},
        body: body.toString()
      }).then(function (response) {
        return response.ok ? response.text() : null;
      }).then(function (html) {
        if (html === null || mine !== asked) {
          return; // an error, or a newer question is on its way: keep what is shown
        }
        var page = new DOMParser().parseFromString(html, "text/html");
        var found = page.getElementById("verdict-live");
        if (found) {
          live.replaceChildren.apply(live, Array.prototype.map.call(
            found.childNodes, function (node) { return document.importNode(node, true); }));
        }
      }).catch(function () { /* offline or refused: the button still works */ });
    }

    function later() {
      if (timer !== null) {
        clearTimeout(timer);
      }
      timer = setTimeout(check, DELAY_MS);
    }

    form.addEventListener("change", later);
    form.addEventListener("input", later);
  }

  var forms = document.querySelectorAll("form[data-copy-forward-check]");
  Array.prototype.forEach.call(forms, enhance);
})();
