"""FTP logins name their warehouses in any case: `warehouses = ["east"]` is warehouse EAST for its uploads,
the duplicate rule, the warehouses it may write and its template."""

from __future__ import annotations

from ftp_test_harness import PASSWORDS, password_hash, start_gateway, wait_until


def _config() -> str:
    lines = ['[ftp]', 'host = "127.0.0.1"', 'port = 0', 'passive_ports = ""',
             '[[warehouses]]', 'code = "EAST"', '[[warehouses]]', 'code = "WEST"']
    for username, warehouses in (("east", '["east"]'), ("west", '["West", "EAST"]')):
        lines += ["[[accounts]]", f'username = "{username}"', f'password_hash = "{password_hash(PASSWORDS[username])}"',
                  f"warehouses = {warehouses}", "create_unknown_skus = true"]
    return "\n".join(lines) + "\n"


def test_logins_whose_warehouses_are_spelled_in_another_case_write_those_warehouses(write_config, db):
    gateway = start_gateway(write_config(_config()), db)
    try:
        gateway.upload(b"SKU,Quantity\r\nA1,5\r\n", "east-stock.csv", username="east")
        gateway.upload(b"SKU,WEST,east\r\nA1,7,6\r\n", "both.csv", username="west")
        gateway.upload(b"SKU,Quantity\r\nA1,5\r\n", "east-stock-again.csv", username="east")
        rows = gateway.wait_for_finished_files(3)
        assert [(r.name, r.warehouse, r.status) for r in rows] == [
            ("east-stock.csv", "EAST", "applied"), ("both.csv", None, "applied"),
            ("east-stock-again.csv", "EAST", "duplicate")], [r.status_message for r in rows]
        assert (gateway.on_hand("A1", "EAST"), gateway.on_hand("A1", "WEST")) == (6, 7)
        template = wait_until(lambda: (b := gateway.download("/templates/quantity_update.csv", username="west"))
                              and b"A1" in b and b, 20, "the west login's template")
        assert template.decode("utf-8-sig").splitlines()[0] == "SKU,Title,WEST,EAST"
    finally:
        gateway.stop()
