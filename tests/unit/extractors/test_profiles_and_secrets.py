"""Issue 10 in the extractor: technology profiles, the options allowlist, TLS defaults, secret hygiene.

Each hostile option below reached the driver before the profiles (init_command ran SQL before the
session was read-only, local_infile let a server read our environment, options.host replaced the
host, sslmode: disable turned TLS off); each secret test reproduces a leak of issue 10.
"""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import get_args

import pytest

from connector_extractors import __main__ as entry
from connector_extractors import drivers, urls
from connector_extractors.credentials import normalise, read_secret, read_token
from connector_extractors.error_mapping import scrub
from connector_extractors.errors import ConnectorError, ErrorCategory
from connector_extractors.profiles import PROFILES, RESERVED_OPTION_WORDS, option_problems
from connector_extractors.run_config import SourceConfig, Technology, Timeouts
from connector_extractors.run_summary import RunSummary

TIMEOUTS = Timeouts(connectSeconds=7, statementSeconds=60)


@pytest.fixture
def any_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drivers, "missing_modules", lambda driver: [])


def source(technology: str, **fields: object) -> SourceConfig:
    return SourceConfig.model_validate({"technology": technology, **fields})


def test_every_technology_has_a_profile() -> None:
    assert set(get_args(Technology)) == set(PROFILES)
    for technology, profile in PROFILES.items():
        assert profile.technology == technology
        assert profile.file_based == (profile.default_port is None and technology != "snowflake")
        if not profile.file_based:
            assert profile.system_schemas, f"{technology} lists no system schemas"
        assert all(prefix == prefix.lower() for prefix in profile.system_schema_prefixes), technology
        assert all(name == name.upper() for name in profile.type_family_overrides), technology


def test_no_allowlist_names_a_target_credential_tls_or_login_sql() -> None:
    for profile in PROFILES.values():
        for name in profile.option_names:
            assert not any(word in name.lower() for word in RESERVED_OPTION_WORDS), (profile.technology, name)


HOSTILE = [
    ("mysql", "init_command", "DELETE FROM shop.orders"),
    ("mariadb", "init_command", "DELETE FROM shop.orders"),
    ("mysql", "local_infile", "1"),
    ("postgresql", "host", "decoy.example.com"),
    ("postgresql", "hostaddr", "10.0.0.9"),
    ("postgresql", "port", "5433"),
    ("postgresql", "dbname", "other"),
    ("postgresql", "user", "postgres"),
    ("postgresql", "sslmode", "disable"),
    ("postgresql", "options", "-c default_transaction_read_only=off"),
    ("postgresql", "passfile", "/tmp/x"),
    ("postgresql", "service", "other"),
    ("mysql", "passwd", "x"),
    ("mysql", "pwd", "x"),
    ("mysql", "ssl_disabled", "true"),
    ("sqlserver", "conn_properties", "DELETE FROM t"),
    ("sqlserver", "encryption", "off"),
    ("sqlite", "mode", "rw"),
    ("sqlite", "immutable", "1"),
    ("snowflake", "authenticator", "externalbrowser"),
]


@pytest.mark.parametrize(("technology", "name", "value"), HOSTILE)
@pytest.mark.usefixtures("any_driver")
def test_hostile_options_are_refused_naming_the_field(
    technology: str, name: str, value: str, tmp_path: Path
) -> None:
    assert option_problems(technology, {name: value})
    fields: dict[str, object] = {"options": {name: value}}
    if PROFILES[technology].file_based:
        db = tmp_path / "x.db"
        db.write_bytes(b"")
        fields["path"] = str(db)
    else:
        fields["host"] = "db.example.com"
    with pytest.raises(ConnectorError) as caught:
        urls.build_connection(source(technology, **fields), "pw", TIMEOUTS)
    assert caught.value.category is ErrorCategory.INVALID_CONFIGURATION
    assert f"source.options.{name}" in caught.value.message


def test_option_values_are_typed() -> None:
    assert option_problems("postgresql", {"keepalives_idle": "30"}) == []
    assert option_problems("postgresql", {"keepalives_idle": "30; DROP"}) == [
        "source.options.keepalives_idle: must be an integer"
    ]
    assert option_problems("snowflake", {"role": "READER"}) == []
    assert option_problems("snowflake", {"role": "x' OR 1=1"})


@pytest.mark.usefixtures("any_driver")
def test_postgresql_requires_tls_and_refuses_clear_text_passwords_by_default() -> None:
    spec = urls.build_connection(source("postgresql", host="db", username="u"), "pw", TIMEOUTS)
    assert spec.connect_args["sslmode"] == "require"
    if urls.libpq_version("postgresql") >= 160000:
        assert spec.connect_args["require_auth"] == "!password"
    full = urls.build_connection(source("postgresql", host="db", tls={"mode": "verify-full"}), "pw", TIMEOUTS)
    assert full.connect_args["sslmode"] == "verify-full"
    assert full.connect_args["sslrootcert"] == "system"


