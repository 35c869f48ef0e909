"""The command line: argument parsing and output only; every verb calls the same
domain and store code the app uses (SPEC 5). Exit codes: 0 ok, 1 runtime failure,
2 usage error; errors are one line on stderr."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import NoReturn

from . import __version__, gcpolicy
from .config import ConfigError, load_config
from .domain.events import Event, EventError, now_utc
from .domain.model import PHASES, ROLES
from .domain.schema import check_foldable
from .domain.serialize import age_text, checklist_view, incident_state, incident_summary
from .domain.text import escape_json_text, json_text, safe_text
from .session import Session, UsageError
from .store import StoreError

__all__ = ["Session", "UsageError", "build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints a multi-line usage block; responders get one line that says what to do.
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _global_options(p: argparse.ArgumentParser, suppress: bool) -> None:
    # After a command the global options are still accepted (`show 1 --store X`), but its
    # --help lists only the command's own; `incident-tui --help` lists these.
    d: dict = {"default": argparse.SUPPRESS} if suppress else {}

    def text(help: str) -> str:
        return argparse.SUPPRESS if suppress else help

    p.add_argument("--store", metavar="PATH", help=text("shared JSON store file"), **d)
    p.add_argument(
        "--remote",
        metavar="URL[,URL...]",
        help=text("incident-tui server to sync with (several: replicas, tried in turn)"),
        **d,
    )
    p.add_argument("--token", metavar="TOKEN", help=text("bearer token for --remote"), **d)
    p.add_argument("--user", metavar="NAME", help=text("who you are (default: login name)"), **d)
    p.add_argument("--theme", metavar="NAME", help=text("app theme"), **d)
    p.add_argument("--runbooks", metavar="DIR", help=text("folder of per-phase checklist files"), **d)


def _command_list() -> str:
    """The command language as `log --help` prints it, read from the command catalogue."""
    from .domain.commands import COMMANDS

    lines = ["commands (a line without one is a note; @14:02 first back-dates it):"]
    lines += [f"  {spec.usage:<26}  {spec.help}" for spec in COMMANDS.values()]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="incident-tui", description="The war room in a terminal.")
    parser.add_argument("--version", action="version", version=f"incident-tui {__version__}")
    _global_options(parser, suppress=False)
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, suppress=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def verb(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help,
            description=help,
            parents=[common],
            epilog="The global options (--store, --remote, --token, --user, --theme, --runbooks) work here too: "
            "incident-tui --help lists them.",
        )

    for family in (_writing_verbs, _reading_verbs, _document_verbs, _serve_verb, _admin_verbs):
        family(verb)
    return parser


Verb = Callable[[str, str], argparse.ArgumentParser]


def _writing_verbs(verb: Verb) -> None:
    p = verb("declare", "declare an incident; prints its number")
    p.add_argument("title", nargs="+", help="what is broken, for whom (the words are joined)")
    p.add_argument("--severity", default="SEV3", help="SEV1 (critical) .. SEV5 (cosmetic); default SEV3")
    p.add_argument("--summary", default="", help="a first summary of the incident")
    p.add_argument(
        "--at", metavar="TIME", help="back-date the declaration, as @ does in the command language (HH:MM or ISO)"
    )
    p.add_argument("--json", action="store_true", help='print {"ref", "id", "queued"} instead of the number')

    p = verb("log", "apply one line of the command language to an incident")
    p.add_argument("incident", help="INC-7, 7 or the incident's uuid")
    p.add_argument("text", nargs="+", help="a note, or a command such as /decision TEXT")
    p.add_argument("--json", action="store_true", help="print the events written, as JSON")
    p.epilog = _command_list()
    p.formatter_class = argparse.RawDescriptionHelpFormatter


def _reading_verbs(verb: Verb) -> None:
    p = verb("list", "active incidents (or --all)")
    p.add_argument("--all", action="store_true", help="include resolved, postmortem and closed")
    p.add_argument("--json", action="store_true", help="a JSON array of incident summaries (README: JSON output)")

    p = verb("show", "the folded state of an incident")
    p.add_argument("incident", help="INC-7, 7 or the incident's uuid")
    p.add_argument("--json", action="store_true", help="the state as stable JSON (README: JSON output)")

    p = verb("events", "the raw event log")
    p.add_argument("incident", nargs="?", help="only this incident's events (default: the whole store)")
    p.add_argument("--since", type=int, default=0, metavar="SEQ", help="only events after this seq")
    p.add_argument("--json", action="store_true", help="one JSON event a line")


def _document_verbs(verb: Verb) -> None:
    p = verb("snapshot", "handoff snapshot")
    p.add_argument("incident", help="INC-7, 7 or the incident's uuid")
    p.add_argument("--format", choices=("md", "json"), default="md", help="Markdown (default) or stable JSON")
    p.add_argument("--at-seq", type=int, default=None, metavar="N", help="the snapshot as it stood at seq N")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")

    p = verb("postmortem", "postmortem draft in Markdown, or its stable JSON")
    p.add_argument("incident", help="INC-7, 7 or the incident's uuid")
    p.add_argument("--format", choices=("md", "json"), default="md", help="Markdown (default) or stable JSON")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")


def _serve_verb(verb: Verb) -> None:
    p = verb("serve", "the HTTP API over the store")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    p.add_argument("--token-file", metavar="FILE", help="one `NAME TOKEN` line a person (mode 600)")
    p.add_argument("--public-url", metavar="URL", help="the URL clients use (behind a proxy): its host is answered")
    p.add_argument(
        "--allowed-host", metavar="NAME", action="append", default=[], help="a further Host name to answer (repeatable)"
    )
    p.add_argument("--ssh-port", type=int, metavar="N", help="also accept SSH connections on port N (SPEC 10)")
    p.add_argument("--ssh-keys", metavar="DIR", help="folder of NAME.pub files: who may connect over SSH")
    p.add_argument("--ssh-host-key", metavar="FILE", help="SSH host key (default: created in the data dir)")
    p.add_argument("--ssh-host", metavar="HOST", help="address for SSH (default: --host)")
    p.add_argument("--ssh-idle-timeout", type=float, default=3600, metavar="SECONDS", help="0: never")
    p.add_argument("--ssh-max-sessions", type=int, default=64, metavar="N", help="SSH sessions at once (default 64)")
    p.add_argument(
        "--ssh-max-per-person", type=int, default=3, metavar="N", help="SSH sessions per person at once (default 3)"
    )
    p.add_argument(
        "--database",
        metavar="DSN",
        help="keep the log in PostgreSQL (postgresql://...) instead of the store file; default: INCIDENT_TUI_DATABASE",
    )


def _admin_verbs(verb: Verb) -> None:
    p = verb("migrate", "copy the whole log between a store file and PostgreSQL, then verify it")
    p.add_argument("--from", dest="source", required=True, metavar="SRC", help="a store file or postgresql:// URL")
    p.add_argument("--to", dest="target", required=True, metavar="DST", help="a store file or postgresql:// URL")

    p = verb("deliveries", "notifications that failed or wait to be retried (serve's delivery outbox)")
    p.add_argument("--all", action="store_true", help="also the ones queued and not yet tried")
    p.add_argument("--json", action="store_true", help="a JSON array instead of the table")

    p = verb("demo", "write a realistic demo incident into the store")
    p.add_argument(
        "--until", choices=PHASES, default=None, help="stop once this phase is entered (to rehearse the rest live)"
    )


# -- verbs ----------------------------------------------------------------------------


def cmd_declare(ctx: Session, a: argparse.Namespace) -> int:
    from .domain.commands import CommandError, declare_event, parse  # the app's start does not need the parser

    try:
        # `--at` means what `@TIME` means before a line (one grammar for back-dating).
        at = parse(f"@{a.at.strip()} declare").at if a.at else None
        if a.at and at is None:
            raise CommandError(f"--at {a.at} is not a time; write --at 14:02 or --at 2026-11-26T23:50")
        event = declare_event(" ".join(a.title), ctx.config.user, a.severity, a.summary, at=at)
    except CommandError as exc:
        raise UsageError(str(exc)) from None
    (stored,) = ctx.append([event])
    if stored.seq is None:
        # Queued offline: the number is the server's to give (someone else may declare
        # first), and a guessed INC-N could send later lines to another incident.
        print(f"incident-tui: refer to it by its id until it is sent: {event.incident}", file=sys.stderr)
        print(json_text({"ref": None, "id": event.incident, "queued": True}) if a.json else event.incident)
        return 0
    state = ctx.registry.incidents.get(event.incident)
    ref = state.ref if state else event.incident
    if a.json:
        print(json_text({"ref": ref, "id": event.incident, "queued": False}))
    else:
        print(ref)
    return 0


def cmd_log(ctx: Session, a: argparse.Namespace) -> int:
    from .domain.commands import CommandError, to_events

    state = ctx.incident(a.incident)
    try:
        events = to_events(" ".join(a.text), state, ctx.config.user, ctx.runbooks)
    except CommandError as exc:
        raise UsageError(str(exc)) from None
    stored = ctx.append(events)
    if a.json:
        print(json_text([e.to_dict() for e in stored]))
    else:
        seqs = ", ".join(str(e.seq) if e.seq else "pending" for e in stored)
        print(f"{state.ref}: {', '.join(e.kind for e in stored)} (seq {seqs})")
    return 0


def cmd_list(ctx: Session, a: argparse.Namespace) -> int:
    now = now_utc()
    states = ctx.registry.order if a.all else ctx.registry.active()
    if a.json:
        print(json_text([incident_summary(s, now) for s in states]))
        return 0
    if not states:
        print("no active incidents" + ("" if a.all else " (--all shows every incident)"))
        return 0
    print(f"{'INC':<7} {'SEV':<5} {'PHASE':<11} {'AGE':>7}  {'COMMANDER':<12} TITLE")
    for s in states:
        age = age_text((now - s.declared_at).total_seconds())
        who = safe_text(s.commander or "-", 12, oneline=True)
        print(f"{s.ref:<7} {s.severity:<5} {s.phase:<11} {age:>7}  {who:<12} {safe_text(s.title, 200, oneline=True)}")
    return 0


def _local(dt: datetime | None) -> str:
    return dt.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if dt else "-"


def cmd_show(ctx: Session, a: argparse.Namespace) -> int:
    s = ctx.incident(a.incident)
    now = now_utc()
    if a.json:
        print(json_text(incident_state(s, ctx.runbooks, now)))
        return 0
    t = lambda x: safe_text(x, oneline=True)  # noqa: E731
    out = [
        f"{s.ref}  {s.severity}  {s.phase}  {t(s.title)}",
        f"declared  {_local(s.declared_at)} by {t(s.declared_by)}"
        f"  (elapsed {age_text(s.elapsed(now).total_seconds())})",
    ]
    if s.category:
        out.append(f"category  {t(s.category)}")
    out.append(f"summary   {t(s.summary) or '-'}")
    out.append(f"impact    {t(s.impact) or '-'}")
    due = s.next_update_due()
    if due:
        late = " OVERDUE" if due < now else ""
        out.append(f"next update due {_local(due)}{late}")
    out.append("roles")
    for role in ROLES:
        out.append(f"  {role:<10} {t(', '.join(s.holders(role))) or '-'}")
    out.append(f"checklist ({s.phase})")
    for item in checklist_view(s, ctx.runbooks):
        by = "  (automatic)" if item["automatic"] else f"  ({t(item['by'])})" if item["by"] else ""
        out.append(f"  [{'x' if item['done'] else ' '}] {item['n']}. {item['text']}{by}")
    if s.hypotheses:
        out.append("hypotheses")
        for h in s.hypotheses:
            note = f" - {t(h.note)}" if h.note else ""
            out.append(f"  H{h.number} [{h.status}] {t(h.text)}{note}")
    if s.followups:
        out.append("follow-ups")
        for f in s.followups:
            extra = " ".join(x for x in (f"@{f.owner}" if f.owner else "", f"due {f.due}" if f.due else "") if x)
            out.append(f"  F{f.number} [{'done' if f.done else 'open'}] {t(f.text)} {t(extra)}".rstrip())
    if s.rootcause:
        out.append(f"root cause  {t(s.rootcause)}")
    for i, why in enumerate(s.whys, 1):
        out.append(f"  why {i}. {t(why)}")
    out.append(f"{len(s.timeline)} events, last seq {s.last_seq}")
    print("\n".join(out))
    return 0


def event_line(e: Event) -> str:
    """One event as a line of text: `seq time author kind text`."""
    try:  # the raw log may hold what this version cannot fold: shown as it is, never fatal
        local = check_foldable(e).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except EventError:
        local = safe_text(e.at or "?", 19, oneline=True).ljust(19)
    data = {k: v for k, v in e.data.items() if k not in ("text", "tags")}
    text = e.data.get("text", "")
    detail = " ".join(f"{k}={v}" for k, v in data.items())
    body = " ".join(x for x in (detail, str(text)) if x)
    seq = e.seq if e.seq is not None else "pending"
    who = safe_text(e.author, 24, oneline=True)
    kind = safe_text(e.kind or "?", 40, oneline=True)
    return f"{seq:>6}  {local}  {who:<10} {kind:<20} {safe_text(body, oneline=True)}"


def cmd_events(ctx: Session, a: argparse.Namespace) -> int:
    if a.since < 0:
        raise UsageError("--since needs a seq of 0 or more")
    events = ctx.store.read(a.since)
    if a.incident:
        inc = ctx.incident(a.incident).id
        # A line that cannot be read names no incident: it may be one of this incident's.
        events = [e for e in events if e.incident == inc or not e.kind]
    out = sys.stdout
    for e in events:
        if a.json:
            try:
                out.write(json_text(e.to_dict()) + "\n")
            except (RecursionError, ValueError):  # an older writer's data nested past any use
                out.write(json_text({**e.to_dict(), "data": {"unprintable": "nested too deep"}}) + "\n")
        else:
            out.write(event_line(e) + "\n")
    return 0


def _write_doc(text: str, output: str | None) -> None:
    if output:
        try:
            with open(output, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            raise StoreError(f"cannot write {output}: {exc.strerror}") from None
        print(output, file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def cmd_snapshot(ctx: Session, a: argparse.Namespace) -> int:
    from .docs import IncidentNotFound, incident_snapshot

    state = ctx.incident(a.incident)
    if a.at_seq is not None and a.at_seq < state.declared_seq:
        raise UsageError(f"--at-seq {a.at_seq} is before {state.ref} was declared (seq {state.declared_seq})")
    if a.at_seq is not None and a.at_seq > (latest := ctx.store.latest_seq()):
        # A typo must not quietly give today's snapshot under an as-of heading.
        raise UsageError(f"--at-seq {a.at_seq} is after the latest seq {latest}")
    try:
        # The incident's own rows (from the store's index: one bulk read), not every event.
        text = incident_snapshot(state, ctx.runbooks, now_utc(), a.format, a.at_seq)
        text = escape_json_text(text) if a.format == "json" else text
    except IncidentNotFound:  # declared only in this client's outbox: nothing stored to snapshot yet
        raise UsageError(f"{state.ref} is not in the store yet (its declaration is still queued)") from None
    _write_doc(text, a.output)
    return 0


def cmd_postmortem(ctx: Session, a: argparse.Namespace) -> int:
    from .docs import postmortem_json, write_postmortem

    state = ctx.incident(a.incident)
    # Read once: from the JSON store's index the timeline is read from the log on each of
    # the renderer's passes.
    state.timeline = list(state.timeline)
    if a.format == "json":
        _write_doc(escape_json_text(postmortem_json(state, ctx.runbooks, now_utc())), a.output)
        return 0
    # Written in pieces as it is rendered: a 1M-event incident's 66 MB is never held whole
    # (docs.write_postmortem says what that saves). The text always ends with a newline.
    if not a.output:
        write_postmortem(state, ctx.runbooks, now_utc(), sys.stdout.write)
        return 0
    try:
        with open(a.output, "w", encoding="utf-8") as f:
            write_postmortem(state, ctx.runbooks, now_utc(), f.write)
    except OSError as exc:
        raise StoreError(f"cannot write {a.output}: {exc.strerror}") from None
    print(a.output, file=sys.stderr)
    return 0


def cmd_serve(ctx: Session, a: argparse.Namespace) -> int:
    from .server.run import serve

    ssh = None
    if a.ssh_port is not None or a.ssh_keys:
        from .server.ssh import settings_from_args

        try:
            ssh = settings_from_args(a, ctx.config.data_dir)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    database = a.database or os.environ.get("INCIDENT_TUI_DATABASE")
    return serve(
        ctx.config,
        a.host,
        a.port,
        a.token_file,
        database=database,
        ssh=ssh,
        token_flag=bool(getattr(a, "token", None)),
        public_url=a.public_url,
        allowed_hosts=a.allowed_host,
    )


def cmd_migrate(ctx: Session, a: argparse.Namespace) -> int:
    from .store.migrate import migrate, open_target
    from .store.postgres import redact_dsn

    if a.source == a.target:
        raise UsageError("--from and --to name the same store")
    src = open_target(a.source)
    try:
        dst = open_target(a.target)
        try:
            done = migrate(src, dst)
        finally:
            dst.close()
    finally:
        src.close()
    print(
        f"migrated {done.copied} event(s) to {redact_dsn(a.target)} "
        f"({done.kept} already there); verified {done.verified}: same ids, order and bytes"
    )
    return 0


def cmd_deliveries(ctx: Session, a: argparse.Namespace) -> int:
    from .server.delivery.report import deliveries_report

    code, text = deliveries_report(ctx.config, everything=a.all, as_json=a.json)
    if text:
        print(text)
    return code


def cmd_demo(ctx: Session, a: argparse.Namespace) -> int:
    from .demo import write_demo

    incident = write_demo(ctx.store, ctx.runbooks, until=a.until)
    state = ctx.registry.incidents.get(incident)
    print(state.ref if state else incident)
    return 0


def cmd_app(ctx: Session, a: argparse.Namespace) -> int:
    from .ui.app import run_app  # Textual is imported only when the app runs, not for CLI verbs

    return run_app(ctx)


VERBS: dict[str | None, Callable[[Session, argparse.Namespace], int]] = {
    None: cmd_app,
    "declare": cmd_declare,
    "log": cmd_log,
    "list": cmd_list,
    "show": cmd_show,
    "events": cmd_events,
    "snapshot": cmd_snapshot,
    "postmortem": cmd_postmortem,
    "serve": cmd_serve,
    "migrate": cmd_migrate,
    "demo": cmd_demo,
    "deliveries": cmd_deliveries,
}


def entry() -> int:
    """The `incident-tui` program: `main` with the process's collector policy (a process
    is ours only when it was started as the program; `main` called in a test is not)."""
    return main(process_policy=True)


def main(argv: Sequence[str] | None = None, *, process_policy: bool = False) -> int:
    args = build_parser().parse_args(argv)
    ctx: Session | None = None
    try:
        config = load_config(
            store=args.store,
            remote=args.remote,
            token=args.token,
            user=args.user,
            theme=args.theme,
            runbooks=args.runbooks,
        )
        if args.store and args.remote:
            raise UsageError("--store and --remote name two different stores; give one")
        ctx = Session(config)
        if process_policy and args.command not in (None, "serve"):  # the app and the server set their own
            gcpolicy.short_lived()
        return VERBS[args.command](ctx, args)
    except (UsageError, ConfigError) as exc:
        # Errors may quote what was typed or stored: shown, never obeyed by the terminal.
        print(f"incident-tui: {safe_text(str(exc), 2000, oneline=True)}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"incident-tui: {safe_text(str(exc), 2000, oneline=True)}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file the verb itself reads or writes (a runbook, -o FILE, the data dir)
        where = f" {exc.filename}" if exc.filename else ""
        print(f"incident-tui: cannot use{safe_text(where, 500, oneline=True)}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `incident-tui events | head`
        return 0
    finally:
        if ctx is not None:
            ctx.close()
