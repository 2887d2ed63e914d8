// The portal's search page: Pagefind's default UI over the index in pagefind/ (#15).
// Pagefind stores page URLs from the release's root; baseUrl makes them work wherever the
// release is served (at /, under /latest/ or /releases/<version>/). ?q= starts a search.
(function () {
  var box = document.getElementById("search");
  var ui = new PagefindUI({
    element: "#search",
    bundlePath: new URL(box.dataset.bundle, window.location.href).pathname,
    baseUrl: new URL(box.dataset.base, window.location.href).pathname,
    showImages: false,
    resetStyles: false
  });
  // Pagefind's box is named by its placeholder only: the page's heading labels it
  var input = box.querySelector("input");
  if (input) { input.setAttribute("aria-labelledby", "search-title"); }
  var query = new URLSearchParams(window.location.search).get("q");
  if (query) { ui.triggerSearch(query); }
})();
