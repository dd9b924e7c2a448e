"""``campo``: the command line for tenant admins and operators."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

import segno
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.core import TyperGroup

from geo.accounts.agents import create_agent, list_agents
from geo.accounts.users import create_user, list_users, tenant_by_slug
from geo.analytics.logins import create_analyst_login, drop_analyst_login
from geo.contacts.report import compliance_report
from geo.contacts.rules import next_contact_day
from geo.core.db import owner_session, tenant_session
from geo.core.errors import CampoError
from geo.core.logs import configure_logging
from geo.core.models import User
from geo.core.settings import get_settings
from geo.core.spanish import number
from geo.core.tenant_settings import TenantSettings, tenant_settings
from geo.demo import portfolio as demo
from geo.demo.calls import seed_calls
from geo.demo.history import seed_history
from geo.demo.simulation import simulate_plan
from geo.fieldkit.forms import import_form
from geo.fieldkit.inbox import list_submissions
from geo.fieldkit.openrosa import collect_settings
from geo.fieldkit.receipts import rederive
from geo.maps.plan import UNPLANNED_LABELS
from geo.portfolio.imports import ImportReport, RowError, import_cases
from geo.portfolio.payments import import_payments
from geo.provisioning.tenants import create_tenant, update_tenant_settings
from geo.routing.audit import audit_plan
from geo.routing.jobs import create_plan, list_plans, run_plan
from geo.tracking.devices import register_device
from geo.tracking.partitions import ensure_gps_partitions, prune_gps_partitions
from geo.visits.mail import VERDICT_LABELS, deliver_due
from geo.visits.media import prune_media

console = Console(stderr=True)


class _ReportingGroup(TyperGroup):
    """Any domain error, from any command, ends it with its message and exit code 1."""

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click.Context
        try:
            return super().invoke(ctx)
        except CampoError as exc:
            where = f" ({exc.field})" if exc.field else ""
            console.print(f"[red]error{where}:[/red] {exc.message}")
            raise typer.Exit(code=1) from exc


app = typer.Typer(
    cls=_ReportingGroup, no_args_is_help=True, help="campo: field collections on PostGIS."
)
tenant_app = typer.Typer(no_args_is_help=True, help="Tenants.")
user_app = typer.Typer(no_args_is_help=True, help="Users of a tenant.")
agent_app = typer.Typer(no_args_is_help=True, help="Field agents of a tenant.")
import_app = typer.Typer(no_args_is_help=True, help="Bulk imports from CSV.")
demo_app = typer.Typer(no_args_is_help=True, help="The Bogotá demo tenant.")
gps_app = typer.Typer(no_args_is_help=True, help="GPS storage maintenance.")
mail_app = typer.Typer(no_args_is_help=True, help="The e-mail outbox.")
analyst_app = typer.Typer(no_args_is_help=True, help="Analysts' database logins.")
media_app = typer.Typer(no_args_is_help=True, help="Files sent with visits.")
form_app = typer.Typer(no_args_is_help=True, help="Questionnaires (XLSForm).")
submission_app = typer.Typer(no_args_is_help=True, help="Submissions kept as phones sent them.")
for sub, name in (
    (tenant_app, "tenant"),
    (user_app, "user"),
    (agent_app, "agent"),
    (import_app, "import"),
    (demo_app, "demo"),
    (gps_app, "gps"),
    (mail_app, "mail"),
    (analyst_app, "analyst"),
    (media_app, "media"),
    (form_app, "questionnaire"),
    (submission_app, "submissions"),
):
    app.add_typer(sub, name=name)

Tenant = Annotated[str, typer.Option("--tenant", "-t", help="Tenant slug.")]


@app.callback()
def _start() -> None:
    """campo: field collections on PostGIS."""
    configure_logging(get_settings())


CsvFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter("use YYYY-MM-DD", param_hint=option) from None


def _tenant_id(slug: str) -> int:
    with owner_session() as session:
        return tenant_by_slug(session, slug).id


@tenant_app.command("create")
def tenant_create(slug: str, name: str) -> None:
    """Create a tenant."""
    with owner_session() as session:
        tenant = create_tenant(session, slug=slug, name=name)
    typer.echo(f"tenant {tenant.slug} created with id {tenant.id}")


settings_app = typer.Typer(no_args_is_help=True, help="A tenant's settings.")
tenant_app.add_typer(settings_app, name="settings")


@settings_app.command("show")
def settings_show(tenant: Tenant) -> None:
    """Every setting with its value; ``*`` marks those set for this tenant."""
    with tenant_session(tid := _tenant_id(tenant)) as session:
        current = tenant_settings(session, tid)
    table = Table("", "setting", "value", "meaning", title=f"settings of {tenant}")
    for name, field in TenantSettings.model_fields.items():
        value = json.dumps(current.model_dump(mode="json")[name], ensure_ascii=False)
        mark = "*" if name in current.model_fields_set else ""
        table.add_row(mark, name, value, field.description or "")
    Console().print(table)


@settings_app.command("set")
def settings_set(
    tenant: Tenant,
    assignments: Annotated[
        list[str],
        typer.Argument(
            help="KEY=VALUE pairs; VALUE is JSON (a bare word is a string, null resets)."
        ),
    ],
) -> None:
    """Change settings; nothing changes unless every value is valid."""
    changes: dict[str, Any] = {}
    for assignment in assignments:
        key, sep, raw = assignment.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{assignment!r} is not KEY=VALUE", param_hint="ASSIGNMENTS")
        try:
            changes[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            changes[key.strip()] = raw
    with tenant_session(tid := _tenant_id(tenant)) as session:
        update_tenant_settings(session, tenant_id=tid, changes=changes)
    typer.echo(f"{len(changes)} settings changed for {tenant}")


@user_app.command("create")
def user_create(
    tenant: Tenant,
    email: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option()],
    role: Annotated[str, typer.Option(help="admin, dispatcher, agent or analyst")],
    password: Annotated[str | None, typer.Option(help="Prompted for when omitted.")] = None,
) -> None:
    """Create a user in a tenant."""
    secret = password or getpass.getpass("password: ")
    with tenant_session(tid := _tenant_id(tenant)) as session:
        user = create_user(
            session, tenant_id=tid, email=email, full_name=name, role=role, password=secret
        )
    typer.echo(f"user {user.email} ({user.role}) created with id {user.id}")


def _clock(value: str, option: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a time like 08:00", param_hint=option) from None


@agent_app.command("create")
def agent_create(
    tenant: Tenant,
    email: Annotated[str, typer.Option(help="E-mail of an existing user with role agent.")],
    code: Annotated[str, typer.Option(help="Employee code, unique in the tenant.")],
    lon: Annotated[float, typer.Option(help="Base longitude (WGS 84).")],
    lat: Annotated[float, typer.Option(help="Base latitude (WGS 84).")],
    mode: Annotated[str, typer.Option(help="walk, motorbike or car")] = "motorbike",
    capacity: Annotated[int | None, typer.Option(help="Visits per day (tenant default).")] = None,
    shift_start: Annotated[str | None, typer.Option(help="HH:MM (tenant default)")] = None,
    shift_end: Annotated[str | None, typer.Option(help="HH:MM (tenant default)")] = None,
    skill: Annotated[list[str] | None, typer.Option(help="Repeat for several.")] = None,
) -> None:
    """Make an agent-role user a field agent."""
    start = None if shift_start is None else _clock(shift_start, "--shift-start")
    end = None if shift_end is None else _clock(shift_end, "--shift-end")
    with tenant_session(tid := _tenant_id(tenant)) as session:
        user_id = session.scalar(
            select(User.id).where(User.tenant_id == tid, User.email == email.lower())
        )
        if user_id is None:
            raise typer.BadParameter(f"no user {email} in {tenant}", param_hint="--email")
        agent = create_agent(
            session,
            tenant_id=tid,
            user_id=user_id,
            code=code,
            lon=lon,
            lat=lat,
            travel_mode=mode,
            daily_capacity=capacity,
            shift_start=start,
            shift_end=end,
            skills=skill or [],
        )
    typer.echo(f"agent {agent.code} created with id {agent.id}")


def _print_report(report: ImportReport) -> None:
    typer.echo(
        f"{number(report.stored)} casos guardados ({number(report.geocoded)} ubicados por la "
        f"dirección, {number(report.without_location)} sin ubicación); "
        f"{number(len(report.errors))} filas rechazadas"
    )
    _print_errors(report.errors)


def _print_errors(errors: list[RowError]) -> None:
    if errors:
        table = Table("línea", "columna", "motivo", title="filas rechazadas")
        for error in errors[:200]:
            table.add_row(str(error.line), error.column, error.reason)
        console.print(table)
        if len(errors) > 200:
            console.print(f"... y {len(errors) - 200} más")


@contextmanager
def _tenant_file(tenant: str, path: Path) -> Iterator[tuple[Session, int, bytes]]:
    """The tenant's session (one transaction: an import is all or nothing) and the file."""
    source = path.read_bytes()
    with tenant_session(tid := _tenant_id(tenant)) as session:
        yield session, tid, source


