"""`stockgate sandbox ...`: a marketplace simulator driven from the command line; its state survives."""

from __future__ import annotations

from channel_helpers import channel_toml


def test_a_sandbox_remembers_listings_orders_and_failures_across_invocations(make_channels, stockgate):
    ch = make_channels(channel_toml("amz", "amazon"))
    assert stockgate("sandbox", "listing", "amz", "L1", "A1", "7", "--size", "M", config=ch.config).code == 0
    assert stockgate("sandbox", "order", "amz", "O1", "A1:2", "B2:1", "--pending").code == 0
    assert stockgate("sandbox", "accept", "amz", "O1").code == 0
    assert stockgate("sandbox", "cancel", "amz", "O1", "--line", "2", "--reason", "Buyer Canceled").code == 0
    assert stockgate("sandbox", "fail", "amz", "3", "--timeout").code == 0
    shown = stockgate("sandbox", "show", "amz", "--json").json()
    assert shown["listings"] == [{"listing_id": "L1", "sku": "A1", "size": "M", "title": None, "quantity": 7,
                                  "pushes": 0}]
    order = shown["orders"][0]
    assert (order["order_id"], order["status"]) == ("O1", "accepted")
    assert [l["cancelled"] for l in order["lines"]] == [False, True]
    assert order["cancellations"][0]["reason"] == "Buyer Canceled"
    assert shown["failing_calls"] == 3
    assert "L1" in stockgate("sandbox", "show", "amz").out


def test_bad_sandbox_commands_exit_2_with_one_line_naming_the_problem(make_channels, stockgate):
    ch = make_channels(channel_toml("amz", "amazon"))
    cases = [
        (("sandbox", "order", "amz", "O1", "A1"), "'A1' is not SKU:QTY"),
        (("sandbox", "order", "amz", "O1", "A1:x"), "'x' is not a whole number"),
        (("sandbox", "order", "amz", "O1", "A1:0"), "must be 1 or more"),
        (("sandbox", "listing", "amz", "L1", "A1", "-2"), "must be 0 or more"),
        (("sandbox", "show", "nope"), "'nope' is not a configured sandbox channel"),
        (("sandbox", "accept", "amz", "O404"), "no order 'O404'"),
        (("sandbox", "order", "amz", "O1", "A1:1", "--placed-at", "yesterday"), "not an ISO-8601 time"),
        (("channels", "sync", "nope"), "'nope' is not configured"),
    ]
    for args, message in cases:
        result = stockgate(*args, config=ch.config)
        assert (result.code, message in result.err, result.err.count("\n")) == (2, True, 1), (args, result)


def test_cancelling_with_a_reason_the_marketplace_does_not_use_warns_but_records_it(make_channels, stockgate):
    ch = make_channels(channel_toml("amz", "amazon"))
    stockgate("sandbox", "order", "amz", "O1", "A1:1", config=ch.config)
    result = stockgate("sandbox", "cancel", "amz", "O1", "--reason", "Cosmic rays")
    assert result.code == 0 and "not one of amazon's cancellation reasons" in result.err
    assert stockgate("sandbox", "show", "amz", "--json").json()["orders"][0]["status"] == "cancelled"


def test_channels_list_shows_each_channel_with_its_listings_and_last_runs(make_channels, stockgate):
    ch = make_channels(channel_toml("amz", "amazon", buffer=1), channel_toml("shop", "shopify"))
    stockgate("sandbox", "listing", "amz", "L1", "A1", "7", config=ch.config)
    assert stockgate("channels", "sync", "amz").code == 0
    listed = {c["name"]: c for c in stockgate("channels", "list", "--json").json()["channels"]}
    assert listed["amz"]["listings"]["active"] == 1 and listed["amz"]["buffer"] == 1
    assert listed["amz"]["last_runs"]["listings"]["ok"] is True
    assert listed["shop"]["last_runs"]["listings"] is None


def test_channels_list_shows_the_reason_table_schedules_and_the_last_error(make_channels, stockgate):
    ch = make_channels(channel_toml("amz", "amazon", order_interval_seconds=30), channel_toml("own", "other"))
    assert stockgate("sandbox", "fail", "amz", "1", "--all-calls", config=ch.config).code == 0
    assert stockgate("channels", "pull", "amz").code == 1
    listed = {c["name"]: c for c in stockgate("channels", "list", "--json").json()["channels"]}
    amz = listed["amz"]
    assert amz["schedules"]["order_interval_seconds"] == 30
    assert {"reason": "No Inventory", "verdict": "no", "restores": False, "api_codes": ["NoInventory"]} \
        in amz["reason_table"]
    assert (amz["last_error"]["job"], amz["last_runs"]["orders"]["ok"]) == ("orders", False)
    assert amz["last_error"]["detail"]
    assert (listed["own"]["reason_table"], listed["own"]["last_error"]) == ([], None)


def test_a_corrupt_sandbox_state_file_is_named_in_one_line_with_exit_2(make_channels, stockgate):
    ch = make_channels(channel_toml("amz", "amazon"))
    state = ch.settings.data_dir / "sandbox" / "amz.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text("{not json")
    result = stockgate("sandbox", "show", "amz", config=ch.config)
    assert (result.code, result.err.count("\n")) == (2, 1), result
    assert str(state) in result.err and "internal error" not in result.err


def test_a_failed_channel_job_on_the_command_line_is_one_line_on_stderr(write_config, stockgate, data_dir):
    import subprocess
    import sys

    config = write_config('[[channels]]\nname = "amz"\nmarketplace = "amazon"\nadapter = "sandbox"\n')
    assert stockgate("init", config=config).code == 0
    (data_dir / "sandbox").mkdir(exist_ok=True)
    (data_dir / "sandbox" / "amz.json").write_text("{broken")
    run = subprocess.run([sys.executable, "-m", "gateway", "--config", str(config), "channels", "sync", "amz",
                          "--force"], capture_output=True, text=True, env={**__import__("os").environ,
                                                                           "STOCKGATE_LOG_LEVEL": "WARNING"})
    assert run.returncode != 0
    assert run.stderr.count("\n") == 1 and "amz.json is not valid JSON" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
