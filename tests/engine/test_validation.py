"""Deploy-time validation: XML safety, the BPMN schema and the sopflow dialect.

Every refusal is checked for what the analyst sees: the message (English and Indonesian), the
element id and the line. Diagrams are small and crafted for one rule each, built from a
template so that the line of every element is computed from the text, not hard-coded.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from lxml import etree

from engine.bpmn.diagram import ParsedDiagram
from engine.bpmn.xml import MAX_DIAGRAM_BYTES, safe_parse
from engine.bpmn.xsd import xsd_problems
from engine.errors import DeployError, Problem
from engine.runtime import Engine, topics_policy

DATA = Path(__file__).resolve().parent.parent / "data" / "bpmn"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NAMESPACES = (
    f'xmlns:bpmn="{BPMN}" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)
KNOWN_TOPICS = ("dns.create", "mail.send")


# --------------------------------------------------------------------------- helpers


def parser_engine() -> Engine:
    """``Engine.parse`` needs no database: validation happens before anything is stored."""
    return Engine(cast(Any, None), topics=topics_policy(KNOWN_TOPICS))


def parse(xml: bytes, filename: str = "test.bpmn") -> ParsedDiagram:
    return parser_engine().parse(filename, xml)


def refused(xml: bytes, filename: str = "test.bpmn") -> list[Problem]:
    with pytest.raises(DeployError) as info:
        parse(xml, filename)
    problems = info.value.problems
    assert problems, "a refusal must say why"
    for p in problems:
        assert p.message_en and p.message_id
        assert p.element_id or p.line, p
        assert p.filename == filename
    n = len(problems)
    assert f"{n} problem(s)" in info.value.text("en")
    assert f"{n} masalah" in info.value.text("id")
    return problems


def the(problems: list[Problem], pattern: str) -> Problem:
    """The one problem whose English message matches ``pattern``."""
    found = [p for p in problems if re.search(pattern, p.message_en)]
    assert len(found) == 1, f"{pattern!r} in {[str(p) for p in problems]}"
    return found[0]


def line_of(xml: bytes, needle: str) -> int:
    text = xml.decode("utf-8")
    assert text.count(needle) == 1, needle
    return text[: text.index(needle)].count("\n") + 1


def diagram(body: str, *, top: str = "", executable: str = "true", pid: str = "p") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NAMESPACES} id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
{top}
  <bpmn:process id="{pid}" isExecutable="{executable}">
{body}
  </bpmn:process>
</bpmn:definitions>
""".encode()


def around(task: str, task_id: str = "t", *, top: str = "", executable: str = "true") -> bytes:
    """start -> ``task`` -> end."""
    return diagram(
        f"""    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f_in" sourceRef="start" targetRef="{task_id}" />
    {task}
    <bpmn:sequenceFlow id="f_out" sourceRef="{task_id}" targetRef="end" />
    <bpmn:endEvent id="end" />""",
        top=top,
        executable=executable,
    )


def user_task(extra: str = "", attrs: str = 'camunda:candidateGroups="clerk"') -> str:
    return f'<bpmn:userTask id="t" name="Review" {attrs}>{extra}</bpmn:userTask>'


def gateway(flows: str, default: str = "") -> bytes:
    attr = f' default="{default}"' if default else ""
    return diagram(
        f"""    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw"{attr} />
{flows}
    <bpmn:endEvent id="end_a" />
    <bpmn:endEvent id="end_b" />"""
    )


def condition_flow(flow_id: str, target: str, condition: str | None) -> str:
    if condition is None:
        return f'    <bpmn:sequenceFlow id="{flow_id}" sourceRef="gw" targetRef="{target}" />'
    return (
        f'    <bpmn:sequenceFlow id="{flow_id}" sourceRef="gw" targetRef="{target}">'
        f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}'
        "</bpmn:conditionExpression></bpmn:sequenceFlow>"
    )


def timer_catch(definition: str) -> str:
    return (
        '<bpmn:intermediateCatchEvent id="t"><bpmn:timerEventDefinition id="td">'
        f"{definition}</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
    )


# --------------------------------------------------------------------------- XML safety

DOCTYPE_XXE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE bpmn:definitions [
  <!ENTITY secret SYSTEM "file:///etc/passwd">
]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="p" name="&secret;" isExecutable="true" />
</bpmn:definitions>
"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:documentation>&lol9;</bpmn:documentation>
</bpmn:definitions>
"""

INTERNAL_DTD = b"""<?xml version="1.0" encoding="UTF-8"?>

