"""A browser without JavaScript for the page tests: cookies kept, forms posted, a language
asked for, every answer read whatever its status."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Page:
    status: int
    text: str
    headers: Any

    def csrf(self) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.text)
        assert found, "no form on the page"
        return found.group(1)


class Phone:
    """A browser without JavaScript: cookies kept, forms posted, language asked for."""

    def __init__(self, base: str, language: str = "en") -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.language = language

    def request(
        self,
        path: str,
        data: bytes | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Page:
        request = urllib.request.Request(self.base + path, data=data)
        request.add_header("Accept-Language", self.language)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with self.opener.open(request, timeout=30) as response:
                return Page(response.status, response.read().decode(), response.headers)
        except urllib.error.HTTPError as error:
            return Page(error.code, error.read().decode(), error.headers)

    def get(self, path: str) -> Page:
        return self.request(path)

    def post(self, path: str, fields: dict[str, str]) -> Page:
        body = urllib.parse.urlencode(fields).encode()
        return self.request(path, body, "application/x-www-form-urlencoded")

    def upload(self, path: str, csrf: str, photos: list[Path]) -> Page:
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n'
            f"{csrf}\r\n".encode()
        ]
        for photo in photos:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="image"; '
                f'filename="{photo.name}"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
                + photo.read_bytes()
                + b"\r\n"
            )
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request(path, b"".join(parts), f"multipart/form-data; boundary={boundary}")

    def cookie(self, name: str) -> http.cookiejar.Cookie | None:
        return next((c for c in self.jar if c.name == name), None)
