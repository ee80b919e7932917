"""One place decides whether a response is a full page or an htmx fragment (STYLE.md)."""

from flask import make_response, render_template, request


def wants_fragment() -> bool:
    """True for a plain htmx swap; boosted links and history restores need the whole page."""
    hx = request.headers
    return (
        hx.get("HX-Request") == "true"
        and hx.get("HX-Boosted") != "true"
        and hx.get("HX-History-Restore-Request") != "true"
    )


def render(page: str, fragment: str | None = None, *, status: int = 200, trigger: str | None = None, **ctx):
    """Render `fragment` for htmx swaps and `page` otherwise; always `Vary: HX-Request`."""
    template = fragment if fragment and wants_fragment() else page
    response = make_response(render_template(template, **ctx), status)
    response.headers["Vary"] = "HX-Request"
    if trigger and wants_fragment():
        response.headers["HX-Trigger"] = trigger
    return response


def redirect_after_post(location: str, *, trigger: str | None = None):
    """303 for a plain form post; for htmx, HX-Location keeps the swap in the page."""
    from flask import redirect

    if wants_fragment():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        if trigger:
            response.headers["HX-Trigger"] = trigger
        return response
    return redirect(location, code=303)
