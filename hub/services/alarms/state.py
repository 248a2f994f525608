"""Rule state in the relational database (rules.ports.RuleStateStore)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.domain import StoredRule
from hub.storage import Database
from hub.storage.models import RuleStateRow


class SqlRuleStateStore:
    """Rule state in the relational database (rules.ports.RuleStateStore)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def load(self) -> dict[str, StoredRule]:
        """Every stored rule by id."""
        with self._db.session() as s:
            return {
                r.rule_id: StoredRule(state=dict(r.state), disabled=r.disabled, error=r.error)
                for r in s.scalars(select(RuleStateRow))
            }

    def save(self, rules: dict[str, StoredRule]) -> None:
        """Upsert the given rules' state in one transaction."""
        with self._db.session() as s:
            self.save_in(s, rules)

    @staticmethod
    def save_in(s: Session, rules: Mapping[str, StoredRule]) -> None:
        """Upsert the given rules' state in the caller's transaction."""
        for rule_id, stored in rules.items():
            row = s.get(RuleStateRow, rule_id) or RuleStateRow(rule_id=rule_id)
            row.state = dict(stored.state)
            row.disabled = stored.disabled
            row.error = stored.error
            s.add(row)
