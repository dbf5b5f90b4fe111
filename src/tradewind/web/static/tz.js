// Times are shown in the merchant's zone: a person who chose none gets their browser's,
// sent as the tw_tz cookie (from the sign-in page on, which shows no times); a page with
// times seen before the cookie existed is shown again once, in that zone.
(function () {
  var meta = document.querySelector('meta[name="tw-tz"]');
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!meta || !zone || meta.getAttribute("data-chosen") === "1") return;
  var wanted = "tw_tz=" + encodeURIComponent(zone);
  if (document.cookie.split("; ").indexOf(wanted) !== -1) return;
  document.cookie = wanted + "; path=/; max-age=31536000; samesite=lax";
  var times = meta.getAttribute("data-times") === "1";
  if (times && meta.content !== zone && !sessionStorage.getItem("tw_tz_shown")) {
    sessionStorage.setItem("tw_tz_shown", "1");
    location.reload();
  }
})();
