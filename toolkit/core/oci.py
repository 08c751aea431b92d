"""Helm's OCI chart artifact as pure data: references, the config blob, the manifest, credentials.

`chart_artifact` produces byte for byte what `helm push` (helm 3.22, pkg/registry/client.go `Push`)
uploads for the same archive: the config blob is Chart.yaml re-encoded the way Go's `json.Marshal`
encodes helm's `chart.Metadata` struct (struct field order, `omitempty`, sanitized strings, HTML-safe
escapes), and the manifest is an `ocispec.Manifest` without a `mediaType` field whose annotations
helm derives from the metadata. helm sets `org.opencontainers.image.created` to the archive file's
mtime; we derive it from SOURCE_DATE_EPOCH (passed in), so the manifest digest is reproducible.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import posixpath
import re
import struct
import tarfile
import time
import zlib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from toolkit.core.archive import sha256_digest
from toolkit.errors import InputError, RegistryError, UsageError
from toolkit.core.yamldoc import parse_yaml, to_plain

__all__ = [
    "CHART_LAYER_MEDIA_TYPE",
    "CONFIG_MEDIA_TYPE",
    "MANIFEST_MEDIA_TYPE",
    "PROVENANCE_LAYER_MEDIA_TYPE",
    "ChartArtifact",
    "ChartManifest",
    "ChartRef",
    "Credentials",
    "Descriptor",
    "OciReference",
    "chart_artifact",
    "credentials_from_auth_config",
    "go_json",
    "helm_config",
    "helm_annotations",
    "parse_chart_manifest",
    "parse_chart_ref",
    "parse_oci_reference",
    "read_chart_archive",
    "rfc3339",
]

CONFIG_MEDIA_TYPE = "application/vnd.cncf.helm.config.v1+json"
CHART_LAYER_MEDIA_TYPE = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
PROVENANCE_LAYER_MEDIA_TYPE = "application/vnd.cncf.helm.chart.provenance.v1.prov"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
MAX_CHART_BYTES = 100 * 1024 * 1024  # helm's MaxDecompressedChartSize
MAX_FILE_BYTES = 5 * 1024 * 1024  # helm's MaxDecompressedFileSize

_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
                   r"|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")
_PATH_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


# --- references -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class OciReference:
    """`oci://HOST[:PORT]/PATH`: where charts live; chart NAME is stored at `PATH/NAME`."""

    host: str
    path: str

    def repository(self, chart: str) -> str:
        """The repository name of one chart below this location."""
        return f"{self.path}/{chart}" if self.path else chart

    def __str__(self) -> str:
        return f"oci://{self.host}/{self.path}" if self.path else f"oci://{self.host}"


def parse_oci_reference(text: str) -> OciReference:
    """Parse `oci://HOST[:PORT]/PATH` (PATH optional), or raise a UsageError saying what is wrong."""
    example = "e.g. oci://registry.example.com:5000/charts"
    if not text.startswith("oci://"):
        raise UsageError(f"registry {text!r} must start with oci://", hint=example)
    rest = text[len("oci://"):].rstrip("/")
    host, _, path = rest.partition("/")
    if not host or not _HOST.match(host):
        raise UsageError(f"registry {text!r}: {host!r} is not a host[:port]", hint=example)
    if ":" in path or "@" in path:
        raise UsageError(f"registry {text!r} must not name a tag or digest",
                         hint="give the folder charts are pushed into; the tag is each chart's version")
    for component in filter(None, path.split("/")):
        if not _PATH_COMPONENT.match(component):
            raise UsageError(f"registry {text!r}: path component {component!r} is not valid in OCI",
                             hint="use lower-case letters, digits and single separators (. _ -)")
    return OciReference(host, "/".join(filter(None, path.split("/"))))


@dataclass(frozen=True)
class ChartRef:
    """`NAME`, `NAME@VERSION` or `NAME@sha256:DIGEST` as `pull` takes it."""

    name: str
    version: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str | None:
        """What to ask the registry for: the digest, else the tag of the version."""
        return self.digest or (self.version.replace("+", "_") if self.version else None)


def parse_chart_ref(text: str) -> ChartRef:
    """Parse `NAME[@VERSION|@sha256:DIGEST]`; a UsageError says the accepted forms."""
    hint = "write NAME, NAME@1.2.3 or NAME@sha256:<64 hex digits>"
    name, sep, rest = text.partition("@")
    if not name or not _PATH_COMPONENT.match(name) or "/" in name:
        raise UsageError(f"chart reference {text!r}: {name!r} is not a chart name", hint=hint)
    if not sep:
        return ChartRef(name)
    if rest.startswith("sha256:"):
        if not _DIGEST.match(rest):
            raise UsageError(f"chart reference {text!r}: malformed digest", hint=hint)
        return ChartRef(name, digest=rest)
    if not rest or not _TAG.match(rest.replace("+", "_")):
        raise UsageError(f"chart reference {text!r}: {rest!r} is not a version", hint=hint)
    return ChartRef(name, version=rest)


# --- Go json.Marshal of helm's chart.Metadata -----------------------------------------------------

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


def _helm_metadata(chart_yaml: str | bytes) -> dict[str, Any]:
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
    return go_json(_helm_metadata(chart_yaml))


def rfc3339(epoch: int) -> str:
    """`2006-01-02T15:04:05Z` in UTC, as Go's `time.RFC3339` formats a UTC time."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def helm_annotations(metadata: Mapping[str, Any], created: str) -> dict[str, str]:
    """helm's `generateOCIAnnotations`: description, title, version, url, created, source, authors,
    then the chart's own annotations (which cannot override title or version)."""
    out: dict[str, str] = {}

    def add(key: str, value: str) -> None:
        if value.strip():
            out[key] = value

    add("org.opencontainers.image.description", metadata.get("description", ""))
    add("org.opencontainers.image.title", metadata.get("name", ""))
    add("org.opencontainers.image.version", metadata.get("version", ""))
    add("org.opencontainers.image.url", metadata.get("home", ""))
    add("org.opencontainers.image.created", created)
    if metadata.get("sources"):
        add("org.opencontainers.image.source", metadata["sources"][0])
    if metadata.get("maintainers"):
        authors = ", ".join(m.get("name", "") + (f" ({m['email']})" if m.get("email") else "")
                            for m in metadata["maintainers"])
        add("org.opencontainers.image.authors", authors)
    for key, value in metadata.get("annotations", {}).items():
        if key not in ("org.opencontainers.image.version", "org.opencontainers.image.title"):
            out[key] = value
    return dict(sorted(out.items()))


