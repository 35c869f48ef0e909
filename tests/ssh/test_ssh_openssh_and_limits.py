"""The OpenSSH client a responder actually uses, the host key, and the limits."""

from __future__ import annotations

import asyncio
import re
import shutil
import stat
import subprocess

import asyncssh
import pytest
from _procs import async_wait_until, wait_until

from .conftest import OpenSsh, SshServer, connect, declare, open_term, pid_alive

needs_openssh = pytest.mark.skipif(shutil.which("ssh") is None, reason="the OpenSSH client is not installed")


@needs_openssh
def test_openssh_gets_the_app_as_the_keys_person_and_checks_the_printed_host_key(ssh_server: SshServer) -> None:
    ssh_server.add_key("kim")
    ssh = OpenSsh(ssh_server, "nobody@127.0.0.1", key="kim")
    try:
        ssh.wait_for("you are kim")
        ssh.send("\x11")  # ctrl+q
        assert ssh.wait_exit() == 0
    finally:
        ssh.kill()
    # What the client recorded for the host is the fingerprint the server printed at start.
    out = subprocess.run(["ssh-keygen", "-lf", str(ssh_server.root / "known_hosts")], capture_output=True, text=True)
    assert ssh_server.fingerprint in out.stdout and "ED25519" in out.stdout


@needs_openssh
def test_openssh_refusals_are_one_line_each(ssh_server: SshServer) -> None:
    ssh_server.add_key("lee")
    (ssh_server.root / "id_stranger").write_bytes(
        asyncssh.generate_private_key("ssh-ed25519").export_private_key("openssh")
    )
    (ssh_server.root / "id_stranger").chmod(0o600)
    cases = [
        (("-i", str(ssh_server.root / "id_stranger"), "127.0.0.1"), None, "is not one of this war room's"),
        (("-T", "127.0.0.1"), "lee", "connect with `ssh -t`"),
        (("127.0.0.1", "cat", "/etc/passwd"), "lee", "commands are not run here"),
        (("-s", "127.0.0.1", "sftp"), "lee", "subsystem request failed"),
    ]
    for args, key, expected in cases:
        ssh = OpenSsh(ssh_server, *args, key=key)
        try:
            ssh.wait_for(expected)
            assert ssh.wait_exit() != 0
        finally:
            ssh.kill()
        assert "root:" not in ssh.text()
    # The client's exit can come before the server's log line is read: wait for it.
    wait_until(lambda: ssh_server.logged(r"refused subsystem 'sftp' for lee"), what="the refusal in the server's log")


@needs_openssh
def test_openssh_agent_forwarding_is_refused_and_said(ssh_server: SshServer, tmp_path) -> None:
    ssh_server.add_key("max")
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        wait_until(sock.exists, what="ssh-agent's socket")
        ssh = OpenSsh(
            ssh_server, "-A", "-o", f"IdentityAgent={sock}", "127.0.0.1", key="max", env={"SSH_AUTH_SOCK": str(sock)}
        )
        try:
            ssh.wait_for("you are max")
            ssh.send("\x11")
            assert ssh.wait_exit() == 0
        finally:
            ssh.kill()
        assert b"agent forwarding is refused" in ssh.raw
        wait_until(lambda: ssh_server.logged(r"refused agent forwarding \(-A\) for max"), what="the refusal logged")
    finally:
        agent.terminate()
        agent.wait(5)


def test_host_key_is_created_once_as_ed25519_0600_and_kept(make_server) -> None:
    first: SshServer = make_server()
    path = first.data / "incident-tui" / "ssh_host_ed25519_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = asyncssh.read_private_key(path)
    assert key.get_algorithm() == "ssh-ed25519"
    assert key.get_fingerprint("sha256") == first.fingerprint
    assert any("created now" in ln for ln in first.log)
    first.stop()
    first.start()
    assert first.fingerprint == key.get_fingerprint("sha256")
    assert not any("created now" in ln for ln in first.log)


