"""The war room over SSH (SPEC 10), through real SSH clients against the real server."""

from __future__ import annotations

import re

import asyncssh
import httpx
import pytest

from .conftest import SshServer, async_wait_until, connect, declare, open_term, pid_alive


def session_pid(server: SshServer, person: str, nth: int = 1) -> int:
    lines = [ln for ln in list(server.log) if f"session for {person} from" in ln and "pid" in ln]
    return int(re.search(r"pid (\d+)", lines[nth - 1]).group(1))  # type: ignore[union-attr]


def child_token(pid: int) -> str:
    env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
    return next(v.split(b"=", 1)[1].decode() for v in env if v.startswith(b"INCIDENT_TUI_TOKEN="))


async def test_known_key_gets_the_app_and_writes_as_its_owner_whatever_login_name(ssh_server: SshServer) -> None:
    key = ssh_server.add_key("ann")
    term = await open_term(ssh_server, key, username="root")
    try:
        await term.wait_for("you are ann")
        term.send("n")
        await term.wait_for("Declare an incident")
        term.send("Checkout 502s in EU from ann\r")
        await term.wait_for("Checkout 502s in EU from ann")
        await term.wait_for("● connected")
        term.send("first note by ann\r")
        await async_wait_until(
            lambda: any(e["data"].get("text") == "first note by ann" for e in ssh_server.events()), what="the note"
        )
    finally:
        await term.close()
    mine = [e for e in ssh_server.events() if "ann" in str(e["data"]) or e["author"] == "ann"]
    assert mine and {e["author"] for e in mine} == {"ann"}