<!DOCTYPE definitions [
  <!ELEMENT definitions ANY>
  <!ATTLIST definitions id ID #IMPLIED>
]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" />
"""


def _assert_dtd_refusal(problems: list[Problem], line: int) -> None:
    assert len(problems) == 1
    p = problems[0]
    assert re.search(r"\bDTDs?\b.*not allowed", p.message_en)
    assert "DTD" in p.message_id and "tidak diizinkan" in p.message_id
    assert p.element_id is None
    assert p.line == line


@pytest.mark.parametrize(
    ("xml", "line"),
    [(DOCTYPE_XXE, 2), (BILLION_LAUGHS, 2), (INTERNAL_DTD, 3)],
    ids=["xxe", "billion-laughs", "internal-dtd"],
)
def test_dtds_are_refused_with_their_line(xml: bytes, line: int) -> None:
    _assert_dtd_refusal(refused(xml, "evil.bpmn"), line)


def test_xxe_does_not_leak_the_file() -> None:
    with pytest.raises(DeployError) as info:
        parse(DOCTYPE_XXE)
    text = str(info.value) + repr(info.value.problems)
    assert "root:" not in text and "/bin/" not in text


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
def test_dtd_is_refused_in_any_encoding(encoding: str) -> None:
    """The byte scan cannot see ``<!DOCTYPE`` in UTF-16; the parsed doctype is the backstop."""
    xml = (
        DOCTYPE_XXE.decode()
        .replace('encoding="UTF-8"', f'encoding="{encoding.upper()}"')
        .encode(encoding)
    )
    _assert_dtd_refusal(refused(xml), 2)


def test_billion_laughs_in_utf16_is_refused_without_expansion() -> None:
    xml = (
        BILLION_LAUGHS.decode()
        .replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
        .encode("utf-16")
    )
    _assert_dtd_refusal(refused(xml), 2)


def test_lowercase_doctype_is_refused() -> None:
    xml = DOCTYPE_XXE.replace(b"<!DOCTYPE", b"<!doctype")
    _assert_dtd_refusal(refused(xml), 2)


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    """A named pipe: opening it for reading blocks until someone writes, so a parser that tried
    to read the entity's file would hang here instead of finishing."""
    path = tmp_path / "secret"
    os.mkfifo(path)
    yield path
    try:  # release a reader that might be blocked, so no thread outlives the test
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.write(fd, b"x")
        os.close(fd)
    except OSError:
        pass


