"""Users of the tenant (admins only)."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import Admin
from api.schemas import UserIn, UserOut
from geo.accounts.users import create_user, list_users

router = APIRouter(prefix="/v1/users", tags=["users"])


@router.get("", response_model=list[UserOut])
def users(caller: Admin) -> list[UserOut]:
    return [
        UserOut.model_validate(u) for u in list_users(caller.session, tenant_id=caller.tenant_id)
    ]


@router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def new_user(caller: Admin, body: UserIn) -> UserOut:
    user = create_user(caller.session, tenant_id=caller.tenant_id, **body.model_dump())
    return UserOut.model_validate(user)