@import_app.command("cases")
def import_cases_cmd(
    tenant: Tenant,
    path: CsvFile,
) -> None:
    """Import cases, debtors and addresses from a CSV file (UTF-8, header row)."""
    with (
        _tenant_file(tenant, path) as (session, tid, source),
        Progress(console=console, transient=True) as bar,
    ):
        task = bar.add_task("importing", total=None)
        report = import_cases(
            session,
            tenant_id=tid,
            source=source,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    _print_report(report)
    if report.errors:
        raise typer.Exit(code=2)


@import_app.command("payments")
def import_payments_cmd(
    tenant: Tenant,
    path: CsvFile,
) -> None:
    """Import payments (case_ref, paid_on, amount_cop[, reference]) from a CSV file."""
    with _tenant_file(tenant, path) as (session, tid, source):
        report = import_payments(session, tenant_id=tid, source=source)
    typer.echo(
        f"stored {report.stored} payments ({report.already_stored} were already stored); "
        f"{len(report.errors)} rows rejected"
    )
    _print_errors(report.errors)
    if report.errors:
        raise typer.Exit(code=2)


@analyst_app.command("create")
def analyst_create(tenant: Tenant, role_name: str) -> None:
    """A database login that reads the tenant's analytics views, and nothing else."""
    with owner_session() as session:
        password = create_analyst_login(
            session, tenant_id=tenant_by_slug(session, tenant).id, role_name=role_name
        )
    typer.echo(f"login {role_name} created; its password (shown once): {password}")


@analyst_app.command("drop")
def analyst_drop(role_name: str) -> None:
    """Remove an analyst's database login."""
    with owner_session() as session:
        drop_analyst_login(session, role_name=role_name)
    typer.echo(f"login {role_name} dropped")


@demo_app.command("history")
def demo_history(
    weeks: Annotated[int, typer.Option(min=1, max=52)] = 8,
    until: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default today")] = None,
    seed: int = 7,
) -> None:
    """Weeks of past visits, promises, payments and closings for the demo tenant, drawn from
    a stated contact model (geo/demo/history.py), and hexagonal area zones."""
    with owner_session() as session, console.status("writing the demo's past weeks"):
        tenant_id = tenant_by_slug(session, demo.DEMO_SLUG).id
        zone = tenant_settings(session, tenant_id).zone
        day = date.fromisoformat(until) if until else datetime.now(zone).date()
        done = seed_history(session, tenant_id=tenant_id, weeks=weeks, until=day, seed=seed)
    typer.echo(
        f"{number(done.visits)} visitas, {number(done.promises)} promesas, "
        f"{number(done.payments)} pagos, {number(done.closed)} casos cerrados, "
        f"{done.zones} zonas"
    )


@demo_app.command("calls")
def demo_calls(
    day: Annotated[str, typer.Option("--date", help="YYYY-MM-DD")],
    calls: Annotated[int, typer.Option(min=0, max=10_000)] = 40,
) -> None:
    """The call centre's morning: calls imported into the contact ledger, to debtors not
    contacted yet that week, so that day's plan leaves them out (Ley 2300 de 2023)."""
    when = _day(day, "--date")
    tenant_id = _tenant_id(demo.DEMO_SLUG)
    with tenant_session(tenant_id) as session:
        report = seed_calls(session, tenant_id=tenant_id, day=when, calls=calls)
    typer.echo(f"{report.stored} llamadas registradas en el historial de contactos")


@demo_app.command("days")
def demo_days() -> None:
    """The last day before today and the first after it on which the demo tenant may visit
    debtors (Sundays and holidays skipped), as two YYYY-MM-DD."""
    tenant_id = _tenant_id(demo.DEMO_SLUG)
    with tenant_session(tenant_id) as session:
        settings = tenant_settings(session, tenant_id)
    today = datetime.now(settings.zone).date()
    before = next_contact_day(today - timedelta(days=1), settings=settings, step=-1)
    after = next_contact_day(today + timedelta(days=1), settings=settings, step=1)
    typer.echo(f"{before.isoformat()} {after.isoformat()}")


@demo_app.command("seed")
def demo_seed(
    reset: Annotated[bool, typer.Option(help="Re-create the demo tenant if it exists.")] = True,
    cases: Annotated[int, typer.Option(min=1)] = 2000,
    agents: Annotated[int, typer.Option(min=1)] = 20,
    seed: int = 7,
) -> None:
    """Seed the demo tenant: staff, agents and a Bogotá portfolio."""
    with console.status("generating and storing the Bogotá portfolio"):
        portfolio = demo.generate(seed=seed, n_cases=cases, n_agents=agents)
        report = demo.seed(portfolio=portfolio, reset=reset)
    if report is None:
        typer.echo("demo tenant already seeded (use --reset to re-create it)")
        return
    _print_report(report)
    typer.echo(
        f"sign in to tenant '{demo.DEMO_SLUG}' as despacho@demo.campo.co, admin@demo.campo.co "
        f"or gestor01@demo.campo.co, password {demo.DEMO_PASSWORD}"
    )


@demo_app.command("simulate")
def demo_simulate(
    day: Annotated[str, typer.Option("--date", help="A planned day, YYYY-MM-DD.")],
    seed: int = 7,
    browser: Annotated[
        bool,
        typer.Option(
            "--browser", help="As campo's web app sends it: no fix says if it is simulated."
        ),
    ] = False,
) -> None:
    """Play the day's latest plan as if the agents had worked it: GPS, check-ins, outcomes."""
    when = _day(day, "--date")
    tenant_id = _tenant_id(demo.DEMO_SLUG)
    with tenant_session(tenant_id) as session:
        done = [p for p in list_plans(session, tenant_id=tenant_id, day=when) if p.status == "done"]
    if not done:
        console.print(f"[red]no hay un plan terminado para {when}:[/red] corra campo plan")
        raise typer.Exit(code=1)
    with console.status(f"simulando el plan {done[0].id}"):
        report = simulate_plan(tenant_id=tenant_id, plan_id=done[0].id, seed=seed, browser=browser)
    typer.echo(
        f"{number(report.fixes)} posiciones GPS, marcaciones "
        + ", ".join(f"{VERDICT_LABELS[v]} {n}" for v, n in sorted(report.checkins.items()))
        + f"; {report.outcomes} resultados registrados"
    )
    honest = sum(report.honest.values())
    if honest:
        review = report.honest.get("review", 0) + report.honest.get("rejected", 0)
        typer.echo(
            f"marcaciones honestas (en la puerta, buen GPS): {honest}; a revisión o rechazadas "
            f"{review} ({number(100 * review / honest)} %)"
        )


@gps_app.command("partitions")
def gps_partitions(
    ahead: Annotated[int, typer.Option(min=1, max=24, help="Months to create ahead.")] = 3,
) -> None:
    """Create the monthly GPS partitions from last month to ``ahead`` months from now."""
    with owner_session() as session:
        created = ensure_gps_partitions(session, months_ahead=ahead)
    typer.echo(f"{created} partitions created")


@gps_app.command("prune")
def gps_prune(
    keep_days: Annotated[
        int | None,
        typer.Option(min=31, help="Days of history to keep [CAMPO_GPS_RETENTION_DAYS]"),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would go.")] = False,
) -> None:
    """Drop the monthly GPS partitions older than the retention horizon, whole."""
    keep = keep_days or get_settings().gps_retention_days
    with owner_session() as session:
        dropped = prune_gps_partitions(session, keep_days=keep, dry_run=dry_run)
    verb = "would drop" if dry_run else "dropped"
    for partition in dropped:
        typer.echo(f"{verb} {partition.name} ({partition.starts:%Y-%m})")
    typer.echo(f"{len(dropped)} partitions {verb} (keeping {keep} days)")


@form_app.command("import")
def questionnaire_import(
    tenant: Tenant,
    key: Annotated[str, typer.Argument(help="The questionnaire's key, e.g. cobranza.")],
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="An .xlsx XLSForm.")],
) -> None:
    """An XLSForm as the next version of a questionnaire (refused with its row if campo
    cannot check it)."""
    with owner_session() as session:
        tenant_id = tenant_by_slug(session, tenant).id
    try:
        with tenant_session(tenant_id) as session:
            view = import_form(session, tenant_id=tenant_id, key=key, data=path.read_bytes())
    except CampoError as exc:
        raise typer.BadParameter(exc.message, param_hint="path") from None
    typer.echo(f"{view.key} v{view.version}: {len(view.definition['questions'])} questions")


