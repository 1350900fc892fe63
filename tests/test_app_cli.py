"""`kg app`: starts the Streamlit app on this machine; bad ports and stores get clear messages."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

from kg.app.launch import SCRIPT, streamlit_command


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_app_command_rejects_bad_ports(kg, tmp_path):
    result = kg("app", "--port", "70000", "--no-browser", store=tmp_path / "s")
    assert result.exit_code == 2 and "between 1 and 65535" in result.message
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = kg("app", "--port", str(port), "--no-browser", store=tmp_path / "s")
    assert result.exit_code == 1 and f"port {port} on 127.0.0.1 is already in use" in result.message


def test_streamlit_command_runs_the_packaged_script_on_loopback():
    cmd = streamlit_command(8600, "127.0.0.1", browser=False)
    # -P: the working folder stays off the server's import path (another `kg` there would shadow this one)
    assert cmd[1:5] == ["-P", "-m", "streamlit", "run"] and cmd[5] == str(SCRIPT) and SCRIPT.is_file()
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--server.headless") + 1] == "true"
    assert cmd[cmd.index("--browser.gatherUsageStats") + 1] == "false"
    opening = streamlit_command(8600, "127.0.0.1", browser=True)  # a browser: no e-mail prompt on the terminal
    assert opening[opening.index("--server.headless") + 1] == "false"
    assert opening[opening.index("--server.showEmailPrompt") + 1] == "false"


def test_kg_app_serves_the_app(tmp_path):
    port = _free_port()
    env = {**os.environ, "KG_HOME": str(tmp_path)}
    cmd = [sys.executable, "-c", "from kg.cli import main; main()", "--store", str(tmp_path / "store"),
           "app", "--no-browser", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "kg app did not start within 60 s"
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
            assert answer.status == 200 and b"<html" in answer.read().lower()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    assert f"kg app: http://127.0.0.1:{port}" in out
    assert str(tmp_path / "store") in out
