"""Form posts are read with the standard library; a broken one is a message, never a traceback."""

from __future__ import annotations

import pytest

from gateway.web.forms import FormError, parse_form


def multipart(*parts: bytes, boundary: str = "b0undary") -> tuple[bytes, str]:
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in parts) + b"--" + boundary.encode() + b"--\r\n"
    return body, f"multipart/form-data; boundary={boundary}"


def test_fields_and_a_file_are_read_with_the_file_bytes_unchanged():
    data = b"SKU,MF\r\nA1,5\r\n--b0undar\r\n\x00\xff"
    body, content_type = multipart(b'Content-Disposition: form-data; name="csrf_token"\r\n\r\ntok',
                                   b'Content-Disposition: form-data; name="file"; filename="qu.csv"\r\n'
                                   b"Content-Type: text/csv\r\n\r\n" + data)

    form = parse_form(body, content_type)

    assert form.get("csrf_token") == "tok"
    assert form.files["file"].filename == "qu.csv" and form.files["file"].data == data


def test_a_file_name_keeps_only_its_last_path_part_and_its_utf8_letters():
    body, content_type = multipart('Content-Disposition: form-data; name="file"; filename="C:\\stock\\Überlager é.csv"'
                                   '\r\n\r\nx'.encode("utf-8"))

    assert parse_form(body, content_type).files["file"].filename == "Überlager é.csv"


@pytest.mark.parametrize("body, content_type, message", [
    (b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1", "multipart/form-data; boundary=b", "incomplete"),
    (b"anything", "multipart/form-data", "no valid multipart boundary"),
    (b"--b\r\nno blank line\r\n--b--\r\n", "multipart/form-data; boundary=b", "not valid multipart"),
    (b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n", "multipart/form-data; boundary=b", "no field name"),
    (b"a=%ff", "application/x-www-form-urlencoded", "not sent as UTF-8"),
    (b"{}", "application/json", "cannot be sent as 'application/json'"),
])
def test_broken_posts_are_a_form_error_with_a_message(body, content_type, message):
    with pytest.raises(FormError, match=message):
        parse_form(body, content_type)


def test_url_encoded_fields_are_read():
    form = parse_form(b"username=ops&password=a%26b&next=%2Fstock", "application/x-www-form-urlencoded")

    assert (form.get("username"), form.get("password"), form.get("next")) == ("ops", "a&b", "/stock")