@submission_app.command("derive")
def submissions_derive(
    tenant: Tenant,
    by: Annotated[str, typer.Option("--by", help="E-mail of the staff user answering for it.")],
    ids: Annotated[
        list[int] | None,
        typer.Argument(help="Submission ids; by default all needing a look."),
    ] = None,
) -> None:
    """Derive kept submissions again after a fix (audited as ``--by``)."""
    tenant_id = _tenant_id(tenant)
    with tenant_session(tenant_id) as session:
        actor = next((u for u in list_users(session, tenant_id=tenant_id) if u.email == by), None)
        if actor is None or actor.role not in {"admin", "dispatcher"}:
            raise typer.BadParameter("no admin or dispatcher with this e-mail", param_hint="--by")
        chosen = ids or [s.id for s in list_submissions(session, tenant_id=tenant_id)]
        for submission_id in chosen:
            derived = rederive(
                session, tenant_id=tenant_id, submission_id=submission_id, actor_id=actor.id
            )
            typer.echo(f"{submission_id}: {'stored' if derived is None else derived.state}")


@media_app.command("prune")
def media_prune() -> None:
    """Remove the stored files no visit lists any more (their visits were deleted)."""
    with owner_session() as session:
        removed = prune_media(session)
    typer.echo(f"{removed} files removed")


