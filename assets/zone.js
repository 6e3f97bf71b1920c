/* Tell the server the browser's time zone (dashboards set to "browser time" use it). */
(function () {
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone) {
      document.cookie = "browser_tz=" + zone +
        "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (e) { /* an old browser: UTC it is */ }
})();
