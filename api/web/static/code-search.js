// Diagnosis search as you type, for the plan pages. Without this script nothing changes: the
// form sends its text field (code_search) and the server answers with the codes it found.
//
// It enhances every <input data-code-search="/web/vocabulary/icd-10-cm"> (an empty value
// means that address) whose fieldset (or form) holds a results element marked
// data-code-results:
//   - a <select data-code-results>: its options become the codes found (value = the code);
//   - a list (<ul>/<ol> data-code-results): it becomes an ARIA listbox and the input its
//     combobox: Down/Up move through the codes, Enter or a click puts the code in the input,
//     Escape closes the list.
// After each search a polite live region says "N codes found" (an element marked
// data-code-status in the same fieldset, or one the script adds after the input).
//
// The pages' session cookie authenticates the request: the address must be under /web (the
// JSON API at /vocabulary/... takes bearer tokens only). Served from /web/static, so a page
// that loads it allows script-src 'self' and connect-src 'self' (templating.AUTHORING_CSP).
// No inline script, no eval, no innerHTML: every text is set with textContent.
(function () {
  "use strict";

  var DEFAULT_URL = "/web/vocabulary/icd-10-cm";
  var DELAY_MS = 200;
  var MIN_CHARS = 2;
  var LIMIT = 20;
  var counter = 0;

  function sameOrigin(url) {
    return url.charAt(0) === "/" && url.charAt(1) !== "/" && url.charAt(1) !== "\\";
  }

  function words(count) {
    if (count === 0) {
      return "No codes found";
    }
    return count === 1 ? "1 code found" : count + " codes found";
  }

  function enhance(input) {
    var url = input.getAttribute("data-code-search") || DEFAULT_URL;
    var scope = input.closest("fieldset") || input.form;
    var results = scope && scope.querySelector("[data-code-results]");
    if (!results || !sameOrigin(url)) {
      return;
    }
    var isSelect = results.tagName === "SELECT";
    var status = scope.querySelector("[data-code-status]");
    if (!status) {
      status = document.createElement("p");
      status.className = "code-search-status";
      input.insertAdjacentElement("afterend", status);
    }
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");

    var prefix = "code-search-" + ++counter;
    var timer = null;
    var pending = null;
    var active = -1;
    var codes = [];

    if (!isSelect) {
      results.id = results.id || prefix + "-list";
      results.setAttribute("role", "listbox");
      results.hidden = true;
      input.setAttribute("role", "combobox");
      input.setAttribute("aria-autocomplete", "list");
      input.setAttribute("aria-controls", results.id);
      input.setAttribute("aria-expanded", "false");
      input.setAttribute("autocomplete", "off");
    }

    function setActive(index) {
      var options = results.querySelectorAll("[role=option]");
      active = index;
      for (var i = 0; i < options.length; i++) {
        options[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function close() {
      if (isSelect) {
        return;
      }
      results.hidden = true;
      input.setAttribute("aria-expanded", "false");
      setActive(-1);
    }

    function pick(index) {
      var found = codes[index];
      if (!found) {
        return;
      }
      input.value = found.code;
      close();
      status.textContent = found.code + " " + found.description;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function show(found) {
      codes = found;
      while (results.firstChild) {
        results.removeChild(results.firstChild);
      }
      found.forEach(function (item, index) {
        var label = item.code + " — " + item.description;
        var option = document.createElement(isSelect ? "option" : "li");
        option.textContent = label;
        if (isSelect) {
          option.value = item.code;
        } else {
          option.id = prefix + "-option-" + index;
          option.setAttribute("role", "option");
          option.setAttribute("aria-selected", "false");
          option.addEventListener("mousedown", function (event) {
            event.preventDefault(); // keep the focus in the input
            pick(index);
          });
        }
        results.appendChild(option);
      });
      if (!isSelect) {
        results.hidden = found.length === 0;
        input.setAttribute("aria-expanded", found.length ? "true" : "false");
        setActive(-1);
      }
      status.textContent = words(found.length);
    }

    function search() {
      var query = input.value.trim();
      if (pending) {
        pending.abort();
        pending = null;
      }
      if (query.length < MIN_CHARS) {
        show([]);
        status.textContent = "";
        return;
      }
      var controller = new AbortController();
      pending = controller;
      var address =
        url + (url.indexOf("?") < 0 ? "?" : "&") +
        "q=" + encodeURIComponent(query) + "&limit=" + LIMIT;
      fetch(address, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        redirect: "error", // an ended session sends to the sign-in page: no codes then
        signal: controller.signal
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("status " + response.status);
          }
          return response.json();
        })
        .then(function (body) {
          if (pending === controller) {
            pending = null;
            show(Array.isArray(body.codes) ? body.codes : []);
          }
        })
        .catch(function (error) {
          if (pending === controller && error.name !== "AbortError") {
            pending = null;
            show([]);
            status.textContent = "Code search is unavailable; send the form to search";
          }
        });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, DELAY_MS);
    });

    if (isSelect) {
      return;
    }
    input.addEventListener("keydown", function (event) {
      var open = !results.hidden && codes.length > 0;
      if (event.key === "ArrowDown" && codes.length) {
        event.preventDefault();
        if (!open) {
          results.hidden = false;
          input.setAttribute("aria-expanded", "true");
        }
        setActive(active + 1 < codes.length ? active + 1 : 0);
      } else if (event.key === "ArrowUp" && open) {
        event.preventDefault();
        setActive(active > 0 ? active - 1 : codes.length - 1);
      } else if (event.key === "Enter" && open && active >= 0) {
        event.preventDefault(); // pick the code instead of sending the form
        pick(active);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", close);
  }

  var inputs = document.querySelectorAll("input[data-code-search]");
  for (var i = 0; i < inputs.length; i++) {
    enhance(inputs[i]);
  }
})();
