"""Helpers shared by test modules (fixtures stay in conftest.py; no test module imports conftest)."""

import contextlib
import io
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection, connections
from django.db.models import QuerySet
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from appointments.models import Appointment, Department, Status
from claimants.models import ClaimantData
from config.actors import Actor
from config.history import history_copy, tracked_models
from meetings.models import Meeting, Participant, Role
from tests.factories import UserFactory

if TYPE_CHECKING:  # only the browser tests load Playwright (tests/e2e/conftest.py)
    from playwright.sync_api import Page

T = TypeVar("T")

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite has no row locks, so concurrent writers cannot be tested on it",
)
shared_database_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: another process (the worker, a server) shares the test's database while the test "
    "writes, and SQLite lets one writer at a time (tests/worker/test_sqlite.py shows the worker beside a server)",
)


def run_together(jobs: list[Callable[[], T]]) -> list[T]:
    """Start every job at the same instant in its own thread (own connection); re-raise what any raised."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[T | BaseException | None] = [None] * len(jobs)

    def worker(index: int, job: Callable[[], T]) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = job()
        except BaseException as exc:
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return cast(list[T], outcomes)  # no exception among them: each is its job's answer


def hours_forms(department: Department) -> dict[str, str]:
    """The department page's booking rules, working hours and days that differ (issue 23.1), posted back as they
    are: their management forms and each row unchanged."""
    from appointments.availability import BookingRules, HoursException, WorkingHours

    data: dict[str, str] = {}
    rows: list[tuple[str, list[Any], tuple[str, ...]]] = [
        ("booking_rules", list(BookingRules.objects.filter(department=department)), _RULES),
        ("working_hours", list(WorkingHours.objects.filter(department=department)), _HOURS),
        ("hours_exceptions", list(HoursException.objects.filter(department=department)), _EXCEPTIONS),
    ]
    for prefix, found, columns in rows:
        data |= {
            f"{prefix}-TOTAL_FORMS": str(len(found)),
            f"{prefix}-INITIAL_FORMS": str(len(found)),
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
        for index, row in enumerate(found):
            data[f"{prefix}-{index}-{'department' if prefix == 'booking_rules' else 'id'}"] = str(row.pk)
            data[f"{prefix}-{index}-department"] = str(department.pk)
            for name in columns:
                value = getattr(row, f"{name}_id" if name == "agent" else name)
                shown = value.strftime("%H:%M") if name.endswith("_at") and value is not None else value
                data[f"{prefix}-{index}-{name}"] = "" if shown is None else str(shown)
    return data


_RULES = (
    "slot_minutes",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "notice_to_book_minutes",
    "notice_to_reschedule_minutes",
    "notice_to_cancel_minutes",
    "horizon_days",
    "max_claimant_reschedules",
)
_HOURS = ("agent", "weekday", "starts_at", "ends_at")
_EXCEPTIONS = ("agent", "day", "kind", "starts_at", "ends_at", "note")


def patch_url(appointment: Appointment, query: str = "") -> str:
    return f"/api/v1/appointments/{appointment.pk}{query}"


def snapshot(appointment: Appointment) -> dict[str, Any]:
    """Every stored value of the appointment and its parts, to prove a request changed nothing."""
    fresh = Appointment.objects.get(pk=appointment.pk)
    rows: dict[str, Any] = {f.attname: getattr(fresh, f.attname) for f in Appointment._meta.concrete_fields}
    claimant = fresh.claimant
    rows["claimant"] = {f.attname: getattr(claimant, f.attname) for f in type(claimant)._meta.concrete_fields}
    rows["data"] = sorted((str(d.pk), str(d.field_id), d.value) for d in ClaimantData.objects.filter(claimant=claimant))
    meeting = Meeting.objects.get(appointment=fresh)
    rows["meeting"] = (meeting.pk, meeting.room_url, meeting.start_date, meeting.end_date)
    return rows


def data_item(appointment: Appointment, name: str) -> ClaimantData:
    return ClaimantData.objects.get(claimant__appointment=appointment, field__name=name)


def run_command(*args: str) -> list[str]:
    """A management command's output lines."""
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


PASSWORD = "correct horse battery staple"


def staff(username: str, *departments: Department, group: str = "Agents", superuser: bool = False) -> User:
    user = UserFactory.create(username=username, is_staff=True, is_superuser=superuser)
    user.set_password(PASSWORD)
    user.save()
    user.groups.add(Group.objects.get(name=group))
    for department in departments:
        department.members.add(user)
    return user