# --- artifacts -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Descriptor:
    """An OCI content descriptor."""

    media_type: str
    digest: str
    size: int

    def as_json(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


@dataclass(frozen=True)
class ChartArtifact:
    """Everything one chart version uploads: two blobs and the manifest that names them."""

    name: str
    version: str
    config: bytes = field(repr=False)
    layer: bytes = field(repr=False)
    manifest: bytes = field(repr=False)

    @property
    def tag(self) -> str:
        return self.version.replace("+", "_")

    @property
    def digest(self) -> str:
        """The manifest digest: what the tag points at."""
        return sha256_digest(self.manifest)

    @property
    def config_descriptor(self) -> Descriptor:
        return Descriptor(CONFIG_MEDIA_TYPE, sha256_digest(self.config), len(self.config))

    @property
    def layer_descriptor(self) -> Descriptor:
        return Descriptor(CHART_LAYER_MEDIA_TYPE, sha256_digest(self.layer), len(self.layer))

    def blobs(self) -> list[tuple[Descriptor, bytes]]:
        return [(self.config_descriptor, self.config), (self.layer_descriptor, self.layer)]


def chart_artifact(archive: bytes, chart_yaml: str | bytes, *, created_epoch: int) -> ChartArtifact:
    """The artifact `helm push` makes of `archive` whose file mtime is `created_epoch` (UTC)."""
    metadata = _helm_metadata(chart_yaml)
    config = go_json(metadata)
    layer = Descriptor(CHART_LAYER_MEDIA_TYPE, sha256_digest(archive), len(archive))
    manifest = {
        "schemaVersion": 2,
        "config": Descriptor(CONFIG_MEDIA_TYPE, sha256_digest(config), len(config)).as_json(),
        "layers": [layer.as_json()],
        "annotations": helm_annotations(metadata, rfc3339(created_epoch)),
    }
    return ChartArtifact(str(metadata.get("name", "")), str(metadata.get("version", "")), config, archive,
                         go_json(manifest))


@dataclass(frozen=True)
class ChartManifest:
    """The parts of a chart manifest we use: its config and chart layer, and its annotations."""

    config: Descriptor
    chart: Descriptor
    annotations: Mapping[str, str]


def _descriptor(data: Any, where: str) -> Descriptor:
    if (not isinstance(data, dict) or not isinstance(data.get("mediaType"), str)
            or not isinstance(data.get("digest"), str) or not isinstance(data.get("size"), int)):
        raise RegistryError(f"{where}: malformed descriptor in the manifest", hint="is this a helm chart?")
    if not _DIGEST.match(data["digest"]):
        raise RegistryError(f"{where}: unsupported digest {data['digest']!r}", hint="only sha256 is supported")
    return Descriptor(data["mediaType"], data["digest"], data["size"])


def parse_chart_manifest(data: bytes, where: str) -> ChartManifest:
    """Read a manifest and check that it is a helm chart (config and chart layer media types)."""
    try:
        manifest = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{where}: the manifest is not JSON", hint="is this an OCI artifact?") from exc
    if not isinstance(manifest, dict) or manifest.get("schemaVersion") != 2:
        raise RegistryError(f"{where}: not an OCI image manifest (schemaVersion 2)", hint="is this a helm chart?")
    config = _descriptor(manifest.get("config"), where)
    if config.media_type != CONFIG_MEDIA_TYPE:
        raise RegistryError(f"{where}: config media type is {config.media_type!r}, not a helm chart",
                            hint=f"helm charts use {CONFIG_MEDIA_TYPE}")
    layers = [_descriptor(layer, where) for layer in manifest.get("layers") or []]
    charts = [layer for layer in layers if layer.media_type == CHART_LAYER_MEDIA_TYPE]
    if len(charts) != 1:
        raise RegistryError(f"{where}: expected one chart layer, found {len(charts)}",
                            hint=f"helm charts have one {CHART_LAYER_MEDIA_TYPE} layer")
    annotations = manifest.get("annotations") or {}
    return ChartManifest(config, charts[0], annotations if isinstance(annotations, dict) else {})


# --- chart archives from a registry -----------------------------------------------------------------

def _gunzip(data: bytes, limit: int) -> bytes:
    """Decompress (multi-member) gzip, refusing more than `limit` bytes out. Not tarfile's stream mode:
    Python 3.11 misreads the FEXTRA header that `helm package` writes."""
    out = bytearray()
    rest = data
    while rest:
        inflater = zlib.decompressobj(wbits=31)
        out += inflater.decompress(rest, limit + 1 - len(out))
        if len(out) > limit:
            raise tarfile.TarError(f"decompresses to more than {limit} bytes")
        if not inflater.eof:
            raise tarfile.TarError("truncated gzip stream" if not inflater.unconsumed_tail else
                                   f"decompresses to more than {limit} bytes")
        rest = inflater.unused_data
    return bytes(out)


def read_chart_archive(data: bytes, where: str, *, max_total: int = MAX_CHART_BYTES,
                       max_file: int = MAX_FILE_BYTES) -> tuple[str, dict[str, bytes]]:
    """The chart name (the archive's top folder) and its files, read the way helm reads an archive
    but stricter: absolute paths, `..`, links, devices and files outside one top folder are refused;
    at most `max_total` bytes decompressed and `max_file` per file."""

    def bad(reason: str) -> RegistryError:
        return RegistryError(f"{where}: unsafe or invalid chart archive: {reason}",
                             hint="do not install this chart; re-publish it from its sources")

    files: dict[str, bytes] = {}
    top: str | None = None
    remaining = max_total
    try:
        raw = _gunzip(data, max_total + 16 * 1024 * 1024)  # room for tar headers and padding
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            for member in tar:
                if member.isdir():
                    continue
                if not member.isfile():
                    raise bad(f"{member.name!r} is a link or special file")
                name = member.name
                if "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
                    raise bad(f"{name!r} is an absolute or Windows path")
                head, _, rest = name.partition("/")
                clean = posixpath.normpath(rest) if rest else ""
                if not head or head in (".", "..") or clean in ("", ".") or clean.startswith("..") or clean.startswith("/"):
                    raise bad(f"{name!r} is outside the chart folder")
                if top is None:
                    top = head
                elif head != top:
                    raise bad(f"{name!r} is not below {top}/")
                if member.size > max_file:
                    raise bad(f"{name!r} is larger than {max_file} bytes")
                if member.size > remaining:
                    raise bad(f"decompressed chart is larger than {max_total} bytes")
                handle = tar.extractfile(member)
                content = handle.read(member.size + 1) if handle else b""
                if len(content) != member.size:
                    raise bad(f"{name!r} is truncated")
                remaining -= len(content)
                if clean in files:
                    raise bad(f"{name!r} appears twice")
                files[clean] = content
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise bad(str(exc)) from exc
    if top is None or "Chart.yaml" not in files:
        raise bad("no Chart.yaml below the top folder")
    return top, files


# --- credentials -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Credentials:
    """A registry user name and password; `repr` and `str` never show the password."""

    username: str
    password: str = field(repr=False)
    source: str = "command line"

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password='***', source={self.source!r})"

    __str__ = __repr__


