"""The lab's Logs Insights evaluator (moto ignores filter/parse/stats): the presets' subset."""

import pytest

from lab.insights_local import InsightsSyntaxError, evaluate, split_commands
from services.logs.insights import PRESETS, preset

T0 = 1_795_700_000_000  # 2026-11-26 13:33:20 UTC, in ms
DIAG = {
    "error": "2026-11-26-10.00.00.000000+000 I1E300           LEVEL: Error\nFUNCTION: DB2 UDB, x, y, probe:1",
    "severe": "2026-11-26-10.00.01.000000+000 I2E300           LEVEL: Severe\nMESSAGE : Failed to connect to primary. rc:",
    "info": "2026-11-26-10.00.02.000000+000 I3E300           LEVEL: Info\nMESSAGE : ERROR in the text but Info",
    "takeover": "2026-11-26-10.00.03.000000+000 E4E300           LEVEL: Event\nSTART   : Received TAKEOVER HADR command.",
}


def rows(messages, step_ms=60_000):
    return [
        {"@timestamp": T0 + i * step_ms, "@message": m, "@logStream": "Db2 - i-1", "@log": "g"}
        for i, m in enumerate(messages)
    ]


def test_errors_preset_selects_by_level_field_not_by_word():
    fields, out = evaluate(preset("errors").query, rows(DIAG.values()))
    assert [r["level"] for r in out] == [
        "Severe",
        "Error",
    ]  # sorted desc; the Info record saying ERROR is out
    assert fields == ["@timestamp", "@logStream", "@message", "level"]


def test_unauthorized_preset_excludes_only_the_application_authid():
    grant = "timestamp=x;\n  authid=DB2INST1;\n  statement text=grant select on table sample.worker to user abcuser;"
    app = (
        "timestamp=x;\n  userid=APPUSR;\n  authid=APPUSR;\n  statement text=SELECT EMPNO FROM SAMPLE.WORKER;"
    )
    other = "timestamp=x;\n  authid=DB2INST1;\n  statement text=SELECT * FROM SAMPLE.DEPARTMENT;"
    _, out = evaluate(preset("unauthorized").query, rows([grant, app, other]))
    assert [r["@message"] for r in out] == [grant]


def test_takeover_preset_finds_the_takeover_command():
    _, out = evaluate(preset("takeover").query, rows(DIAG.values()))
    assert len(out) == 1 and "TAKEOVER HADR" in out[0]["@message"]


def test_stats_count_by_5_minute_bins():
    # 7 events one minute apart from a 5-minute boundary: 5 in the first bin, 2 in the next
    base = T0 - T0 % 300_000
    data = [{"@timestamp": base + i * 60_000, "@message": "m"} for i in range(7)]
    fields, out = evaluate("stats count(*) by bin(5m)", data)
    assert fields == ["bin(5m)", "count(*)"]
    assert [r["count(*)"] for r in out] == ["5", "2"]
    assert out[0]["bin(5m)"].endswith(":00.000")


def test_fields_sort_limit_and_timestamp_rendering():
    _, out = evaluate("fields @timestamp, @message | sort @timestamp asc | limit 2", rows(["a", "b", "c"]))
    assert [r["@message"] for r in out] == ["a", "b"]
    assert out[0]["@timestamp"] == "2026-11-26 13:33:20.000"


def test_or_and_not_like_and_in():
    data = rows(["alpha", "beta", "gamma"])
    _, out = evaluate('filter @message like "alp" or @message = "gamma"', data)
    assert [r["@message"] for r in out] == ["alpha", "gamma"]
    _, out = evaluate('filter @message in ["beta", "zeta"]', data)
    assert [r["@message"] for r in out] == ["beta"]
    _, out = evaluate("filter @message not like /a$/", data)
    assert out == []


def test_pipes_inside_regex_do_not_split_commands():
    assert split_commands("filter @message like /a|b/ | limit 1") == ["filter @message like /a|b/", "limit 1"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("filter @message like /unterminated", "unterminated"),
        ("fields @message | | limit 1", "empty command"),
        ("dedup @logStream", "cannot evaluate the `dedup` command"),
        ("stats avg(x) by bin(5m)", "only `stats count"),
        ("limit ten", "needs a number"),
        ("filter @message like /(/", "bad regular expression"),
    ],
)
def test_queries_the_lab_cannot_read_raise_a_clear_error(query, message):
    with pytest.raises(InsightsSyntaxError, match=message):
        evaluate(query, rows(["x"]))


def test_every_preset_is_readable_by_the_lab_evaluator():
    for p in PRESETS:
        evaluate(p.query, [])