@agent_app.command("odk-qr")
def agent_odk_qr(
    tenant: Tenant,
    code: Annotated[str, typer.Argument(help="The agent's code.")],
    out: Annotated[Path, typer.Option(help="Where to write the QR code (SVG).")] = Path(
        "odk-collect.svg"
    ),
) -> None:
    """Register a phone for ODK Collect to an agent and write the QR code that sets it up
    (printable; the code holds the phone's key: hand it to that agent only)."""
    settings = get_settings()
    with owner_session() as session:
        tenant_id = tenant_by_slug(session, tenant).id
    with tenant_session(tenant_id) as session:
        agent = next((a for a in list_agents(session, tenant_id=tenant_id) if a.code == code), None)
        if agent is None:
            raise typer.BadParameter(f"no agent with code {code!r}", param_hint="code")
        device = register_device(session, tenant_id=tenant_id, agent_id=agent.id, protocol="odk")
    server = f"{settings.public_base_url.rstrip('/')}/openrosa/key/{device.identifier}"
    payload = collect_settings(server_url=server, project=f"campo · {agent.code}")
    segno.make(payload, error="m").save(str(out), scale=6, title=f"ODK Collect · {agent.code}")
    typer.echo(f"ODK Collect for {agent.code}: {out} (server {server})")


