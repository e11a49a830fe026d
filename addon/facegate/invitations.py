"""An invitation as the administrator hands it over: the link to the resident pages and its QR
code, for the API (`POST /api/people/{id}/invitation`), the CLI (`facegate person invite`)
and the demo alike."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import segno

from facegate.config import Config
from facegate.identity.store import IdentityStore


@dataclass(frozen=True, kw_only=True)
class InvitationLink:
    url: str
    expires_at: float

    def qr(self) -> segno.QRCode:
        return segno.make(self.url, error="m")

    def qr_svg(self) -> str:
        """The QR code as an SVG document (black on white, a quiet zone around it)."""
        svg: str = self.qr().svg_inline(scale=4, border=4, dark="#000", light="#fff")
        return svg

    def qr_data_uri(self) -> str:
        """The same code as a data: URI an <img> or a Markdown image shows: a whole SVG
        document (namespace and all, which the inline one leaves out), in base64 so that no
        character of it can end a Markdown link early."""
        document = io.BytesIO()
        self.qr().save(
            document, kind="svg", xmldecl=False, scale=4, border=4, dark="#000", light="#fff"
        )
        return "data:image/svg+xml;base64," + base64.b64encode(document.getvalue()).decode()

    def to_json(self) -> dict[str, object]:
        return {
            "url": self.url,
            "expires_at": self.expires_at,
            "qr_svg": self.qr_svg(),
            "qr_data_uri": self.qr_data_uri(),
        }


def invite(
    store: IdentityStore, config: Config, person_id: str, *, base_url: str | None = None
) -> InvitationLink:
    """A new single-use link for the person (their earlier unused ones stop working);
    `base_url` where the pages listen when it is not the configured one (the demo's)."""
    invitation, token = store.invite(person_id, hours=config.residents.invitation_hours)
    base = base_url or config.residents.url
    return InvitationLink(url=f"{base}/invite/{token}", expires_at=invitation.expires_at)
