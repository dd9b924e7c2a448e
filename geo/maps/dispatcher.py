"""The dispatcher's page of a day: links to the live map, the day's plans and every trail."""

from __future__ import annotations

import html
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session


def dispatcher_page(session: Session, *, tenant_id: int, day: date) -> str:
    """A small page of links for a day: live map, the day's plans, every agent's trail."""
    plans = session.execute(
        text(
            "SELECT id, status, stats FROM plans WHERE tenant_id = :t AND day = :d ORDER BY id DESC"
        ),
        {"t": tenant_id, "d": day},
    ).all()
    agents = session.execute(
        text(
            "SELECT g.id, g.code, u.full_name FROM agents g "
            "JOIN users u ON u.tenant_id = g.tenant_id AND u.id = g.user_id "
            "WHERE g.tenant_id = :t AND g.active ORDER BY g.code"
        ),
        {"t": tenant_id},
    ).all()
    esc = html.escape
    plan_items = (
        "".join(
            f"<li><a class='campo-plan-link' href='/maps/plans/{p.id}'>Plan {p.id}</a> "
            f"({esc(p.status)}"
            + (f", {p.stats.get('planned')} visitas" if p.stats else "")
            + ")</li>"
            for p in plans
        )
        or "<li>Sin planes para este día.</li>"
    )
    trail_items = "".join(
        f"<li><a class='campo-trail-link' href='/maps/agents/{a.id}/trail?date={day}'>"
        f"{esc(a.code)} · {esc(a.full_name)}</a></li>"
        for a in agents
    )
    return (
        "<!doctype html><html lang='es'><head><meta charset='utf-8'>"
        f"<title>campo · despacho {day}</title><link rel='icon' href='data:,'></head>"
        "<body style='font:14px sans-serif;margin:24px'>"
        f"<h1>Despacho del {day}</h1><p><a class='campo-live-link' href='/maps/live'>"
        "Mapa en vivo de los gestores</a> · <a class='campo-contacts-link' "
        "href='/maps/contacts'>Mapa de calor de contactos</a></p>"
        f"<h2>Planes</h2><ul>{plan_items}</ul><h2>Recorridos</h2><ul>{trail_items}</ul>"
        "</body></html>"
    )