async def test_a_session_token_writes_only_as_its_owner_and_dies_with_the_session(make_server, tmp_path) -> None:
    tf = tmp_path / "tokens"
    tf.write_text("admin admintoken-123456\n")
    tf.chmod(0o600)
    server: SshServer = make_server(token_file=tf)
    key = server.add_key("bea")
    term = await open_term(server, key, username="carol")
    try:
        await term.wait_for("you are bea")
        token = child_token(session_pid(server, "bea"))
        # A forged author on the session's own credential: the server stamps the key's owner.
        from incident_tui.domain.commands import declare_event

        forged = declare_event("forged by the session", "admin", "SEV3", "")
        r = httpx.post(
            f"{server.api}/events",
            json={"events": [forged.to_dict()]},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        assert r.json()["events"][0]["author"] == "bea"
    finally:
        await term.close()
    await server.wait_log(r"session for bea .* ended")
    r = httpx.get(f"{server.api}/events", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 401


async def test_unknown_key_is_refused(ssh_server: SshServer) -> None:
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(ssh_server, stranger, username="ann")
    await ssh_server.wait_log("refused unknown key " + re.escape(stranger.get_fingerprint("sha256")))


async def test_session_without_terminal_is_refused_with_a_hint(ssh_server: SshServer) -> None:
    key = ssh_server.add_key("cid")
    async with await connect(ssh_server, key) as conn:
        result = await conn.run(term_type=None, stdin=asyncssh.DEVNULL)
    assert result.exit_status == 1
    assert "ssh -t" in result.stderr and result.stderr.count("\n") == 1
    assert result.stdout == ""


@pytest.mark.parametrize("term_type", [None, "xterm-256color"])
async def test_commands_are_never_run(ssh_server: SshServer, tmp_path, term_type) -> None:
    key = ssh_server.add_key(f"dee{1 if term_type else 0}")
    marker = tmp_path / "ran"
    async with await connect(ssh_server, key) as conn:
        result = await conn.run(f"touch {marker}", term_type=term_type, stdin=asyncssh.DEVNULL)
    assert result.exit_status == 1
    assert "commands are not run here" in (result.stderr or result.stdout)
    assert not marker.exists()


async def test_forwarding_sftp_and_scp_are_refused(ssh_server: SshServer, tmp_path) -> None:
    key = ssh_server.add_key("eli")
    async with await connect(ssh_server, key) as conn:
        with pytest.raises(asyncssh.ChannelOpenError, match="port forwarding is not offered"):
            await conn.create_connection(asyncssh.SSHTCPSession, "127.0.0.1", ssh_server.http_port)
        with pytest.raises(asyncssh.ChannelListenError):
            await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", 9)
        with pytest.raises((asyncssh.SFTPError, asyncssh.ChannelOpenError, asyncssh.ProcessError, OSError)):
            async with conn.start_sftp_client() as sftp:
                await sftp.listdir(".")
        # asyncssh's scp client ends quietly when the far side refuses: what counts is that
        # nothing was copied and the server said why.
        try:
            await asyncssh.scp((conn, "/etc/hostname"), str(tmp_path / "got"))
        except (asyncssh.Error, OSError):
            pass
    assert not (tmp_path / "got").exists()
    await ssh_server.wait_log(r"refused port forwarding to 127\.0\.0\.1")
    await ssh_server.wait_log(r"refused remote port forwarding")
    await ssh_server.wait_log(r"refused subsystem 'sftp'")
    await ssh_server.wait_log(r"refused command 'scp ")


async def test_resize_reaches_the_app(ssh_server: SshServer) -> None:
    key = ssh_server.add_key("fay")
    term = await open_term(ssh_server, key, cols=80, rows=24)
    try:
        await term.wait_for("you are fay")
        widest = lambda: max(len(line.rstrip()) for line in term.screen.display)  # noqa: E731
        assert widest() <= 80
        term.resize(132, 40)
        # The list's column headings span the width: drawn again for 132 columns, they reach past 80.
        await async_wait_until(lambda: widest() > 100, what="a redraw at 132 columns")
        # The footer moved to the new last row (once the redraw has reached it).
        await async_wait_until(lambda: "Quit" in term.screen.display[39], what="the footer on row 40")
    finally:
        await term.close()


async def test_dropped_connection_ends_the_child_and_keeps_its_draft(ssh_server: SshServer) -> None:
    key = ssh_server.add_key("gus")
    declare(ssh_server, "Payments slow for gus")
    term = await open_term(ssh_server, key)
    await term.wait_for("Payments slow for gus")  # the only active incident: its dashboard opens
    term.send("/decision roll back v2.41 half-typ")
    await term.wait_for("roll back v2.41 half-typ")
    pid = session_pid(ssh_server, "gus")
    term.conn.abort()  # the laptop drops: no goodbye, no EOF
    await async_wait_until(lambda: not pid_alive(pid), what="the child to end")
    await ssh_server.wait_log(r"session for gus .* ended .*\(the client closed\)")
    again = await open_term(ssh_server, key)
    try:
        await again.wait_for("/decision roll back v2.41 half-typ")
    finally:
        await again.close()
    assert not any("half-typ" in str(e["data"]) for e in ssh_server.events())


async def test_two_people_see_each_other_live(ssh_server: SshServer) -> None:
    a, b = ssh_server.add_key("hal"), ssh_server.add_key("ivy")
    declare(ssh_server, "Search down for hal and ivy")
    ta, tb = await open_term(ssh_server, a), await open_term(ssh_server, b)
    try:
        for t in (ta, tb):
            await t.wait_for("Search down for hal and ivy")
            await t.wait_for("● connected")
        ta.send("hal says the index is stale\r")
        try:
            await tb.wait_for("hal says the index is stale")
        except AssertionError as exc:  # whether it was the writing or the showing that failed
            stored = [e["data"].get("text") for e in ssh_server.events()]
            raise AssertionError(f"{exc}\nstored texts: {stored}\nhal's screen:\n{ta.text()}") from None
        tb.send("ivy rebuilds it\r")
        await ta.wait_for("ivy rebuilds it")
    finally:
        await ta.close()
        await tb.close()
    by_text = {e["data"].get("text"): e["author"] for e in ssh_server.events()}
    assert by_text["hal says the index is stale"] == "hal"
    assert by_text["ivy rebuilds it"] == "ivy"


async def test_a_key_added_to_the_folder_works_without_a_restart(ssh_server: SshServer) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(ssh_server, key)
    (ssh_server.keys / "jo.pub").write_bytes(key.export_public_key("openssh"))
    term = await open_term(ssh_server, key)
    try:
        await term.wait_for("you are jo")
    finally:
        await term.close()


async def test_the_clients_theme_reaches_its_app_and_nothing_else_of_its_environment(ssh_server: SshServer) -> None:
    key = ssh_server.add_key("kai")
    async with await connect(ssh_server, key) as conn:
        proc = await conn.create_process(
            term_type="xterm-256color",
            term_size=(80, 24),
            encoding=None,
            env={"INCIDENT_TUI_THEME": "no-such-theme", "INCIDENT_TUI_USER": "admin", "LD_PRELOAD": "/tmp/x.so"},
        )
        out = await proc.stdout.read()
        await proc.wait_closed()
    assert b"no-such-theme" in out  # the app was asked for it, and refused an unknown one
    assert proc.exit_status == 2
    pid = session_pid(ssh_server, "kai")
    assert not pid_alive(pid)
    hostile = {
        "INCIDENT_TUI_USER": "admin",
        "INCIDENT_TUI_TOKEN": "x" * 20,
        "LD_PRELOAD": "/no.so",
        "COLORTERM": "truecolor",
    }
    async with await connect(ssh_server, key) as conn:
        proc = await conn.create_process(term_type="xterm-256color", term_size=(80, 24), encoding=None, env=hostile)
        await async_wait_until(
            lambda: sum("session for kai from" in ln and ": pid" in ln for ln in ssh_server.log) == 2
        )
        env = dict(
            v.split(b"=", 1)
            for v in open(f"/proc/{session_pid(ssh_server, 'kai', 2)}/environ", "rb").read().split(b"\0")
            if v
        )
        proc.close()
    assert env[b"INCIDENT_TUI_USER"] == b"kai" and env[b"INCIDENT_TUI_TOKEN"] != b"x" * 20
    assert b"LD_PRELOAD" not in env and env[b"COLORTERM"] == b"truecolor"


async def test_a_killed_server_still_hangs_up_its_apps_and_their_drafts_are_kept(ssh_server: SshServer) -> None:
    # The pty is each app's controlling terminal: when the server dies, the kernel hangs it up.
    key = ssh_server.add_key("lou")
    declare(ssh_server, "Server dies under lou")
    term = await open_term(ssh_server, key)
    await term.wait_for("Server dies under lou")
    term.send("/obs the server is about to")
    await term.wait_for("the server is about to")
    pid = session_pid(ssh_server, "lou")
    assert ssh_server.proc is not None
    ssh_server.proc.kill()
    ssh_server.proc.wait(10)
    await async_wait_until(lambda: not pid_alive(pid), what="the app to end")
    drafts = list((ssh_server.data / "incident-tui" / "ssh-people" / "lou").rglob("drafts/*.txt"))
    assert [d.read_text() for d in drafts] == ["/obs the server is about to"]
    term.conn.abort()
