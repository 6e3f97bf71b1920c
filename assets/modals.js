/* Dialogs close with Esc or a click on the backdrop, like their Close button.
   Esc closes the innermost open thing: a dropdown list, a calendar or a popover handles
   the key itself and marks it handled (defaultPrevented), so the dialog around it stays;
   otherwise the last open dialog (a confirmation sits after what it confirms) closes.
   Dash has no component for document-wide keys, hence these few lines. */
(function () {
  function closeOf(modal) { return modal && modal.querySelector('.modal-close'); }
  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Escape' || event.defaultPrevented) { return; }
    var open = document.querySelectorAll('.modal:not(.hidden)');
    var button = closeOf(open[open.length - 1]);
    if (button) { button.click(); }
  });
  document.addEventListener('click', function (event) {
    var target = event.target;
    if (target.classList && target.classList.contains('modal') &&
        !target.classList.contains('hidden')) {
      var button = closeOf(target);
      if (button) { button.click(); }
    }
  });
})();
