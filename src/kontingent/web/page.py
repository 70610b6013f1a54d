"""One request as the portal sees it: language, journey state, and how to answer.

Invariants kept here:
- Every portal answer carries the same protective headers: no caching of pages that may show
  personal data, and a Content-Security-Policy that allows no script at all (the portal needs
  none, so injected markup could never run).
- The flow cookie is HttpOnly and SameSite=Lax always, and Secure outside demo mode; it is
  re-issued when the flow changed or half its lifetime has passed (sliding expiry).
- Every POST is answered by a redirect (303), a failed round included (`fail`): its messages
  and typed values wait in the flow cookie for the GET page, which shows them once (`round_for`)
  with the focus on the error summary. So the back button and reload never resubmit a form.
- Links back to the page itself (the language switch, an error page's "back") are built from
  the route that answered, its parameters percent-encoded, never from the path as sent: a
  path such as `//evil.example/` would otherwise become a link to another site. Without a
  route (a 404) such a link is a bare `?query`, which stays on the page it is on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import msgspec
from litestar import Request
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from kontingent.config import Settings
from kontingent.i18n import LANGUAGES, N_, Translator, pick
from kontingent.web import forms, session

if TYPE_CHECKING:
    from kontingent.services import Services

HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
LANG_MAX_AGE = 365 * 24 * 3600
# Notices a redirect may ask the next page to show (never free text from the URL).
NOTES = {
    "expired": N_("token.expired"),
    "used": N_("err.token_used"),
    "restart": N_("flow.restart"),
    "phone": N_("flow.need_phone"),
    "cancelled": N_("cancel.done"),
    "rebooked": N_("rebook.done"),
    "resent": N_("pin.resent"),
    "offer_gone": N_("err.offer_gone"),
    "manage": N_("manage.again"),
}
# Where the language switch of a page answering a POST leads (a GET page of the same step).
GET_OF_POST = {"/book": "/choose", "/pin/resend": "/pin", "/choose/partner": "/choose"}


def route_path(request: Request[Any, Any, Any]) -> str | None:
    """The path of the route that answers `request`, rebuilt from its template and its
    parameters (each percent-encoded, so none can add a slash); None when no route matched."""
    template = request.scope.get("path_template")
    if not template or "route_handler" not in request.scope:
        return None
    params = {k: quote(str(v), safe="") for k, v in request.scope.get("path_params", {}).items()}
    path = str(template).format_map(params)
    return path if path.startswith("/") and not path.startswith("//") else "/"


@dataclass(frozen=True, slots=True)
class Operator:
    """Who runs the service, as every page's footer and the legal pages name it."""

    name: str
    address: str
    email: str
    representative: str
    privacy_contact: str

    @classmethod
    def of(cls, settings: Settings) -> Operator:
        return cls(
            settings.operator_name,
            settings.operator_address,
            settings.operator_email,
            settings.operator_representative,
            settings.privacy_contact,
        )


def with_kept(values: Mapping[str, Any], kept: session.Round | None) -> dict[str, Any]:
    """A form's values, with what was typed in a failed round in place of the defaults."""
    return {**values, **(kept.values if kept else {})}


class Portal:
    def __init__(self, request: Request[Any, Any, Any]) -> None:
        self.request = request
        self.services: Services = request.app.state.services
        self.settings = self.services.settings
        self.now = self.services.clock.now()
        asked = request.query_params.get("lang")
        self.lang = pick(asked, request.cookies.get(session.LANG_COOKIE))
        self._lang_asked = asked in LANGUAGES
        self.t = Translator(self.lang, self.now)
        raw = request.cookies.get(session.COOKIE)
        self.flow = session.decode(raw, self.settings.secret_key, self.now)
        self._dirty = bool(raw) and self.flow == session.Flow()  # drop a bad or stale cookie

    def save(self, **changes: Any) -> None:
        self.flow = msgspec.structs.replace(self.flow, **changes)
        self._dirty = True

    def _cookies(self) -> list[Cookie]:
        secure = not self.settings.demo
        cookies = []
        refresh = self.flow.exp - self.now.timestamp() < session.TTL.total_seconds() / 2
        if self._dirty or (self.flow != session.Flow() and refresh):
            cookies.append(
                Cookie(
                    key=session.COOKIE,
                    value=session.encode(self.flow, self.settings.secret_key, self.now),
                    max_age=int(session.TTL.total_seconds()),
                    path="/",
                    httponly=True,
                    samesite="lax",
                    secure=secure,
                )
            )
        if self._lang_asked:
            cookies.append(
                Cookie(
                    key=session.LANG_COOKIE,
                    value=self.lang,
                    max_age=LANG_MAX_AGE,
                    path="/",
                    httponly=True,
                    samesite="lax",
                    secure=secure,
                )
            )
        return cookies

    def _switch_url(self) -> str:
        other = "en" if self.lang == "de" else "de"
        path = route_path(self.request) or ""  # "": a bare ?query, this page again
        if self.request.method != "GET":
            return f"{GET_OF_POST.get(path, path)}?lang={other}"
        query = {k: v for k, v in self.request.query_params.items() if k not in ("lang", "note")}
        query["lang"] = other
        return f"{path}?{urlencode(query)}"

    def note(self) -> str | None:
        key = NOTES.get(self.request.query_params.get("note", ""))
        return self.t(key) if key else None

    def render(
        self,
        template: str,
        *,
        title: str,
        status: int = 200,
        errors: Mapping[str, str] | None = None,
        summary_for: int = 1,
        notice: str | None = None,
        kept: session.Round | None = None,
        **context: Any,
    ) -> Template:
        """`kept`: a failed round of this page's form, its messages shown with the page's."""
        kept = kept or self._stray_round()
        errors = {**(kept.errors if kept else {}), **(errors or {})}
        if kept and kept.notice and notice is None:
            notice = kept.notice
        return Template(
            template_name=template,
            context={
                "lang": self.lang,
                "t": self.t,
                "tn": self.t.plural,  # a plural text in a template: tn(key, key + ".plural", n)
                "title": title,
                "errors": errors,
                "error_summary": forms.summary(errors, self.t, summary_for),
                "notice": notice if notice is not None else self.note(),
                "switch_url": self._switch_url(),
                "demo": self.settings.demo,
                "operator": Operator.of(self.settings),
                "fid": forms.field_id,
                **context,
            },
            status_code=status,
            headers=HEADERS,
            cookies=self._cookies(),
            media_type="text/html",
        )

    def fail(
        self,
        page: str,
        errors: Mapping[str, str] | None = None,
        values: Mapping[str, str] | None = None,
        notice: str | None = None,
    ) -> Redirect:
        """A form's failed round: kept for `page` (a GET path with its query), then 303 there."""
        kept = session.Round(page, dict(errors or {}), forms.shown(values or {}), notice)
        self.save(round=kept)
        return self.redirect(page)

    def round_for(self, page: str) -> session.Round | None:
        """The failed round waiting for `page`; dropped as it is shown (a reload is clean)."""
        kept = self.flow.round
        if kept is None or kept.page != page:
            return None
        self.save(round=None)
        return kept

    def _stray_round(self) -> session.Round | None:
        """A round for this page that no form of it claimed (an error page's, after a POST)."""
        kept = self.flow.round
        if self.request.method != "GET" or kept is None:
            return None
        return self.round_for(kept.page) if kept.page == route_path(self.request) else None

    def redirect(self, path: str, **query: str | int) -> Redirect:
        url = f"{path}?{urlencode(query)}" if query else path
        return Redirect(url, status_code=303, headers=HEADERS, cookies=self._cookies())