@app.command("plan")
def plan_day(
    tenant: Tenant,
    day: Annotated[str, typer.Option("--date", help="The day to plan, YYYY-MM-DD.")],
    budget: Annotated[float, typer.Option(min=1, max=600, help="Solver seconds.")] = 30,
) -> None:
    """Plan a day's routes for every active agent, with a progress bar."""
    when = _day(day, "--date")
    tenant_id = _tenant_id(tenant)
    with tenant_session(tenant_id) as session:
        plan = create_plan(session, tenant_id=tenant_id, day=when, budget_s=budget, queue=False)
    with Progress(console=console) as bar:
        task = bar.add_task("planificando", total=1.0)

        def report(fraction: float, message: str) -> None:
            bar.update(task, completed=fraction, description=message)

        done = run_plan(tenant_id, plan.id, progress=report)
    if done.status != "done":
        console.print(f"[red]el plan {done.id} falló:[/red] {done.message}")
        raise typer.Exit(code=1)
    stats = done.stats
    typer.echo(
        f"plan {done.id}: {stats['planned']} visitas en {stats['routes']} rutas, "
        f"{stats['unplanned']} sin planear; "
        + ", ".join(
            f"{label} {number(stats[f'{step}_s'], 1)} s"
            for step, label in (
                ("inputs", "datos"),
                ("network", "red vial"),
                ("snap", "ajuste a la vía"),
                ("matrix", "matriz"),
                ("routing", "rutas"),
                ("store", "guardado"),
            )
        )
    )
    _print_audit(tenant_id, done.id)


