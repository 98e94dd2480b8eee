"""A multipart body built by hand, for uploads whose file name must reach the server exactly as written (Django's
test client would strip a path from it, hiding what a hostile client can send)."""

from __future__ import annotations


def raw_multipart(fields: dict[str, str], filename: str, content: bytes,
                  content_type: str = "application/pdf") -> tuple[bytes, str]:
    boundary = "qmsRawBoundary7MA4YWxk"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
             for key, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 f"Content-Type: {content_type}\r\n\r\n".encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"
