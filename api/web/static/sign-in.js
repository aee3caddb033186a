// A client's access link is /web/sign-in#key=pc_...: the key is in the fragment, which the
// browser never sends, so no server or proxy log holds it. Put it in the form and take it out
// of the address bar (and so out of the history). The client still presses Sign in. Without
// this script the page works the same: the client pastes the key.
(function () {
  var found = /^#key=(pc_[0-9a-f]{16}_[A-Za-z0-9_-]{43})$/.exec(window.location.hash);
  if (!found) {
    return;
  }
  var field = document.getElementById("token");
  if (field) {
    field.value = found[1];
    var hint = document.getElementById("link-hint");
    if (hint) {
      hint.hidden = false;
    }
  }
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
})();
