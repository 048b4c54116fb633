// Start Pagefind's search UI on the search page, running the query passed in ?q= by the header's search form.
window.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("search");
  if (!box || typeof PagefindUI === "undefined") return;
  const ui = new PagefindUI({ element: "#search", bundlePath: box.dataset.bundle, showSubResults: true, showImages: false, resetStyles: false });
  const query = new URLSearchParams(window.location.search).get("q");
  if (query) ui.triggerSearch(query);
});