def _host_of(key: str) -> str:
    """The host of a docker config `auths` key (`https://host/v1/` or just `host`)."""
    key = key.split("://", 1)[-1]
    return key.split("/", 1)[0]


def credentials_from_auth_config(data: bytes, host: str, source: str) -> Credentials | None:
    """Credentials for `host` from a docker/helm `config.json` (`auths[host].auth` = base64 user:pass,
    or `username`/`password`); None when the file has none for the host. Credential helpers are not run."""
    try:
        config = json.loads(data or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{source}: not valid JSON", hint="fix or remove the file") from exc
    auths = config.get("auths") if isinstance(config, dict) else None
    if not isinstance(auths, dict):
        return None
    entry = auths.get(host)
    if entry is None:
        entry = next((v for k, v in auths.items() if _host_of(k) == host), None)
    if not isinstance(entry, dict):
        return None
    if isinstance(entry.get("username"), str) and isinstance(entry.get("password"), str) and entry["username"]:
        return Credentials(entry["username"], entry["password"], source)
    auth = entry.get("auth")
    if not isinstance(auth, str) or not auth:
        return None
    try:
        decoded = base64.b64decode(auth, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InputError(f"{source}: auths[{host!r}].auth is not base64 of user:password",
                         hint=f"log in again (helm registry login {host})") from exc
    username, sep, password = decoded.partition(":")
    if not sep or not username:
        raise InputError(f"{source}: auths[{host!r}].auth is not base64 of user:password",
                         hint=f"log in again (helm registry login {host})")
    return Credentials(username, password, source)