@app.command("compliance")
def compliance(
    tenant: Tenant,
    date_from: Annotated[str, typer.Option("--from", help="First local day, YYYY-MM-DD.")],
    date_to: Annotated[str, typer.Option("--to", help="Last local day, included.")],
) -> None:
    """Every contact of the period checked against Ley 2300 de 2023: breaches by rule,
    source and agent (exit status 4 when there is any)."""
    start, end = _day(date_from, "--from"), _day(date_to, "--to")
    tenant_id = _tenant_id(tenant)
    with tenant_session(tenant_id) as session:
        report = compliance_report(session, tenant_id=tenant_id, date_from=start, date_to=end)
    summary = report.summary()
    typer.echo(
        f"Ley 2300 de 2023, {start} a {end}: {number(report.contacts)} contactos, "
        f"{number(len(report.breaches))} incumplimientos"
    )
    for title, key in (("regla", "by_rule"), ("origen", "by_source"), ("gestor", "by_agent")):
        for name, count in summary[key].items():
            typer.echo(f"  {title} {name or '(sin gestor)'}: {number(count)}")
    if report.breaches:
        raise typer.Exit(code=4)


def _print_audit(tenant_id: int, plan_id: int) -> None:
    with tenant_session(tenant_id) as session:
        audit = audit_plan(session, tenant_id=tenant_id, plan_id=plan_id)
    for reason, count in audit.unplanned_by_reason.items():
        typer.echo(f"  sin planear, {reason} ({UNPLANNED_LABELS.get(reason, reason)}): {count}")
    overlap = number(audit.route_overlap * 100, 1)
    typer.echo(f"  solapamiento de rutas: {overlap} % del área que cubren")
    for problem in audit.problems:
        where = f"gestor {problem.agent_id}" + (
            f", caso {problem.case_id}" if problem.case_id else ""
        )
        console.print(f"[red]{problem.rule}[/red] ({where}): {problem.message}")
    typer.echo(
        f"revisión del plan {plan_id}: "
        + ("correcto" if audit.ok else f"{len(audit.problems)} problemas")
    )
    if not audit.ok:
        raise typer.Exit(code=3)


@app.command("check-plan")
def check_plan(
    tenant: Tenant, plan: Annotated[int, typer.Option("--plan", min=1, help="The plan's id.")]
) -> None:
    """Audit a stored plan from its tables: each case once, order, shift, capacity, case hours,
    skills, and no leg faster than the straight line at the mode's top speed."""
    _print_audit(_tenant_id(tenant), plan)


@mail_app.command("send")
def mail_send() -> None:
    """Send the e-mails that are due, once."""
    report = deliver_due()
    retried = " (se reintentarán)" if report.failed else ""
    typer.echo(f"{report.sent} enviados, {report.failed} fallidos{retried}")


@app.command()
def worker(
    concurrency: Annotated[
        int,
        typer.Option(min=1, max=64, help="Jobs other than plans at once (plans: one at a time)."),
    ] = 4,
) -> None:
    """Run background jobs from the PostgreSQL queue until Ctrl-C: plans, the e-mail outbox
    every minute, GPS partitions and pruning every night. Start as many as the machines
    allow, here or elsewhere, against the same database: they share the work."""
    from geo.jobs.queue import run_worker

    run_worker(concurrency=concurrency)


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Server processes; default: one per CPU core.")
    ] = None,
) -> None:
    """Serve the HTTP API, one process per core unless told otherwise."""
    import uvicorn  # the web server is only needed by this command

    # campo logs one line per request itself (with tenant and user): no second access log.
    trusted = get_settings().trusted_proxies.replace(" ", "")
    uvicorn.run(
        "api.main:app",
        host=host,
        port=port,
        workers=workers or os.cpu_count() or 1,
        # Forwarded headers only from the proxies named: from anyone else (uvicorn trusts
        # loopback by default) a rotated X-Forwarded-For would dodge the per-address limit.
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        access_log=False,
        timeout_graceful_shutdown=5,  # open event streams (the console's feed) do not end
    )
