"""The time picker's keyboard shortcuts, as Grafana has them.

``t`` then ``←`` / ``→`` shifts the range back or forward by half its span, ``t`` then
``z`` zooms out (twice the range), ``Esc`` closes the innermost open thing. Keys typed
into a box, or pressed with Ctrl, Alt or Cmd, are the box's or the browser's.

A clientside callback installs one keydown listener on the page; it follows the
two-key sequence itself and hands Dash only the finished shortcut (``set_props`` on
the shortcut store), which the view callback (callbacks/view.py) applies like the
buttons: into the URL and the Back history. Why not dash-extensions' ``EventListener``
(tried first): it turns every key into a prop change, and Dash runs a callback on the
newest value of a prop only, so a quick "t ←" lost its "t".

``Esc`` that a dropdown or the calendar used to close itself (``defaultPrevented``, or
pressed inside their box) does nothing more; an open dialog closes by assets/modals.js;
else it drops a pending ``t``, then folds the phone's time controls away.
"""

from __future__ import annotations

from dash import Dash, Input, Output

from layouts import ids

LISTEN_JS = (
    """
function (_path) {
    if (window.dashappTimeKeys) { return 'listening'; }
    window.dashappTimeKeys = true;
    var pendingAt = 0;
    var actions = {ArrowLeft: 'back', ArrowRight: 'forward', z: 'zoom-out', Z: 'zoom-out'};
    document.addEventListener('keydown', function (event) {
        if (!document.getElementById('TIME_FROM')) { return; }  /* not a dashboard */
        var target = event.target || {};
        var tag = (target.tagName || '').toUpperCase();
        if (event.ctrlKey || event.altKey || event.metaKey || target.isContentEditable ||
            tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') {
            pendingAt = 0;
            return;
        }
        var set = window.dash_clientside.set_props;
        var pending = pendingAt && event.timeStamp - pendingAt < 2000;
        pendingAt = 0;
        if (event.key === 'Escape') {
            if (pending || event.defaultPrevented ||
                document.querySelector('.modal:not(.hidden)')) { return; }
            var fold = document.querySelector('#CONTROLS_TOGGLE input');
            if (fold && fold.checked) { set('CONTROLS_TOGGLE', {value: []}); }
            return;
        }
        if (event.key === 't' || event.key === 'T') {
            pendingAt = event.timeStamp;
            return;
        }
        if (pending && actions[event.key]) {
            event.preventDefault();
            set('TIME_SHORTCUT', {data: {action: actions[event.key], at: Date.now()}});
        }
    });
    return 'listening';
}
""".replace("TIME_FROM", ids.TIME_FROM)
    .replace("CONTROLS_TOGGLE", ids.CONTROLS_TOGGLE)
    .replace("TIME_SHORTCUT", ids.TIME_SHORTCUT)
)


def register(app: Dash) -> None:
    """Listen for the time shortcuts on every dashboard page (once per browser tab)."""
    app.clientside_callback(
        LISTEN_JS, Output(ids.TIME_KEYS, "data"), Input(ids.VIEW_URL, "pathname")
    )