def test_unusable_ssh_settings_are_one_line_and_exit_2(tmp_path, capsys) -> None:
    from incident_tui.cli import main

    keys = tmp_path / "keys"
    keys.mkdir()
    bad = tmp_path / "hostkey"
    bad.write_bytes(asyncssh.generate_private_key("ssh-ed25519").export_private_key("openssh"))
    bad.chmod(0o644)
    store = ["--store", str(tmp_path / "s.jsonl"), "serve", "--port", "0"]
    cases = [
        (["--ssh-port", "0", "--ssh-keys", str(keys), "--ssh-host-key", str(bad)], "readable by others"),
        (["--ssh-port", "0", "--ssh-keys", str(tmp_path / "nope")], "no such folder"),
        (["--ssh-port", "0"], "go together"),
        (["--ssh-port", "70000", "--ssh-keys", str(keys)], "not a TCP port"),
        (["--ssh-port", "0", "--ssh-keys", str(keys), "--ssh-max-per-person", "0"], "1 or more"),
    ]
    for extra, message in cases:
        assert main([*store, *extra]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    keys.chmod(0o777)
    assert main([*store, "--ssh-port", "0", "--ssh-keys", str(keys)]) == 2
    assert "writable by everyone" in capsys.readouterr().err


async def test_sessions_per_person_are_limited(make_server) -> None:
    server: SshServer = make_server("--ssh-max-per-person", "1")
    key = server.add_key("nia")
    first = await open_term(server, key)
    try:
        await first.wait_for("you are nia")
        async with await connect(server, key) as conn:
            result = await conn.run(term_type="xterm", term_size=(80, 24), stdin=asyncssh.DEVNULL)
        assert result.exit_status == 1
        assert "nia already has 1 sessions open" in result.stderr + result.stdout
        assert "you are nia" in first.text()  # the first session is untouched
    finally:
        await first.close()


async def test_too_many_refused_keys_close_the_connection(ssh_server: SshServer) -> None:
    strangers = [asyncssh.generate_private_key("ssh-ed25519") for _ in range(8)]
    with pytest.raises((asyncssh.PermissionDenied, asyncssh.DisconnectError, ConnectionError)):
        await connect(ssh_server, strangers)
    await ssh_server.wait_log(r"after 6 refused keys")
    assert sum("refused unknown key" in ln for ln in ssh_server.log) == 6


async def test_an_idle_session_ends_and_keeps_its_draft(make_server) -> None:
    server: SshServer = make_server("--ssh-idle-timeout", "8")
    key = server.add_key("oz")
    declare(server, "Idle incident for oz")
    term = await open_term(server, key)
    await term.wait_for("Idle incident for oz")
    term.send("/action page the db team")  # the last key press; then nothing
    await term.wait_for("page the db team")
    await term.closed.wait()
    await server.wait_log(r"session for oz .* ended .*no key pressed for 8 s")
    assert b"no key pressed for 8 s; your typed line is kept" in term.raw
    await term.close()
    again = await open_term(server, key)
    try:
        await again.wait_for("/action page the db team")
    finally:
        await again.close()


async def test_a_removed_key_ends_its_sessions(ssh_server: SshServer) -> None:
    key = ssh_server.add_key("pat")
    term = await open_term(ssh_server, key)
    await term.wait_for("you are pat")
    pid = int(re.search(r"pid (\d+)", await ssh_server.wait_log("session for pat from")).group(1))  # type: ignore[union-attr]
    (ssh_server.keys / "pat.pub").unlink()
    await term.closed.wait()
    assert b"the key was removed from the keys folder" in term.raw
    await async_wait_until(lambda: not pid_alive(pid), what="the app to end")
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(ssh_server, key)
    await term.close()


async def test_hostile_commands_and_terminal_types_reach_no_terminal(ssh_server: SshServer) -> None:
    # (asyncssh and OpenSSH refuse control characters in login names; commands and TERM are free text.)
    key = ssh_server.add_key("quin")
    evil = "\x1b]0;pwned\x07\x1b[2J\u202e\x9b31m"
    async with await connect(ssh_server, key) as conn:
        result = await conn.run(evil, stdin=asyncssh.DEVNULL)
        assert result.exit_status == 1
    term = await open_term(ssh_server, key, term_type="xterm\x1b[31m")
    try:
        await term.wait_for("you are quin")  # drawn all the same (the child got a plain TERM)
    finally:
        await term.close()
    line = await ssh_server.wait_log("refused command")
    assert "pwned" in line and "<U+202E>" in line
    for ln in ssh_server.log:
        assert not any(c in ln for c in "\x1b\x07\x9b\u202e"), ln


async def test_a_client_asking_again_and_again_is_cut_off(ssh_server: SshServer) -> None:
    key = ssh_server.add_key("rex")
    conn = await connect(ssh_server, key)
    try:
        refused = 0
        for port in range(1, 40):
            try:
                await conn.forward_remote_port("127.0.0.1", 10000 + port, "127.0.0.1", 9)
            except (asyncssh.ChannelListenError, asyncssh.Error, OSError):
                refused += 1  # refused, or the connection is gone
        assert refused == 39
        await asyncio.wait_for(conn.wait_closed(), 30)
    finally:
        conn.close()
    await ssh_server.wait_log(r"closed .* \(rex\) after 20 refused requests")
    assert sum("refused remote port forwarding" in ln for ln in ssh_server.log) == 20
