"""helm's config blob: Chart.yaml read the way helm reads it and encoded the way Go's `json.Marshal`
encodes helm's `chart.Metadata` struct (struct field order, `omitempty`, sanitized strings, YAML scalars
converted into Go string fields, HTML-safe escapes), so the bytes match what `helm push` uploads.
"""

from __future__ import annotations

import json
import struct
import unicodedata
from typing import Any

from toolkit.core.yamldoc import parse_yaml, to_plain
from toolkit.errors import InputError

__all__ = ["go_json", "helm_config", "helm_metadata"]

_GO_LATIN1_SPACE = {"\t", "\n", "\v", "\f", "\r", " ", "\x85", "\xa0"}


def _go_is_space(char: str) -> bool:
    if ord(char) < 0x100:
        return char in _GO_LATIN1_SPACE
    return unicodedata.category(char) in ("Zs", "Zl", "Zp")


def _go_is_print(char: str) -> bool:
    return char == " " or unicodedata.category(char)[0] in "LMNPS"


def _sanitize(text: str) -> str:
    """helm's `sanitizeString`: whitespace becomes a space, non-printable characters are dropped."""
    return "".join(" " if _go_is_space(c) else c for c in text if _go_is_space(c) or _go_is_print(c))


def _go_float32(value: float) -> str:
    """`strconv.FormatFloat(v, 'g', -1, 32)`, as sigs.k8s.io/yaml turns a YAML float into a string field."""
    target = struct.unpack("f", struct.pack("f", value))[0]
    digits = 9
    for candidate in range(1, 10):
        if struct.unpack("f", struct.pack("f", float(f"{value:.{candidate - 1}e}")))[0] == target:
            digits = candidate
            break
    mantissa, _, exp_text = f"{value:.{digits - 1}e}".partition("e")
    exponent = int(exp_text)
    if exponent < -4 or exponent >= 6:  # Go uses precision 6 for this decision when printing shortest
        mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
        return f"{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    return f"{value:.{max(digits - exponent - 1, 0)}f}"


def _go_string(value: Any, where: str) -> str:
    """A YAML scalar read into a Go string field (numbers and booleans are converted, like helm)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float32(value)
    if isinstance(value, str):
        return value
    raise InputError(f"Chart.yaml: `{where}` must be a string, not {type(value).__name__}",
                     hint="quote the value in Chart.yaml")


def _string_list(value: Any, where: str, *, sanitize: bool) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"Chart.yaml: `{where}` must be a list", hint="write it as a YAML list")
    items = [_go_string(v, where) for v in value]
    return [_sanitize(v) for v in items] if sanitize else items


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    """`omitempty`: skip empty strings, lists, maps and false."""
    if value in ("", [], {}, None, False):
        return
    out[key] = value


def _maintainers(value: Any) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(m, dict) for m in value):
        raise InputError("Chart.yaml: `maintainers` must be a list of mappings", hint="see helm's Chart.yaml reference")
    result = []
    for entry in value:
        item: dict[str, str] = {}
        for key in ("name", "email", "url"):
            _put(item, key, _sanitize(_go_string(entry.get(key), f"maintainers.{key}")))
        result.append(item)
    return result


def _dependencies(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(d, dict) for d in value):
        raise InputError("Chart.yaml: `dependencies` must be a list of mappings", hint="see helm's Chart.yaml reference")
    result = []
    for entry in value:
        item: dict[str, Any] = {"name": _sanitize(_go_string(entry.get("name"), "dependencies.name"))}
        _put(item, "version", _sanitize(_go_string(entry.get("version"), "dependencies.version")))
        item["repository"] = _sanitize(_go_string(entry.get("repository"), "dependencies.repository"))
        _put(item, "condition", _sanitize(_go_string(entry.get("condition"), "dependencies.condition")))
        _put(item, "tags", _string_list(entry.get("tags"), "dependencies.tags", sanitize=True))
        _put(item, "enabled", entry.get("enabled") is True)
        _put(item, "import-values", entry.get("import-values") or [])
        _put(item, "alias", _go_string(entry.get("alias"), "dependencies.alias"))
        result.append(item)
    return result


def helm_metadata(chart_yaml: str | bytes) -> dict[str, Any]:
    """Chart.yaml read as helm reads it (YAML 1.1), as helm's `chart.Metadata` in JSON field order."""
    text = chart_yaml.decode("utf-8", "replace") if isinstance(chart_yaml, bytes) else chart_yaml
    data = to_plain(parse_yaml(text, "Chart.yaml", version=(1, 1)))
    if not isinstance(data, dict):
        raise InputError("Chart.yaml must be a mapping", hint="see helm's Chart.yaml reference")

    def text_field(key: str) -> str:
        return _sanitize(_go_string(data.get(key), key))

    annotations = data.get("annotations") or {}
    if not isinstance(annotations, dict):
        raise InputError("Chart.yaml: `annotations` must be a mapping", hint="write key: value pairs")
    out: dict[str, Any] = {}
    _put(out, "name", text_field("name"))
    _put(out, "home", text_field("home"))
    _put(out, "sources", _string_list(data.get("sources"), "sources", sanitize=True))
    _put(out, "version", _go_string(data.get("version"), "version"))
    _put(out, "description", text_field("description"))
    _put(out, "keywords", _string_list(data.get("keywords"), "keywords", sanitize=True))
    _put(out, "maintainers", _maintainers(data.get("maintainers")))
    _put(out, "icon", text_field("icon"))
    _put(out, "apiVersion", text_field("apiVersion") or "v1")  # helm's loader assumes v1 when unset
    _put(out, "condition", text_field("condition"))
    _put(out, "tags", text_field("tags"))
    _put(out, "appVersion", text_field("appVersion"))
    _put(out, "deprecated", data.get("deprecated") is True)
    _put(out, "annotations", {str(k): _go_string(v, f"annotations.{k}") for k, v in sorted(annotations.items(),
                                                                                        key=lambda kv: str(kv[0]))})
    _put(out, "kubeVersion", text_field("kubeVersion"))
    _put(out, "dependencies", _dependencies(data.get("dependencies")))
    _put(out, "type", text_field("type"))
    return out


def go_json(data: Any) -> bytes:
    """Compact JSON as Go's `json.Marshal` writes it: UTF-8, maps sorted, `<>&` and U+2028/9 escaped."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, sort_keys=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text.encode("utf-8")


def helm_config(chart_yaml: str | bytes) -> bytes:
    """The config blob helm pushes: its `chart.Metadata` for this Chart.yaml, Go-JSON encoded."""
    return go_json(helm_metadata(chart_yaml))
