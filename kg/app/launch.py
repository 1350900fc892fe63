"""`kg app`: start the Streamlit app on this machine (imports nothing heavy until run)."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
from pathlib import Path

from kg.errors import KgError, UsageError

SCRIPT = Path(__file__).with_name("script.py")
# no usage statistics, and no first-run e-mail prompt (Streamlit asks on the terminal when it
# opens a browser and the user has no ~/.streamlit/credentials.toml: `kg app` seemed to hang)
# hideWelcomeMessage: kg prints the address itself; it also keeps Streamlit's own advertising
# (an "install skills for coding agents" card over the pages) out of the app
STREAMLIT_SETTINGS = ("--browser.gatherUsageStats", "false", "--server.showEmailPrompt", "false",
                      "--client.toolbarMode", "minimal", "--theme.primaryColor", "#0072B2",
                      "--logger.hideWelcomeMessage", "true")


def streamlit_command(port: int, address: str, browser: bool) -> list[str]:
    """The server's command line. -P keeps the working folder off the import path: started from a
    folder that holds another `kg` (a project folder, a clone), the server would import that one
    ("kg.app is not a package") instead of this package."""
    return [sys.executable, "-P", "-m", "streamlit", "run", str(SCRIPT), "--server.port", str(port),
            "--server.address", address, "--server.headless", "false" if browser else "true", *STREAMLIT_SETTINGS]


def check_port(address: str, port: int) -> None:
    """A clear message instead of Streamlit's when the port is taken or the address is not ours."""
    if not 1 <= port <= 65535:
        raise UsageError(f"the port must be between 1 and 65535, got {port}", field="port")
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((address, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise KgError(f"port {port} on {address} is already in use", hint="Pick another port.", field="port") from None
            raise UsageError(f"cannot listen on {address}:{port}: {exc.strerror or exc}") from None


def launch(store, port: int = 8501, address: str = "127.0.0.1", browser: bool = True) -> int:
    """Run the app until interrupted (`store`: a kg.store.Store, whose project the app follows, or
    a location). On POSIX this process becomes the Streamlit server (exec), so Ctrl-C and kill
    reach it directly; elsewhere Streamlit's exit code is returned."""
    check_port(address, port)
    from kg.store import Store

    store = Store.at(store)
    env = {**os.environ, "KG_STORE": store.absolute()}
    if store.project.root is not None:
        env["KG_PROJECT"] = str(store.project.root)
    print(f"kg app: http://{address}:{port}  (graph store {env['KG_STORE']}; Ctrl-C stops it)", flush=True)
    cmd = streamlit_command(port, address, browser)
    if os.name == "posix":
        os.execve(cmd[0], cmd, env)
    return subprocess.call(cmd, env=env)
