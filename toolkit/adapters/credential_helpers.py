"""Run a docker credential helper (`docker-credential-NAME get`, the server on stdin) and hand its
answer to the core, as docker's client does (github.com/docker/docker-credential-helpers `client.Get`).
Which helper to ask is decided by `toolkit.core.credentials.credential_helper_for`.
"""

from __future__ import annotations

import shutil
import subprocess

from toolkit.core.credentials import (
    CredentialHelper,
    Credentials,
    credentials_from_helper,
    helper_found_nothing,
)
from toolkit.errors import OperationalError

__all__ = ["ask_credential_helper"]

_SAID_MAX = 300  # characters of a failing helper's message kept in our error


def ask_credential_helper(helper: CredentialHelper, *, search_path: str | None,
                          timeout: float = 60.0) -> Credentials | None:
    """The credentials `helper` holds for its server; None when it has none stored ("credentials not
    found in native keychain"). A missing, failing or hanging helper is an OperationalError naming it,
    the config entry that chose it and the fix. `search_path` is the PATH to find the program on."""
    program = shutil.which(helper.program, path=search_path)
    remove = f"or remove {helper.entry} from {helper.config}"
    if program is None:
        raise OperationalError(
            f"{helper.config}: {helper.entry} asks the credential helper {helper.program} for "
            f"{helper.server}, but it is not on PATH",
            hint=f"install {helper.program} (or put it on PATH), {remove}")
    try:
        done = subprocess.run([program, "get"], input=helper.server.encode(), capture_output=True,  # noqa: S603 - no shell
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise OperationalError(f"{helper.program} get did not answer for {helper.server} within {timeout:g} s",
                               hint=f"unlock the credential store it uses, {remove}") from exc
    except OSError as exc:
        raise OperationalError(f"{program} cannot be run: {exc.strerror}",
                               hint=f"check that it is an executable program, {remove}") from exc
    if done.returncode != 0:
        # the protocol puts the error on stdout; some helpers use stderr
        said = [text.decode("utf-8", "replace").strip() for text in (done.stdout, done.stderr)]
        if any(helper_found_nothing(text) for text in said):
            return None
        message = next((text for text in said if text), "no message").splitlines()[0][:_SAID_MAX]
        raise OperationalError(
            f"{helper.program} get failed for {helper.server} (exit {done.returncode}): {message}",
            hint=f"log in again (`docker login {helper.server}`), run `echo {helper.server} | {helper.program} get` "
                 f"to see what it says, {remove}")
    return credentials_from_helper(done.stdout, helper)
