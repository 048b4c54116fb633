// Start Pagefind's search UI on the search page, running the query passed in ?q= by the header's search form.
window.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("search");
  if (!box || typeof PagefindUI === "undefined") return;
  // A page whose title is written without spaces (Han, Kana, Hangul) carries its pieces for the index, between ⁂ marks: not for readers.
  const clean = (text) => (text || "").replace(/⁂[^⁂]*(⁂|$)/g, " ").replace(/\s+/g, " ").trim();
  const processResult = (result) => {
    result.excerpt = clean(result.excerpt);
    (result.sub_results || []).forEach((sub) => { sub.excerpt = clean(sub.excerpt); });
    return result;
  };
  const ui = new PagefindUI({ element: "#search", bundlePath: box.dataset.bundle, showSubResults: true, showImages: false, resetStyles: false, processResult });
  const query = new URLSearchParams(window.location.search).get("q");
  if (query) ui.triggerSearch(query);
});
