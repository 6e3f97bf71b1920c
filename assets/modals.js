/* Dialogs close with Esc or a click on the backdrop, like their Close button. */
(function () {
  function closeOf(modal) { return modal && modal.querySelector('.modal-close'); }
  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Escape') { return; }
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
