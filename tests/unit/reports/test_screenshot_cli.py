"""`python -m orchestra.reports.screenshot`: a wrong argument is one line and an exit code."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestra.reports.screenshot import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    return int(str(exited.value.code)), capsys.readouterr().err


def test_a_missing_report_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "report.json"

    assert run(capsys, str(missing)) == (2, f"error: {missing}: no such file\n")


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '{"rows": []}', "NaN"])
def test_a_json_file_that_is_not_a_report_exits_1_saying_what_to_give(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    source = tmp_path / "rows.json"
    source.write_text(text)

    code, err = run(capsys, str(source), "-o", str(tmp_path / "x.png"))

    assert code == 1
    assert err == (
        f"error: {source}: not a JSON report "
        "(`orchestra report SUITE_RUN --format json` writes one)\n"
    )
    assert not (tmp_path / "x.png").exists()


def test_a_file_of_another_kind_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "report.yaml"
    source.write_text("a: 1\n")

    assert run(capsys, str(source)) == (2, f"error: {source}: give a .json or .html report\n")


def test_a_missing_chromium_exits_2_saying_how_to_install_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "report.html"
    page.write_text("<p>hi</p>")

    code, err = run(capsys, str(page), "--chromium", str(tmp_path / "no-chromium"))

    assert code == 2
    assert err.startswith(f"error: no Chromium at {tmp_path / 'no-chromium'}: install it")
