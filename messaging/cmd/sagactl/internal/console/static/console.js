// Live refresh for the saga console: a page whose <main> carries
// data-refresh reloads its content every that many seconds while the
// "live" box is ticked, the tab is visible and no field in it has focus.
(function () {
  "use strict";
  var main = document.getElementById("content");
  var box = document.getElementById("live");
  if (!main || !box || !main.dataset.refresh) { return; }
  var every = Math.max(1, parseInt(main.dataset.refresh, 10)) * 1000;
  box.checked = localStorage.getItem("console.live") !== "off";
  box.addEventListener("change", function () {
    localStorage.setItem("console.live", box.checked ? "on" : "off");
  });
  function busy() {
    var a = document.activeElement;
    return a && main.contains(a) && /^(INPUT|SELECT|TEXTAREA)$/.test(a.tagName);
  }
  function reload() {
    if (!box.checked || document.hidden || busy()) { return; }
    fetch(location.href, { headers: { "X-Console-Refresh": "1" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var next = doc.getElementById("content"), stamp = doc.getElementById("stamp");
        if (next && box.checked && !busy()) { main.innerHTML = next.innerHTML; }
        if (stamp) { document.getElementById("stamp").textContent = stamp.textContent; }
      })
      .catch(function () { document.getElementById("stamp").textContent = "refresh failed; retrying"; });
  }
  setInterval(reload, every);
})();
