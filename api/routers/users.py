"""Users of the tenant (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from api.deps import Admin
from api.schemas import MAX_ID, PasswordOut, UserIn, UserOut, UserPatch
from geo.accounts.users import create_user, list_users, reset_password, update_user

router = APIRouter(prefix="/v1/users", tags=["users"])
UserId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("", response_model=list[UserOut])
def users(caller: Admin) -> list[UserOut]:
    return [
        UserOut.model_validate(u) for u in list_users(caller.session, tenant_id=caller.tenant_id)
    ]


@router.patch("/{user_id}", response_model=UserOut)
def change_user(caller: Admin, user_id: UserId, body: UserPatch) -> UserOut:
    """Rename, change the role of, deactivate or reactivate a user; audited."""
    user = update_user(
        caller.session,
        tenant_id=caller.tenant_id,
        user_id=user_id,
        actor_id=caller.principal.user_id,
        **body.model_dump(),
    )
    return UserOut.model_validate(user)


@router.post("/{user_id}/password-reset", response_model=PasswordOut)
def new_password_for(caller: Admin, user_id: UserId) -> PasswordOut:
    """A new random password, returned this once; the old one stops working."""
    password = reset_password(
        caller.session,
        tenant_id=caller.tenant_id,
        user_id=user_id,
        actor_id=caller.principal.user_id,
    )
    return PasswordOut(password=password)


@router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def new_user(caller: Admin, body: UserIn) -> UserOut:
    user = create_user(
        caller.session,
        tenant_id=caller.tenant_id,
        actor_id=caller.principal.user_id,
        **body.model_dump(),
    )
    return UserOut.model_validate(user)
