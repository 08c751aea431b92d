"""The user's configuration file: per-registry settings, every mistake named with the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.core.user_config import RegistrySettings, parse_user_config
from toolkit.errors import InputError


def test_registries_are_read_per_host_with_relative_ca_files_beside_the_file() -> None:
    config = parse_user_config("registries:\n  127.0.0.1:5000: {plainHTTP: true}\n  reg.example.com:\n"
                               "    caFile: certs/ca.pem\n", "/home/u/.config/tke-catalog/config.yaml")
    assert config.registry("127.0.0.1:5000") == RegistrySettings(plain_http=True)
    assert config.registry("reg.example.com").ca_file == Path("/home/u/.config/tke-catalog/certs/ca.pem")
    assert config.registry("elsewhere") == RegistrySettings()
    assert parse_user_config("", "c.yaml").registries == {}


@pytest.mark.parametrize(("text", "said"), [
    ("registries:\n  h: {plainHttp: true}\n", "registries.h.plainHttp is not a setting"),
    ("registries:\n  h: {plainHTTP: yes please}\n", "registries.h.plainHTTP must be true or false"),
    ("registries:\n  h: {plainHTTP: true, caFile: a.pem}\n", "plainHTTP cannot go with TLS settings"),
    ("registry: {}\n", "registry is not a setting"),
])
def test_mistakes_name_the_file_and_the_key(text: str, said: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_user_config(text, "config.yaml")
    assert str(caught.value).startswith("config.yaml: ") and said in str(caught.value)
