from orchestra.bpmn import canonical_json, checksum
from tests.unit.bpmn.documents import LINEAR, ORDER_BPMN, only_process, process


def test_the_same_content_has_the_same_checksum() -> None:
    assert checksum(only_process(ORDER_BPMN)) == checksum(only_process(ORDER_BPMN))


def test_moving_elements_to_other_lines_keeps_the_checksum() -> None:
    reformatted = ORDER_BPMN.replace(b"<bpmn:process ", b"\n\n\n<bpmn:process ")
    before, after = only_process(ORDER_BPMN), only_process(reformatted)
    assert before.nodes[0].line != after.nodes[0].line
    assert checksum(before) == checksum(after)


def test_a_changed_condition_name_or_diagram_changes_the_checksum() -> None:
    original = checksum(only_process(ORDER_BPMN))
    for old, new in (
        (b"approved = true", b"approved = false"),
        (b'name="Check order"', b'name="Check the order"'),
        (b'x="600.5"', b'x="601"'),
    ):
        assert checksum(only_process(ORDER_BPMN.replace(old, new))) != original, new


def test_the_canonical_form_is_compact_sorted_json_without_lines() -> None:
    text = canonical_json(only_process(process(LINEAR)))
    assert '"line"' not in text
    assert text.startswith('{"diagram":')
    assert ", " not in text


def test_saving_with_another_modeller_version_keeps_the_checksum() -> None:
    resaved = ORDER_BPMN.replace(b'exporterVersion="5.0.0"', b'exporterVersion="5.1.0"')
    assert only_process(resaved).exporter != only_process(ORDER_BPMN).exporter
    assert checksum(only_process(resaved)) == checksum(only_process(ORDER_BPMN))
