/* Sending a photo or PDF to the customer: a multipart post with the CSRF token; the stored
   message comes back and joins the timeline like a reply. Refusals show the gateway's words. */
(function () {
  "use strict";
  var input = document.getElementById("reply-file");
  var status = document.getElementById("reply-file-status");
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (!input) return;

  input.addEventListener("change", async function () {
    var file = input.files && input.files[0];
    if (!file) return;
    var form = new FormData();
    form.append("file", file, file.name);
    status.textContent = "Sending " + file.name + "…";
    input.disabled = true;
    try {
      var response = await fetch(input.dataset.action, {
        method: "POST",
        body: form,
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": meta ? meta.content : "" },
      });
      var data = {};
      try { data = await response.json(); } catch (err) { data = {}; }
      if (response.ok && data.message) {
        window.VMConversation.append([data.message]);
        status.textContent = "Sent " + file.name + ".";
      } else {
        status.textContent = "Not sent: " + (data.error || "HTTP " + response.status) + ".";
      }
    } catch (err) {
      status.textContent = "Not sent: network problem (" + err.message + ").";
    } finally {
      input.value = "";
      input.disabled = false;
    }
  });
})();