@pytest.mark.usefixtures("any_driver")
def test_postgresql_uses_the_ca_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLC_SOURCE_CA", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----")
    spec = urls.build_connection(source("postgresql", host="db", tls={"mode": "verify-full"}), "pw", TIMEOUTS)
    assert Path(spec.connect_args["sslrootcert"]).read_text().startswith("-----BEGIN CERTIFICATE-----")


@pytest.mark.parametrize("technology", ["mysql", "mariadb"])
@pytest.mark.usefixtures("any_driver")
def test_mysql_requires_tls_owns_login_sql_and_never_serves_local_files(technology: str) -> None:
    spec = urls.build_connection(source(technology, host="db", username="u"), "pw", TIMEOUTS)
    assert isinstance(spec.connect_args["ssl"], ssl.SSLContext)
    assert spec.connect_args["init_command"] is None
    assert spec.connect_args["local_infile"] is False
    opted_out = urls.build_connection(source(technology, host="db", tls={"mode": "disable"}), "pw", TIMEOUTS)
    assert "ssl" not in opted_out.connect_args


@pytest.mark.usefixtures("any_driver")
def test_sqlserver_cannot_verify_and_says_so() -> None:
    with pytest.raises(ConnectorError, match=r"source\.tls\.mode"):
        urls.build_connection(source("sqlserver", host="db", tls={"mode": "verify-full"}), "pw", TIMEOUTS)


@pytest.mark.parametrize(
    ("raw", "expected"), [("t0k\n", "t0k"), ("t0k\r\n", "t0k"), ("t0k\n\n", "t0k\n"), ("t0k", "t0k")]
)
def test_one_trailing_line_break_is_dropped(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_secrets_from_env_and_file_are_normalised(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OLC_DATAGALAXY_TOKEN", "abc.def\r\n")
    assert read_token("OLC_DATAGALAXY_TOKEN") == "abc.def"
    monkeypatch.delenv("OLC_DATAGALAXY_TOKEN")
    secret_file = tmp_path / "pw"
    secret_file.write_text("\n")
    monkeypatch.setenv("OLC_SOURCE_PASSWORD_FILE", str(secret_file))
    assert read_secret("OLC_SOURCE_PASSWORD") is None  # empty once normalised: absent


@pytest.mark.parametrize("token", ["abc\ndef", "abc def", "tök3n", "abc\x07"])
def test_a_token_that_cannot_be_a_header_is_token_rejected_without_quoting_it(
    token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLC_DATAGALAXY_TOKEN", token)
    with pytest.raises(ConnectorError) as caught:
        read_token("OLC_DATAGALAXY_TOKEN")
    assert caught.value.category is ErrorCategory.TOKEN_REJECTED
    assert "ö" not in str(caught.value)
    assert "abc" not in str(caught.value)


def test_scrub_masks_fragments_codec_characters_and_control_characters() -> None:
    secret = "Zr7#kQ9!pLm2"
    assert "kQ9!p" not in scrub("server said: bad value kQ9!pL here", secret)
    codec = "'latin-1' codec can't encode character '\\u20ac' in position 3: ordinal not in range(256)"
    cleaned = scrub(codec, "ab€d")
    assert "\\u20ac" not in cleaned
    assert "position 3" not in cleaned
    assert "\x1b" not in scrub("table \x1b[31mred\x1b[0m done")
    assert scrub("a\u202eb") == "a b"


def test_entry_point_rejects_a_bad_token_at_once_and_never_writes_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = "Secr3tTok€n-value"
    monkeypatch.setenv("OLC_DATAGALAXY_TOKEN", token)
    termination = tmp_path / "termination-log"
    monkeypatch.setenv("OLC_TERMINATION_MESSAGE_PATH", str(termination))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"source": {"technology": "sqlite", "path": str(tmp_path / "none.db")}}))
    code = entry.main(["--config", str(config)])
    assert code == 8  # TokenRejected: not retried by the Job's podFailurePolicy
    summary = RunSummary.from_termination_message(termination.read_text())
    assert summary is not None
    assert summary.error_category == "TokenRejected"
    seen = termination.read_text() + "".join(capsys.readouterr())
    assert "Secr3t" not in seen
    assert "€" not in seen


def test_summaries_never_carry_control_characters_either_way() -> None:
    written = RunSummary(result="Failed", message="workspace \x1b[2Jgone\u202e", warnings=["a\x00b"])
    assert "\x1b" not in written.message
    assert "\u202e" not in written.message
    assert written.warnings == ["a b"]
    # What the operator reads back from a pod (input, not truth) is cleaned the same way.
    read = RunSummary.from_termination_message('{"result": "Failed", "message": "x\\u001b[31my"}')
    assert read is not None
    assert read.message == "x [31my"