def recovery_code(user: User) -> str:
    """A fresh one-time recovery code of the user's (django-otp's StaticDevice): what a test types as the second
    factor (STAFF_SECOND_FACTOR_REQUIRED is on in the tests, as in production), rather than turning it off."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name="Test recovery codes", defaults={"confirmed": True})
    return device.token_set.create(token=StaticToken.random_token()).token


def logged_in(user: User) -> Client:
    """A client signed in as the user, past the second factor (its session verified by a device of theirs, as
    entering a code makes it)."""
    client = Client()
    client.force_login(user)
    device, _ = StaticDevice.objects.get_or_create(user=user, name="Test recovery codes", defaults={"confirmed": True})
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes
    cookies: dict[str, str]  # what each Set-Cookie set


def raw_http(port: int, request: bytes, *, timeout: float = 20) -> RawResponse:
    """Send `request` byte for byte on a new connection, close the sending side (the client is gone, as far as
    the server can tell: a body shorter than its Content-Length ends there) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received, "the server closed the connection without an answer"
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    cookies = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
        if name.strip().lower() == "set-cookie":
            cookie, _, _attributes = value.strip().partition(";")
            cookies[cookie.split("=", 1)[0]] = cookie.split("=", 1)[1]
    if headers.get("transfer-encoding") == "chunked":
        whole = b""
        while True:
            size, _, rest = body.partition(b"\r\n")
            if int(size, 16) == 0:
                break
            whole, body = whole + rest[: int(size, 16)], rest[int(size, 16) + 2 :]
        body = whole
    return RawResponse(int(status_line.split()[1]), headers, body, cookies)


def run_tasks(*, until: datetime | None = None, limit: int = 500) -> list[str]:
    """Run the queue's ready tasks in this process, as `db_worker --batch` would, until none is left (with
    `until`, also those due by then); returns their names. A task that fails fails the test."""
    from django.db.models import Q
    from django.utils import timezone
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult, get_date_max

    worker = Worker(
        queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
        max_tasks=None, worker_id="tests", excluded_queue_names=[],
    )  # fmt: skip
    ran: list[str] = []
    for _ in range(limit):
        due = Q(run_after=get_date_max()) | Q(run_after__lte=until or timezone.now())
        result = DBTaskResult.objects.filter(status="READY").filter(due).first()
        if result is None:
            return ran
        result.claim("tests")
        worker.run_task(result)
        result.refresh_from_db()
        assert result.status == "SUCCESSFUL", result.traceback
        ran.append(result.task_path.rsplit(".", 1)[-1])
    raise AssertionError(f"more than {limit} tasks: {ran[-10:]}")


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A webhook receiver on 127.0.0.1: records every request, answers each with the next of `statuses`
    (then 200), after `delay` seconds."""

    def __init__(self, statuses: list[int] | None = None, delay: float = 0) -> None:
        import http.server

        self.received: list[Received] = []
        self.statuses = list(statuses or [])
        self.delay = delay
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                time.sleep(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                with contextlib.suppress(ConnectionError):  # the sender was killed while waiting (chaos tests)
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    self.wfile.write(f"answered {status}".encode())

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[dict[str, Any]]:
        import json

        return [json.loads(item.body) for item in self.received]


def admin_change_url(appointment: Appointment) -> str:
    return f"/admin/appointments/appointment/{appointment.pk}/change/"


def admin_form_data(client: Client, appointment: Appointment) -> dict[str, Any]:
    """The change form as the browser would post it back, from the rendered page's initial values."""
    form = client.get(admin_change_url(appointment)).context["adminform"].form
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if name == "appointment_at":
            local = value.astimezone(appointment.zone)  # the form reads its time in the department's zone
            data["appointment_at_0"] = local.strftime("%Y-%m-%d")
            data["appointment_at_1"] = local.strftime("%H:%M:%S")
        elif name == "department":
            data[name] = str(value) if value else ""
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is None:
            data[name] = ""
        else:
            data[name] = value
    return data


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.1)