def _finishes(fn: Any, seconds: float = 5.0) -> tuple[bool, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except Exception as e:  # noqa: BLE001 - the caller inspects it
            out["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    return not t.is_alive(), out


def _xxe_into(path: Path, encoding: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="{encoding.upper()}"?>\n'
        f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{path}">]>\n'
        f'<bpmn:definitions xmlns:bpmn="{BPMN}" id="d"><bpmn:documentation>&x;'
        "</bpmn:documentation></bpmn:definitions>"
    ).encode(encoding)


def test_fifo_probe_detects_a_parser_that_reads_entities(fifo: Path) -> None:
    """Control for the test below: an entity-resolving parser does block on the pipe."""
    unsafe = etree.XMLParser(resolve_entities=True, load_dtd=True, no_network=True)
    done, _ = _finishes(lambda: etree.fromstring(_xxe_into(fifo, "utf-8"), unsafe), 1.0)
    assert not done


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_external_entity_file_is_never_opened(fifo: Path, encoding: str) -> None:
    done, out = _finishes(lambda: safe_parse(_xxe_into(fifo, encoding), "evil.bpmn"))
    assert done, "the parser opened the entity's file"
    assert isinstance(out.get("error"), DeployError)
    _assert_dtd_refusal(out["error"].problems, 2)


@pytest.mark.parametrize(
    ("xml", "line", "fragment"),
    [
        (b'<?xml version="1.0"?>\n<a>\n  <b>\n</a>\n', 4, "mismatch"),
        (b'<?xml version="1.0"?>\n<a>\n\n\n  <b x="1" x="2"/>\n</a>', 5, "redefined"),
        (b'<?xml version="1.0"?>\n<a>\n  <b>&nbsp;</b>\n</a>', 3, "not defined"),
        (b"", 1, "empty"),
    ],
    ids=["mismatched-tag", "duplicate-attribute", "undefined-entity", "empty"],
)
def test_not_well_formed_xml_gives_the_line(xml: bytes, line: int, fragment: str) -> None:
    (p,) = refused(xml, "broken.bpmn")
    assert p.message_en.startswith("Not well-formed XML")
    assert fragment in p.message_en.lower()
    assert p.message_id.startswith("XML tidak valid")
    assert p.line == line and p.element_id is None


@pytest.mark.parametrize(
    "xml",
    [
        b'<?xml version="1.0"?>\n\n<html><body/></html>',
        # BPMN 2.0 beta namespace: looks right, is not
        b'<?xml version="1.0"?>\n\n<definitions xmlns="http://www.omg.org/spec/BPMN/20100501/MODEL"/>',
        b'<?xml version="1.0"?>\n\n<definitions/>',
    ],
    ids=["html", "wrong-namespace", "no-namespace"],
)
def test_non_bpmn_root_is_refused(xml: bytes) -> None:
    (p,) = refused(xml)
    assert p.message_en == "Not a BPMN 2.0 file (root must be bpmn:definitions)"
    assert p.message_id.startswith("Bukan berkas BPMN 2.0")
    assert p.line == 3 and p.element_id is None


def _padded(size: int) -> bytes:
    xml = around(user_task())
    head, tail = xml.split(b"</bpmn:definitions>")
    filler = size - len(xml) - len(b"<!---->\n")
    return head + b"<!--" + b"x" * filler + b"-->\n" + b"</bpmn:definitions>" + tail


def test_diagram_over_5_mb_is_refused_before_parsing() -> None:
    xml = _padded(MAX_DIAGRAM_BYTES + 1)
    assert len(xml) == MAX_DIAGRAM_BYTES + 1
    with pytest.raises(DeployError) as info:
        parse(xml, "huge.bpmn")
    (p,) = info.value.problems
    assert p.message_en == "Diagram is larger than 5 MB"
    assert p.message_id == "Diagram lebih besar dari 5 MB"
    assert p.element_id is None and p.line is None  # the whole file is the problem
    assert p.filename == "huge.bpmn"
    # the size check comes first: even garbage that large is refused for its size
    with pytest.raises(DeployError, match="larger than 5 MB"):
        safe_parse(b"<" * (MAX_DIAGRAM_BYTES + 1))


def test_diagram_of_exactly_5_mb_is_accepted() -> None:
    xml = _padded(MAX_DIAGRAM_BYTES)
    assert len(xml) == MAX_DIAGRAM_BYTES
    assert [p.key for p in parse(xml).processes] == ["p"]


# --------------------------------------------------------------------------- XSD


def test_schema_errors_are_all_reported_with_element_and_line() -> None:
    xml = diagram(
        """    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" />
    <bpmn:userTask id="t" camunda:candidateGroups="clerk" />
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="end" />
    <bpmn:endEvent id="end" bogus="1" />"""
    )
    problems = refused(xml)
    target = the(problems, r"BPMN schema: .*'targetRef' is required")
    assert target.element_id == "f1" and target.line == line_of(xml, 'id="f1"')
    assert target.message_id.startswith("Skema BPMN:")
    bogus = the(problems, r"BPMN schema: .*'bogus' is not allowed")
    assert bogus.element_id == "end" and bogus.line == line_of(xml, 'id="end"')


def test_xsd_problems_is_empty_for_the_dialect_example(dialect_xml: bytes) -> None:
    assert xsd_problems(safe_parse(dialect_xml), "dialect-example.bpmn") == []


# --------------------------------------------------------------------------- people


def test_user_task_without_candidate_group_or_assignee_is_refused() -> None:
    xml = around(user_task(attrs=""))
    (p,) = refused(xml)
    assert p.message_en == "User task has no candidate group or assignee: nobody could do it"
    assert p.message_id.startswith("User task tidak punya candidate group atau assignee")
    assert p.element_id == "t" and p.line == line_of(xml, 'id="t"')


@pytest.mark.parametrize(
    "attrs",
    [
        'camunda:candidateGroups="clerk, head_of_office"',
        'camunda:assignee="${initiator}"',
        'camunda:candidateUsers="budi"',
        'camunda:candidateGroups="${team}"',
    ],
)
def test_user_task_with_people_is_accepted(attrs: str) -> None:
    assert parse(around(user_task(attrs=attrs))).processes[0].key == "p"


@pytest.mark.parametrize(
    ("attrs", "pattern"),
    [
        ('camunda:candidateGroups="clerk;drop table"', r"Candidate group 'clerk;drop table'"),
        ('camunda:assignee="${user.name}"', r"^camunda:assignee: Member access"),
        ('camunda:candidateGroups="c" camunda:formKey="embedded:app:x.html"', r"formKey"),
    ],
)
def test_user_task_attribute_refusals(attrs: str, pattern: str) -> None:
    xml = around(user_task(attrs=attrs))
    p = the(refused(xml), pattern)
    assert p.element_id == "t" and p.line == line_of(xml, 'id="t"')


# --------------------------------------------------------------------------- service tasks


@pytest.mark.parametrize(
    "attr",
    [
        'camunda:class="org.example.Delegate"',
        'camunda:delegateExpression="${delegate}"',
        'camunda:expression="${service.run()}"',
    ],
)
def test_java_service_tasks_are_refused(attr: str) -> None:
    xml = around(f'<bpmn:serviceTask id="t" {attr} />')
    (p,) = refused(xml)
    name = attr.split("=")[0]
    assert p.message_en == f'{name} runs Java code; use camunda:type="external" with a topic'
    assert p.message_id.startswith(f"{name} menjalankan kode Java")
    assert p.element_id == "t" and p.line == line_of(xml, 'id="t"')


def test_unknown_topic_is_refused_and_named() -> None:
    xml = around('<bpmn:serviceTask id="t" camunda:type="external" camunda:topic="dns.explode" />')
    (p,) = refused(xml)
    assert p.message_en.startswith("Topic 'dns.explode' has no handler and is not declared")
    assert p.message_id.startswith("Topic 'dns.explode' tidak punya handler")
    assert p.element_id == "t" and p.line == line_of(xml, 'id="t"')


def test_topic_declared_external_is_accepted() -> None:
    xml = around(
        '<bpmn:serviceTask id="t" camunda:type="external" camunda:topic="erp.invoice">'
        "<bpmn:extensionElements><camunda:properties>"
        '<camunda:property name="external" value="true" />'
        "</camunda:properties></bpmn:extensionElements></bpmn:serviceTask>"
    )
    (proc,) = parse(xml).processes
    assert proc.topics == {"erp.invoice"}


def test_topic_declared_external_by_configuration_is_accepted() -> None:
    xml = around('<bpmn:serviceTask id="t" camunda:type="external" camunda:topic="erp.invoice" />')
    engine = Engine(cast(Any, None), topics=topics_policy(KNOWN_TOPICS, external=["erp.*"]))
    assert engine.parse("x.bpmn", xml).processes[0].topics == {"erp.invoice"}


def test_known_topic_and_send_task_are_accepted() -> None:
    xml = diagram(
        """    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="dns" />
    <bpmn:serviceTask id="dns" camunda:type="external" camunda:topic="dns.create" />
    <bpmn:sequenceFlow id="f2" sourceRef="dns" targetRef="mail" />
    <bpmn:sendTask id="mail" camunda:type="external" camunda:topic="mail.send" />
    <bpmn:sequenceFlow id="f3" sourceRef="mail" targetRef="end" />
    <bpmn:endEvent id="end" />"""
    )
    assert parse(xml).processes[0].topics == {"dns.create", "mail.send"}


@pytest.mark.parametrize(
    "task",
    [
        '<bpmn:serviceTask id="t" />',
        '<bpmn:serviceTask id="t" camunda:topic="dns.create" />',
        '<bpmn:serviceTask id="t" camunda:type="external" />',
    ],
    ids=["nothing", "topic-without-type", "type-without-topic"],
)
def test_service_task_needs_external_type_and_topic(task: str) -> None:
    xml = around(task)
    (p,) = refused(xml)
    assert p.message_en == 'Service task needs camunda:type="external" and a camunda:topic'
    assert p.element_id == "t" and p.line == line_of(xml, 'id="t"')


def test_unsafe_input_mapping_and_bad_retry_cycle_are_refused() -> None:
    xml = around(
        '<bpmn:serviceTask id="t" camunda:type="external" camunda:topic="dns.create">'
        "<bpmn:extensionElements>"
        "<camunda:failedJobRetryTimeCycle>R5/soon</camunda:failedJobRetryTimeCycle>"
        "<camunda:inputOutput>\n"
        '<camunda:inputParameter name="host">${execution.getVariable("h")}'
        "</camunda:inputParameter>\n"
        '<camunda:inputParameter name="__class__">x</camunda:inputParameter>\n'
        "</camunda:inputOutput></bpmn:extensionElements></bpmn:serviceTask>"
    )
    problems = refused(xml)
    mapping = the(problems, r"^camunda:inputParameter 'host': Member access")
    assert mapping.element_id == "t" and mapping.line == line_of(xml, 'name="host"')
    name = the(problems, r"Parameter name '__class__' must be a plain variable name")
    assert name.element_id == "t" and name.line == line_of(xml, 'name="__class__"')
    retry = the(problems, r"Retry cycle 'R5/soon' must look like R3/PT5M")
    assert retry.element_id == "t" and retry.line == line_of(xml, "failedJobRetryTimeCycle>R5")


@pytest.mark.parametrize(
    ("ext", "pattern"),
    [
        (
            '<camunda:executionListener event="start" class="org.example.Listener" />',
            r"^camunda:executionListener runs Java code and is not supported$",
        ),
        (
            '<camunda:executionListener event="end"><camunda:script scriptFormat="groovy">x'
            "</camunda:script></camunda:executionListener>",
            r"^camunda:executionListener runs Java code",
        ),
        (
            '<camunda:taskListener event="create" delegateExpression="${l}" />',
            r"^camunda:taskListener runs Java code",
        ),
    ],
    ids=["class", "script", "task-listener"],
)
def test_listeners_are_refused(ext: str, pattern: str) -> None:
    xml = around(user_task(f"<bpmn:extensionElements>{ext}</bpmn:extensionElements>"))
    p = the(refused(xml), pattern)
    assert "menjalankan kode Java" in p.message_id
    assert p.element_id == "t" and p.line == line_of(xml, 'id="t"')


def test_connector_is_refused() -> None:
    xml = around(
        '<bpmn:serviceTask id="t"><bpmn:extensionElements><camunda:connector>'
        "<camunda:connectorId>http-connector</camunda:connectorId>"
        "</camunda:connector></bpmn:extensionElements></bpmn:serviceTask>"
    )
    (p,) = refused(xml)
    assert p.message_en.startswith("camunda:connector is not supported")
    assert p.element_id == "t" and p.line == line_of(xml, 'id="t"')


# --------------------------------------------------------------------------- expressions


@pytest.mark.parametrize(
    ("condition", "pattern"),
    [
        ("${execution.getVariable('x')}", r"Member access \('\.getVariable'\) is not supported"),
        ("${__import__('os')}", r"Names starting with '__' are not allowed: '__import__'"),
        ("${open('/etc/passwd')}", r"Function 'open' is not allowed"),
        ("__import__('os').system('id')", r"not allowed"),
        ("x.__class__", r"Attribute access \(a\.b\) is not allowed"),
        ("${a ==}", r"."),
    ],
    ids=["attribute", "dunder-import", "open", "python-import", "python-dunder", "syntax"],
)
def test_unsafe_conditions_are_refused(condition: str, pattern: str) -> None:
    xml = gateway(
        condition_flow("f_bad", "end_a", condition)
        + "\n"
        + condition_flow("f_else", "end_b", None),
        default="f_else",
    )
    (p,) = refused(xml)
    assert p.message_en.startswith("Condition: ")
    assert re.search(pattern, p.message_en), p.message_en
    assert p.message_id.startswith("Condition: ") and p.message_id != p.message_en
    assert p.element_id == "f_bad" and p.line == line_of(xml, 'id="f_bad"')


@pytest.mark.parametrize(
    "condition",
    [
        "${approved}",
        "${!approved}",
        "${a == 'b' &amp;&amp; n &gt; 2}",
        "${empty note}",
        "approved and n &lt;= 5",
        "${workdays(3) &gt; now()}",
    ],
)
def test_safe_conditions_are_accepted(condition: str) -> None:
    xml = gateway(
        condition_flow("f_a", "end_a", condition) + "\n" + condition_flow("f_b", "end_b", None),
        default="f_b",
    )
    assert parse(xml).processes[0].key == "p"


def test_condition_language_and_empty_condition_are_refused() -> None:
    xml = gateway(
        """    <bpmn:sequenceFlow id="f_js" sourceRef="gw" targetRef="end_a">
      <bpmn:conditionExpression language="javascript">x</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_empty" sourceRef="gw" targetRef="end_b">
      <bpmn:conditionExpression>  </bpmn:conditionExpression>
    </bpmn:sequenceFlow>"""
    )
    problems = refused(xml)
    js = the(problems, r"Condition language 'javascript' is not supported")
    assert js.element_id == "f_js" and js.line == line_of(xml, 'language="javascript"')
    empty = the(problems, r"^Condition is empty$")
    assert empty.element_id == "f_empty"
    assert empty.line == line_of(xml, "<bpmn:conditionExpression>  ")


def test_script_task_with_import_is_refused() -> None:
    xml = around(
        '<bpmn:scriptTask id="t" scriptFormat="python"><bpmn:script>import os'
        "</bpmn:script></bpmn:scriptTask>"
    )
    (p,) = refused(xml)
    assert p.message_en.startswith("Script: Script line 1: import is not allowed")
    assert p.message_id.startswith("Skrip: ")
    assert p.element_id == "t" and p.line == line_of(xml, 'id="t"')


@pytest.mark.parametrize(
    ("fmt", "script", "pattern"),
    [
        ("groovy", "x = 1", r"Script format 'groovy' is not supported"),
        ("javascript", "x = 1", r"Script format 'javascript' is not supported"),
        ("python", "", r"^Script task has no script$"),
        ("python", "exec('import os')", r"Script: Script line 1: A bare expression"),
        ("python", "x = open('/etc/passwd')", r"Function 'open' is not allowed"),
    ],
)
def test_other_unsafe_scripts_are_refused(fmt: str, script: str, pattern: str) -> None:
    xml = around(
        f'<bpmn:scriptTask id="t" scriptFormat="{fmt}"><bpmn:script>{script}'
        "</bpmn:script></bpmn:scriptTask>"
    )
    p = the(refused(xml), pattern)
    assert p.element_id == "t" and p.line == line_of(xml, 'id="t"')


def test_script_task_with_safe_assignment_is_accepted() -> None:
    xml = around(
        '<bpmn:scriptTask id="t" scriptFormat="python"><bpmn:script>x = 1\n'
        "y = len('abc') + x</bpmn:script></bpmn:scriptTask>"
    )
    assert parse(xml).processes[0].key == "p"


# --------------------------------------------------------------------------- timers


@pytest.mark.parametrize(
    ("definition", "pattern"),
    [
        ("<bpmn:timeDuration>P3X</bpmn:timeDuration>", r"^Timer: .*'P3X'"),
        ("<bpmn:timeCycle>0 0 9 * * ?</bpmn:timeCycle>", r"^Timer: .*[Cc]ron"),
        ("<bpmn:timeDate>next tuesday</bpmn:timeDate>", r"^Timer: .*'next tuesday'"),
        ("<bpmn:timeDuration>${workdays('x'.upper)}</bpmn:timeDuration>", r"^Timer: "),
        ("<bpmn:timeDuration> </bpmn:timeDuration>", r"^Timer is empty$"),
    ],
    ids=["garbage-duration", "cron", "garbage-date", "unsafe-expression", "empty"],
)
def test_bad_timers_are_refused(definition: str, pattern: str) -> None:
    xml = around(timer_catch(definition))
    (p,) = refused(xml)
    assert re.search(pattern, p.message_en), p.message_en
    assert p.message_id.startswith("Timer")
    # the timer text has no id of its own: the problem names the event around it
    assert p.element_id == "td" and p.line == line_of(xml, 'id="t"')


def test_timer_without_definition_is_refused() -> None:
    xml = around(timer_catch(""))
    (p,) = refused(xml)
    assert p.message_en == "Timer needs timeDate, timeDuration or timeCycle"
    assert p.element_id == "td" and p.line == line_of(xml, 'id="td"')


@pytest.mark.parametrize(
    "definition",
    [
        "<bpmn:timeDuration>${workdays(3)}</bpmn:timeDuration>",
        "<bpmn:timeDuration>P3D</bpmn:timeDuration>",
        "<bpmn:timeDuration>PT15M</bpmn:timeDuration>",
        "<bpmn:timeCycle>R3/P1D</bpmn:timeCycle>",
        "<bpmn:timeCycle>R/PT10M</bpmn:timeCycle>",
        "<bpmn:timeDate>2026-12-01T08:00:00</bpmn:timeDate>",
        "<bpmn:timeDate>2026-12-01T08:00:00+07:00</bpmn:timeDate>",
    ],
)
def test_good_timers_are_accepted(definition: str) -> None:
    assert parse(around(timer_catch(definition))).processes[0].key == "p"


# --------------------------------------------------------------------------- unsupported BPMN


def test_business_rule_task_is_refused_with_a_message_not_a_key_error() -> None:
    xml = around('<bpmn:businessRuleTask id="t" name="Decide" />')
    (p,) = refused(xml)
    assert p.message_en == (
        "Unsupported element bpmn:businessRuleTask: DMN decisions are not supported; "
        "use a gateway with conditions"
    )
    assert p.message_id.startswith("Elemen bpmn:businessRuleTask tidak didukung")
    assert p.element_id == "t" and p.line == line_of(xml, 'id="t"')
    assert "KeyError" not in p.message_en


def test_message_without_name_is_refused() -> None:
    top = '  <bpmn:message id="msg_nameless" />'
    xml = around(
        '<bpmn:intermediateCatchEvent id="t">'
        '<bpmn:messageEventDefinition id="med" messageRef="msg_nameless" />'
        "</bpmn:intermediateCatchEvent>",
        top=top,
    )
    (p,) = refused(xml)
    assert p.message_en == "Message 'msg_nameless' has no name"
    assert p.message_id == "Pesan 'msg_nameless' tidak punya nama"
    assert p.element_id == "msg_nameless" and p.line == line_of(xml, 'id="msg_nameless"')
    assert "TypeError" not in p.message_en


def test_receive_task_needs_a_named_message() -> None:
    xml = around('<bpmn:receiveTask id="t" messageRef="m" />', top='  <bpmn:message id="m" />')
    (p,) = refused(xml)
    assert p.message_en == "Receive task needs a declared, named message"
    assert p.element_id == "t" and p.line == line_of(xml, 'id="t"')


def test_undeclared_message_and_error_are_refused() -> None:
    xml = diagram(
        """    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:messageEventDefinition id="med" messageRef="ghost" />
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />
    <bpmn:endEvent id="end">
      <bpmn:errorEventDefinition id="eed" errorRef="nope" />
    </bpmn:endEvent>"""
    )
    problems = refused(xml)
    msg = the(problems, r"^Message 'ghost' is not declared$")
    assert msg.element_id == "med" and msg.line == line_of(xml, 'id="med"')
    err = the(problems, r"^Error 'nope' is not declared$")
    assert err.element_id == "eed" and err.line == line_of(xml, 'id="eed"')


def test_data_store_is_refused() -> None:
    top = '  <bpmn:dataStore id="ds_archive" name="Arsip" />'
    xml = around(user_task(), top=top)
    (p,) = refused(xml)
    assert p.message_en == "bpmn:dataStore is not supported"
    assert p.message_id == "bpmn:dataStore tidak didukung"
    assert p.element_id == "ds_archive" and p.line == line_of(xml, 'id="ds_archive"')


@pytest.mark.parametrize(
    ("element", "pattern"),
    [
        ('<bpmn:dataStoreReference id="x" />', r"bpmn:dataStoreReference: data stores"),
        ('<bpmn:complexGateway id="x" />', r"bpmn:complexGateway: complex gateways"),
        ('<bpmn:adHocSubProcess id="x" />', r"bpmn:adHocSubProcess: ad-hoc"),
        ('<bpmn:transaction id="x" />', r"bpmn:transaction: transactions"),
    ],
)
def test_other_unsupported_elements_are_refused(element: str, pattern: str) -> None:
    xml = around(user_task() + "\n    " + element)
    (p,) = refused(xml)
    assert p.message_en.startswith("Unsupported element ") and re.search(pattern, p.message_en)
    assert p.element_id == "x" and p.line == line_of(xml, 'id="x"')


def test_loop_on_a_task_is_refused_once_not_per_child() -> None:
    xml = around(
        user_task(
            '<bpmn:multiInstanceLoopCharacteristics id="mi">'
            '<bpmn:loopCardinality id="card">3</bpmn:loopCardinality>'
            "</bpmn:multiInstanceLoopCharacteristics>"
        )
    )
    (p,) = refused(xml)
    assert p.message_en.startswith("Unsupported element bpmn:multiInstanceLoopCharacteristics")
    assert p.element_id == "mi" and p.line == line_of(xml, 'id="t"')


def test_other_vendors_extensions_are_ignored() -> None:
    """Signavio/Visio exports put their own elements, sometimes in the BPMN default namespace,
    inside extensionElements: that is not BPMN to run and must not be reported."""
    xml = around(
        user_task(
            '<bpmn:extensionElements><vendor:style xmlns:vendor="http://vendor.example/x">'
            '<bpmn:Grid spacing="15" /><bpmn:attribute name="KPI" />'
            "</vendor:style></bpmn:extensionElements>"
        )
    )
    assert parse(xml).processes[0].key == "p"


# --------------------------------------------------------------------------- flow structure


def test_gateway_flow_without_condition_that_is_not_default_is_refused() -> None:
    xml = gateway(
        condition_flow("f_yes", "end_a", "${approved}")
        + "\n"
        + condition_flow("f_no", "end_b", None)
    )
    (p,) = refused(xml)
    assert p.message_en == (
        "Flow 'f_no' out of gateway 'gw' has no condition and is not the default flow"
    )
    assert (
        p.message_id == "Alur 'f_no' dari gateway 'gw' tidak punya kondisi dan bukan alur default"
    )
    assert p.element_id == "f_no" and p.line == line_of(xml, 'id="f_no"')


def test_gateway_with_default_flow_is_accepted() -> None:
    xml = gateway(
        condition_flow("f_yes", "end_a", "${approved}")
        + "\n"
        + condition_flow("f_no", "end_b", None),
        default="f_no",
    )
    assert parse(xml).processes[0].key == "p"


def test_task_with_two_outgoing_flows_is_refused() -> None:
    xml = diagram(
        """    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t" />
    <bpmn:userTask id="t" camunda:candidateGroups="clerk" />
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="end_a" />
    <bpmn:sequenceFlow id="f3" sourceRef="t" targetRef="end_b" />
    <bpmn:endEvent id="end_a" />
    <bpmn:endEvent id="end_b" />"""
    )
    (p,) = refused(xml)
    assert p.message_en == "A userTask may have only one outgoing flow; split with a gateway"
    assert p.message_id.startswith("userTask hanya boleh punya satu alur keluar")
    assert p.element_id == "t" and p.line == line_of(xml, 'id="t"')


def test_dangling_flow_and_call_activity_are_refused() -> None:
    xml = diagram(
        """    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call" />
    <bpmn:callActivity id="call" calledElement="elsewhere" />
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="nowhere" />"""
    )
    problems = refused(xml)
    flow = the(problems, r"^Sequence flow targetRef 'nowhere' does not exist$")
    assert flow.element_id == "f2" and flow.line == line_of(xml, 'id="f2"')
    call = the(problems, r"^Call activity calls 'elsewhere'")
    assert call.element_id == "call" and call.line == line_of(xml, 'id="call"')


def test_process_not_executable_is_refused() -> None:
    xml = around(user_task(), executable="false")
    (p,) = refused(xml)
    assert p.message_en.startswith('No executable process: set isExecutable="true"')
    assert p.message_id.startswith("Tidak ada proses yang dapat dijalankan")
    assert p.element_id == "defs" and p.line == line_of(xml, 'id="defs"')


def test_process_without_start_event_is_refused() -> None:
    xml = diagram('    <bpmn:userTask id="t" camunda:candidateGroups="c" />')
    (p,) = refused(xml)
    assert p.message_en == "Process has no start event"
    assert p.element_id == "p" and p.line == line_of(xml, 'id="p"')


# --------------------------------------------------------------------------- forms on deploy


def test_bad_form_fields_are_refused_with_their_line() -> None:
    xml = around(
        user_task(
            "<bpmn:extensionElements><camunda:formData>\n"
            '<camunda:formField id="colour" type="color" />\n'
            '<camunda:formField id="count" type="long" defaultValue="many" />\n'
            '<camunda:formField id="code" type="string"><camunda:validation>'
            '<camunda:constraint name="pattern" config="[unclosed" />'
            "</camunda:validation></camunda:formField>\n"
            '<camunda:formField id="kind" type="enum" defaultValue="Z">'
            '<camunda:value id="A" name="a" /></camunda:formField>\n'
            '<camunda:formField id="size" type="long"><camunda:validation>'
            '<camunda:constraint name="max" config="big" />'
            '<camunda:constraint name="minlength" config="-1" />'
            '<camunda:constraint name="validator" config="x" />'
            "</camunda:validation></camunda:formField>\n"
            '<camunda:formField id="size" type="long" />\n'
            '<camunda:formField id="not-a-name" />\n'
            '<camunda:formField id="f" type="string"><camunda:properties>'
            '<camunda:property id="widget" value="slider" /></camunda:properties>'
            "</camunda:formField>\n"
            '<camunda:formField id="e" type="enum" />\n'
            "</camunda:formData></bpmn:extensionElements>"
        )
    )
    problems = refused(xml)
    expected = [
        (r"Form field 'colour' has unsupported type 'color'", 'id="colour"'),
        (r"Field 'count': default 'many' is not a valid long", 'id="count"'),
        (r"Field 'code': pattern does not compile", 'id="code"'),
        (r"Field 'kind': default 'Z' is not a valid enum", 'id="kind"'),
        (r"Field 'size': max 'big' is not a valid long", 'id="size" type="long"><'),
        (r"Field 'size': minlength needs a whole number, got '-1'", 'id="size" type="long"><'),
        (r"Field 'size': unsupported constraint 'validator'", 'id="size" type="long"><'),
        (r"Form field 'size' appears twice", 'id="size" type="long" />'),
        (r"Form field id 'not-a-name' must be a plain variable name", 'id="not-a-name"'),
        (r"Field 'f': unknown widget 'slider'", 'id="f"'),
        (r"Enum field 'e' has no values", 'id="e"'),
    ]
    for pattern, needle in expected:
        p = the(problems, pattern)
        assert p.element_id == "t", p
        assert p.line == line_of(xml, needle), (pattern, p.line)
        assert p.message_id != p.message_en
    assert len(problems) == len(expected)


def test_start_event_form_is_checked_too() -> None:
    xml = diagram(
        """    <bpmn:startEvent id="start"><bpmn:extensionElements><camunda:formData>
      <camunda:formField id="when" type="date" defaultValue="yesterday" />
    </camunda:formData></bpmn:extensionElements></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" />
    <bpmn:endEvent id="end" />"""
    )
    (p,) = refused(xml)
    assert p.message_en == "Field 'when': default 'yesterday' is not a valid date"
    assert p.element_id == "start" and p.line == line_of(xml, 'id="when"')


# --------------------------------------------------------------------------- many problems


def test_every_problem_in_a_file_is_reported() -> None:
    xml = diagram(
        """    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="nobody" />
    <bpmn:userTask id="nobody" />
    <bpmn:sequenceFlow id="f2" sourceRef="nobody" targetRef="java" />
    <bpmn:serviceTask id="java" camunda:class="org.example.X" />
    <bpmn:sequenceFlow id="f3" sourceRef="java" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" />
    <bpmn:sequenceFlow id="f_bad" sourceRef="gw" targetRef="rules">
      <bpmn:conditionExpression>${__import__('os')}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_plain" sourceRef="gw" targetRef="end" />
    <bpmn:businessRuleTask id="rules" />
    <bpmn:sequenceFlow id="f4" sourceRef="rules" targetRef="end" />
    <bpmn:endEvent id="end" />""",
        top='  <bpmn:dataStore id="ds" />',
    )
    problems = refused(xml)
    located = {
        (p.element_id, p.line)
        for p in [
            the(problems, r"^User task has no candidate group"),
            the(problems, r"^camunda:class runs Java code"),
            the(problems, r"^Condition: Names starting with '__'"),
            the(problems, r"^Flow 'f_plain' out of gateway 'gw'"),
            the(problems, r"^Unsupported element bpmn:businessRuleTask"),
            the(problems, r"^bpmn:dataStore is not supported"),
        ]
    }
    assert located == {
        ("nobody", line_of(xml, 'id="nobody"')),
        ("java", line_of(xml, 'id="java"')),
        ("f_bad", line_of(xml, "__import__")),  # the condition's own line
        ("f_plain", line_of(xml, 'id="f_plain"')),
        ("rules", line_of(xml, 'id="rules"')),
        ("ds", line_of(xml, 'id="ds"')),
    }
    assert len(problems) == 6


def test_problems_of_every_file_in_a_batch_are_reported(engine: Engine, admin: Any) -> None:
    """Engine.deploy refuses the whole batch and lists the problems of each file."""
    bad_people = around(user_task(attrs=""))
    bad_topic = around('<bpmn:serviceTask id="t" camunda:type="external" camunda:topic="x.y" />')
    with pytest.raises(DeployError) as info:
        engine.deploy(admin, [("a.bpmn", bad_people), ("b.bpmn", bad_topic)])
    assert {(p.filename, p.element_id) for p in info.value.problems} == {
        ("a.bpmn", "t"),
        ("b.bpmn", "t"),
    }
    assert engine.definitions(admin) == []


def test_crafted_fixture_files_are_valid_and_refused_as_documented() -> None:
    """The crafted-*.bpmn diagrams: each says in a comment what must happen to it."""
    files = sorted(DATA.glob("crafted-*.bpmn"))
    assert files, DATA
    for path in files:
        xml = path.read_bytes()
        expected = re.search(rb"<!-- expect: (.*?) -->", xml)
        assert expected, path.name
        want = expected.group(1).decode()
        if want == "deploys":
            assert parse(xml, path.name).processes, path.name
        else:
            element, _, message = want.partition(" ")
            problems = refused(xml, path.name)
            p = the(problems, re.escape(message))
            assert p.element_id == element, path.name
            assert p.line == line_of(xml, f'id="{element}"'), path.name
