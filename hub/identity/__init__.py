"""Identity and access: users with roles, argon2 passwords, bearer tokens, API keys."""

from hub.identity.roles import Principal, Role
from hub.identity.service import IdentityService, UserView

__all__ = ["IdentityService", "Principal", "Role", "UserView"]