class SmtpServer:
    """A stand-in SMTP server on 127.0.0.1 (enough of RFC 5321 for Django's SMTP backend): keeps each message's
    envelope and its raw text. With `stall`, it accepts each connection and then says nothing, ever (a server
    that hangs); `connections` counts those accepted."""

    def __init__(self, *, stall: bool = False) -> None:
        import socketserver

        self.messages: list[tuple[str, list[str], bytes]] = []
        self.connections = 0
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self) -> None:
                server.connections += 1
                if stall:
                    self.rfile.read()  # until the client gives up and closes
                    return
                sender, recipients = "", list[str]()
                self.reply("220 stand-in ESMTP")
                while line := self.rfile.readline():
                    command = line.decode("ascii", "replace").strip()
                    verb = command.split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 stand-in")
                    elif verb == "MAIL":
                        sender, recipients = command.split(":", 1)[1].strip(" <>"), []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        recipients.append(command.split(":", 1)[1].strip(" <>"))
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        body = b""
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            body += chunk
                        server.messages.append((sender, recipients, body))
                        self.reply("250 OK queued")
                    elif verb == "QUIT":
                        self.reply("221 Bye")
                        return
                    else:
                        self.reply("250 OK")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "SmtpServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class TcpProxy:
    """A TCP proxy on 127.0.0.1 to `target` (PostgreSQL, say): `cut()` drops every open connection and refuses new
    ones (accepts and closes them) until `restore()`, so a server behind it sees its database stop answering
    without the database itself being touched (other test runs share it)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.up = True
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:  # the listener was closed: the proxy is done
                return
            if not self.up:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up = False
        with self.lock:
            dropped, self.open = self.open, []
        for sock in dropped:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def restore(self) -> None:
        self.up = True

    def __enter__(self) -> "TcpProxy":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cut()
        self.listener.close()


def browser_sign_in(page: "Page", base: str, username: str, password: str, *, lands: str | None = None) -> None:
    """Sign in to the back office in a Playwright page: the password, then a recovery code as the second factor."""
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/second-factor/**")
    page.fill("#id_code", recovery_code(User.objects.get(username=username)))
    page.click("input[type=submit]")
    # Staff land on today's list (issue 17.11).
    page.wait_for_url(lands or f"{base}/admin/appointments/appointment/")


# The stamps each status carries; moving an appointment to a status means walking an allowed path.
STATUS_PATHS: dict[str, list[str]] = {
    Status.SCHEDULED: [],
    Status.WAITING: [Status.WAITING],
    Status.IN_PROGRESS: [Status.IN_PROGRESS],
    Status.COMPLETED: [Status.IN_PROGRESS, Status.COMPLETED],
    Status.CANCELLED: [Status.CANCELLED],
    Status.NO_SHOW: [Status.NO_SHOW],
}


def allowed_moment(appointment: Appointment, target: str) -> datetime:
    """A moment at which the status rules (issue 17.5) let `appointment` take `target`: its start for a session
    (inside the join window), just past the no-show grace for a no-show, and now for anything else."""
    from django.conf import settings
    from django.utils import timezone

    if target in (Status.IN_PROGRESS, Status.COMPLETED):
        return appointment.appointment_at
    if target == Status.NO_SHOW:
        grace = timedelta(minutes=settings.NO_SHOW_GRACE_MINUTES)
        return min(appointment.appointment_at + grace, appointment.ends_at) + timedelta(seconds=1)
    return timezone.now()


def claimant_joins(appointment: Appointment) -> Participant:
    """The claimant goes into the waiting room the way their page does (device check, identity and consent when
    asked, join); the join window must be open. Their joining makes a scheduled appointment `waiting`."""
    from meetings.devices import participant_record_device_check
    from meetings.services import consent_required, identity_required, participant_record_consent
    from meetings.services.journey import participant_join
    from tests.factories import a_browser, browser_that_passed

    claimant = Participant.objects.select_related("appointment__claimant").get(
        appointment=appointment, role=Role.CLAIMANT, revoked_at__isnull=True
    )
    browser = browser_that_passed(claimant) if identity_required(claimant) else a_browser()
    claimant.refresh_from_db()
    participant_record_device_check(participant=claimant, results={"camera": True, "microphone": True}, browser=browser)
    if consent_required(claimant):
        participant_record_consent(participant=claimant, consent=True, browser=browser)
    return participant_join(participant=claimant, browser=browser)


def walk_to(appointment: Appointment, status: str, actor: Actor = None) -> Appointment:
    """Move `appointment` to `status` along STATUS_PATHS, each step at a moment the rules allow it (the clock moved
    with time-machine, and back): `waiting` by the claimant joining the waiting room inside the join window, the
    session inside the window, a no-show after the grace. Returns the appointment read again."""
    import time_machine

    from appointments.services import appointment_update

    for step in STATUS_PATHS[status]:
        if step == Status.WAITING:
            with time_machine.travel(appointment.appointment_at - timedelta(minutes=10), tick=False):
                claimant_joins(appointment)
        else:
            with time_machine.travel(allowed_moment(appointment, step), tick=False):
                appointment_update(appointment=appointment, data={"status": step}, actor=actor)
    walked = Appointment.objects.with_related().get(pk=appointment.pk)
    assert walked.status == status
    return walked


def claimant_waits_while_scheduled(appointment: Appointment, actor: Actor = None) -> Appointment:
    """The claimant is in the waiting room while the appointment is `scheduled`: they joined (inside the join
    window), and an agent sent the appointment back to scheduled while they were still there. `waiting` is then
    allowed again (issue 17.5: only while the claimant is in the waiting room)."""
    from appointments.services import appointment_update

    walk_to(appointment, Status.WAITING, actor)
    appointment_update(appointment=appointment, data={"status": Status.SCHEDULED}, actor=actor)
    return Appointment.objects.with_related().get(pk=appointment.pk)


def rewrite(rows: QuerySet[Any], **values: object) -> int:
    """Arrange a state no service would reach (a past start, a lock already taken): `QuerySet.update()`, and for
    a tracked model the history rows the one writer copies (config.history), so the history check after every
    test (issue 19.3) still holds. Returns the number of rows written."""
    pks = list(rows.values_list("pk", flat=True))
    written = rows.model._default_manager.filter(pk__in=pks).update(**values)
    if rows.model in tracked_models():
        history_copy(rows.model, pks, None)
    return written
